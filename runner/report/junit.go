package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// junitParser reads the JUnit XML report a suite wrote once it has exited.
// The stream only feeds the tail; there are no counts while the suite runs.
//
// A report left by an earlier run must not pass for this run's, so the
// parser notes the modification time of the file it finds when it is made,
// and refuses the same file unchanged. Comparing with the clock instead would
// trust the clocks of the host and of a container's file system to agree.
type junitParser struct {
	mu       sync.Mutex
	path     string
	previous time.Time // modification time of the report before the run, if any
	tail     tailBuffer
}

func newJUnit(path string) *junitParser {
	p := &junitParser{path: path, tail: tailBuffer{limit: MaxTail}}
	if st, err := os.Stat(path); err == nil {
		p.previous = st.ModTime()
	}
	return p
}

func (p *junitParser) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tail.write(b)
	return len(b), nil
}

func (p *junitParser) Counts() Counts { return Counts{} }

func (p *junitParser) Result(exitCode int) Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	tail := p.tail.tail()
	var l failureList
	c, err := p.read(&l)
	if err != nil {
		l = failureList{}
		l.add(p.reportFailure(err, tail))
		c = Counts{}
	}
	return finish(c, l, tail, exitCode)
}

var errStale = errors.New("stale report")

func (p *junitParser) read(l *failureList) (Counts, error) {
	f, err := os.Open(p.path)
	if err != nil {
		return Counts{}, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !p.previous.IsZero() && st.ModTime().Equal(p.previous) {
		return Counts{}, errStale
	}
	return parseJUnit(f, l)
}

// reportFailure explains a report that could not be used, and what to check.
func (p *junitParser) reportFailure(err error, tail string) Failure {
	var name, why string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		name = fmt.Sprintf("junit report %s not found", p.path)
		why = fmt.Sprintf("The suite did not write its JUnit report to %s. Check that the test command writes JUnit XML to the path named by report in wtenv.yaml.", p.path)
	case errors.Is(err, errStale):
		name = fmt.Sprintf("junit report %s not rewritten", p.path)
		why = fmt.Sprintf("The JUnit report at %s is the one an earlier run left: the suite did not write it this time. Check that the test command writes JUnit XML to the path named by report in wtenv.yaml.", p.path)
	default:
		name = fmt.Sprintf("junit report %s unreadable", p.path)
		why = fmt.Sprintf("The JUnit report at %s could not be read: %v.", p.path, err)
	}
	out := why
	if tail != "" {
		out += "\n\nEnd of the output:\n" + lastBytes(tail, MaxFailureOutput-len(out)-32)
	}
	return Failure{Name: name, Output: firstBytes(out, MaxFailureOutput)}
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	File      string         `xml:"file,attr"`
	Line      string         `xml:"line,attr"`
	Failures  []junitProblem `xml:"failure"`
	Errors    []junitProblem `xml:"error"`
	Skipped   *struct{}      `xml:"skipped"`
	SystemOut string         `xml:"system-out"`
	SystemErr string         `xml:"system-err"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// parseJUnit counts the testcase elements of a report wherever they sit:
// under <testsuites>, a lone <testsuite>, or suites nested in suites.
func parseJUnit(r io.Reader, l *failureList) (Counts, error) {
	var c Counts
	d := xml.NewDecoder(r)
	// Reports declare encodings such as ISO-8859-1; their text is read as is.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	seen := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Counts{}, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "testsuites", "testsuite":
			seen = true
		case "testcase":
			var tc junitCase
			if err := d.DecodeElement(&tc, &se); err != nil {
				return Counts{}, err
			}
			switch {
			case len(tc.Failures) > 0 || len(tc.Errors) > 0:
				c.Failed++
				l.add(tc.failure())
			case tc.Skipped != nil:
				c.Skipped++
			default:
				c.Passed++
			}
		}
	}
	if !seen {
		return Counts{}, errors.New("no <testsuites> or <testsuite> element: not a JUnit XML report")
	}
	return c, nil
}

func (tc junitCase) failure() Failure {
	var msg, text strings.Builder
	for _, p := range append(tc.Failures, tc.Errors...) {
		m := strings.TrimSpace(p.Message)
		t := strings.Trim(p.Text, "\n")
		if m != "" && !strings.Contains(t, m) {
			if msg.Len() > 0 {
				msg.WriteString("\n")
			}
			msg.WriteString(m)
		}
		if t != "" {
			text.WriteString(t)
			text.WriteString("\n")
		}
	}
	out := text.String()
	if msg.Len() > 0 {
		out = msg.String() + "\n" + out
	}
	out = clip(out, msg.String(), 0)
	// The test's own output comes after the failure, in the room left.
	for _, s := range []struct{ name, text string }{{"system-out", tc.SystemOut}, {"system-err", tc.SystemErr}} {
		st := strings.Trim(s.text, "\n")
		header := "[" + s.name + "]\n"
		room := MaxFailureOutput - len(out) - len(header) - 1
		if st == "" || room < 64 {
			continue
		}
		out += header + lastBytes(st, room) + "\n"
	}
	return Failure{Name: tc.name(), Location: tc.location(text.String()), Output: out}
}

// name joins the class and the test: dotted for packages and classes
// (tests.test_math.test_add, github.com/shop/orders.TestTotal), with " > "
// for a class that is a file (src/math.test.ts > adds), and the test alone
// when the class is empty or already part of its name.
func (tc junitCase) name() string {
	cls := strings.TrimSpace(tc.Classname)
	if cls == "" || strings.Contains(tc.Name, cls) {
		return tc.Name
	}
	if strings.Contains(cls, "/") && strings.Contains(path.Base(cls), ".") {
		return cls + " > " + tc.Name
	}
	return cls + "." + tc.Name
}

// location prefers a failing line the text names in the test's own file:
// the file of the file attribute, or the file named after the test's class
// (OrderServiceTest.java for com.shop.OrderServiceTest), so that frames of
// assertion libraries above it do not win. Then come the locations go test
// prints, the file and line attributes (often the test's first line), and
// the first location in the text.
func (tc junitCase) location(text string) string {
	locs := findLocations(text)
	class := tc.Classname[strings.LastIndexByte(tc.Classname, '.')+1:]
	for _, l := range locs {
		base := path.Base(l.file)
		if tc.File != "" && base == path.Base(tc.File) {
			return l.String()
		}
		if class != "" && strings.TrimSuffix(base, path.Ext(base)) == class {
			return l.String()
		}
	}
	// go test output carried in the report (go-junit-report and its kind)
	// is read as go-test-json reads it.
	var gl goLocator
	for _, l := range strings.Split(text, "\n") {
		gl.line(l)
	}
	if l := gl.location(); l != "" {
		return l
	}
	if tc.File != "" {
		if n, err := strconv.Atoi(tc.Line); err == nil && n > 0 {
			return tc.File + ":" + tc.Line
		}
		return tc.File
	}
	if len(locs) > 0 {
		return locs[0].String()
	}
	return ""
}
