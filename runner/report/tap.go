package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

var (
	tapPoint     = regexp.MustCompile(`^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$`)
	tapPlan      = regexp.MustCompile(`^(\d+)\.\.(\d+)\s*(?:#.*)?$`)
	tapDirective = regexp.MustCompile(`(?i)^\s*(skip|todo)\S*\s*(.*)$`)
	tapBail      = regexp.MustCompile(`(?i)^Bail out!\s*(.*)$`)
	tapSubtest   = regexp.MustCompile(`^# Subtest:?\s*(.*)$`)
	// tapSummary matches the totals some producers print as comments at the
	// end ("# tests 12", "# pass 11"); they belong to no test.
	tapSummary = regexp.MustCompile(`^#\s*(?:tests|suites|pass|fail|failed|cancelled|skipped|skip|todo|duration_ms|ok|not ok)\b`)
	tapYAMLKey = regexp.MustCompile(`^\s*(file|fileName|line|lineNumber|at|location):\s*['"]?(.*?)['"]?\s*$`)
)

// tapFrame is one level of (sub)test points, by indentation.
type tapFrame struct {
	indent int
	plan   int // -1 when no plan was seen
	ran    int
	failed bool // a failure was counted at this level or below
}

type tapHeader struct {
	indent int
	name   string
}

// tapParser parses TAP 12, 13 and 14 from the stream. Subtests are indented
// blocks that end with their parent's test point; a YAML diagnostics block
// (`  ---` to `  ...`) and comment lines after a failing point are its output.
type tapParser struct {
	mu       sync.Mutex
	lines    lineSplitter
	tail     tailBuffer
	counts   Counts
	failures failureList

	frames  []*tapFrame
	headers []tapHeader // "# Subtest: name" lines, for names of nested tests

	// The failing test point whose diagnostics are being collected.
	open        *Failure
	openIndent  int
	yaml        []string
	inYAML      bool
	yamlIndent  int
	lastIndent  int // indentation of the last test point
	lastIsPoint bool
	bailed      bool
}

// Planned is the number of tests the TAP plan announced, or -1 before a
// plan: the total for progress.
func (p *tapParser) Planned() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames[0].plan
}

func newTAP() *tapParser {
	p := &tapParser{tail: tailBuffer{limit: MaxTail}, frames: []*tapFrame{{plan: -1}}}
	p.lines.handle = p.line
	return p
}

func (p *tapParser) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tail.write(b)
	p.lines.write(b)
	return len(b), nil
}

func (p *tapParser) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

func (p *tapParser) Result(exitCode int) Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines.flush()
	p.closeOpen()
	p.closeDeeper(0)
	if root := p.frames[0]; root.plan >= 0 && root.ran != root.plan && !p.bailed {
		p.failures.add(Failure{
			Name:   fmt.Sprintf("planned %d tests, ran %d", root.plan, root.ran),
			Output: fmt.Sprintf("The TAP plan announced %d tests but %d reported a result: the suite stopped early or ran tests it did not plan.", root.plan, root.ran),
		})
	}
	return finish(p.counts, p.failures, p.tail.tail(), exitCode)
}

func (p *tapParser) line(raw string) {
	indent, s := tapIndent(raw)
	if p.inYAML {
		if s == "..." && indent <= p.yamlIndent {
			p.inYAML = false
			return
		}
		if s == "" || indent >= p.yamlIndent {
			if p.open != nil {
				p.yaml = append(p.yaml, cutIndent(raw, p.yamlIndent))
			}
			return
		}
		p.inYAML = false // a block that never ended; the line is TAP again
	}
	if s == "---" && p.lastIsPoint && indent > p.lastIndent {
		p.inYAML, p.yamlIndent = true, indent
		return
	}
	p.lastIsPoint = false
	switch {
	case strings.HasPrefix(s, "#"):
		p.comment(indent, s)
	case tapBail.MatchString(s):
		p.closeOpen()
		p.bailed = true
		p.failures.add(Failure{Name: "Bail out!", Output: s})
	case tapPlan.MatchString(s):
		p.closeOpen()
		m := tapPlan.FindStringSubmatch(s)
		p.closeDeeper(indent)
		n, _ := strconv.Atoi(m[2])
		p.frameAt(indent).plan = n
	case tapPoint.MatchString(s):
		p.closeOpen()
		p.point(indent, s)
	}
	// Other lines (a test's console output, TAP version, pragmas) are only
	// in the tail.
}

func (p *tapParser) comment(indent int, s string) {
	if m := tapSubtest.FindStringSubmatch(s); m != nil {
		p.closeOpen()
		p.popHeaders(indent - 1)
		p.headers = append(p.headers, tapHeader{indent, strings.TrimSpace(m[1])})
		return
	}
	if p.open != nil && indent >= p.openIndent && !tapSummary.MatchString(s) {
		p.open.Output += s + "\n"
		return
	}
	p.closeOpen()
}

func (p *tapParser) point(indent int, s string) {
	m := tapPoint.FindStringSubmatch(s)
	ok := m[1] == "ok"
	desc, directive, _ := cutDirective(m[3])
	var skip, todo bool
	if d := tapDirective.FindStringSubmatch(directive); d != nil {
		skip = strings.EqualFold(d[1], "skip")
		todo = strings.EqualFold(d[1], "todo")
	}
	if desc == "" {
		desc = "test " + m[2]
	}
	children, childFailed := p.closeDeeper(indent)
	f := p.frameAt(indent)
	f.ran++
	p.lastIsPoint, p.lastIndent = true, indent
	p.popHeaders(indent)
	failed := false
	switch {
	case children:
		failed = !ok && !skip && !todo && !childFailed
		if failed {
			p.counts.Failed++
		}
	case skip, todo && !ok:
		p.counts.Skipped++
	case ok:
		p.counts.Passed++
	default:
		failed = true
		p.counts.Failed++
	}
	f.failed = f.failed || failed || childFailed
	if failed {
		p.open = &Failure{Name: p.name(indent, desc), Output: s + "\n"}
		p.openIndent = indent
		p.yaml = nil
	}
}

// closeOpen finishes the failure being collected: its YAML block goes after
// the test point line, and its location comes from the block's file and line
// keys (file and line as node-tap and tape write them, or fileName and
// lineNumber, or an at or location string), else from any file:line in the
// diagnostics.
func (p *tapParser) closeOpen() {
	if p.open == nil {
		return
	}
	f := *p.open
	p.open = nil
	yaml := strings.Join(p.yaml, "\n")
	if yaml != "" {
		point, comments, _ := strings.Cut(f.Output, "\n")
		f.Output = point + "\n" + yaml + "\n" + comments
	}
	f.Location = yamlLocation(p.yaml)
	if f.Location == "" {
		f.Location = findLocation(f.Output)
	}
	f.Output = clip(f.Output, "", 0)
	p.failures.add(f)
	p.yaml = nil
}

func yamlLocation(lines []string) string {
	var file, line, at string
	for _, l := range lines {
		m := tapYAMLKey.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		switch v := m[2]; {
		case (m[1] == "file" || m[1] == "fileName") && file == "":
			file = v
		case (m[1] == "line" || m[1] == "lineNumber") && line == "":
			line = v
		case (m[1] == "at" || m[1] == "location") && at == "" && v != "":
			at = v
		}
	}
	if _, err := strconv.Atoi(line); file != "" && err == nil {
		return file + ":" + line
	}
	if at != "" {
		if loc := findLocation(at); loc != "" {
			return loc
		}
	}
	return ""
}

// closeDeeper ends the subtest blocks indented deeper than indent and tells
// whether any ran and whether a failure was counted in them.
func (p *tapParser) closeDeeper(indent int) (children, failed bool) {
	for len(p.frames) > 1 && p.frames[len(p.frames)-1].indent > indent {
		f := p.frames[len(p.frames)-1]
		p.frames = p.frames[:len(p.frames)-1]
		children = children || f.ran > 0
		failed = failed || f.failed
	}
	return children, failed
}

func (p *tapParser) frameAt(indent int) *tapFrame {
	top := p.frames[len(p.frames)-1]
	if top.indent == indent {
		return top
	}
	f := &tapFrame{indent: indent, plan: -1}
	p.frames = append(p.frames, f)
	return f
}

func (p *tapParser) popHeaders(indent int) {
	for len(p.headers) > 0 && p.headers[len(p.headers)-1].indent > indent {
		p.headers = p.headers[:len(p.headers)-1]
	}
}

// name prefixes a test's description with the names of the subtests it is
// in. Producers put "# Subtest: name" either at the parent's indentation
// (node) or at the children's (TAP 14); a header at the test's own
// indentation that repeats its description names the test itself.
func (p *tapParser) name(indent int, desc string) string {
	var parts []string
	for _, h := range p.headers {
		if h.name != "" && (h.indent < indent || (h.indent == indent && h.name != desc)) {
			parts = append(parts, h.name)
		}
	}
	return strings.Join(append(parts, desc), " > ")
}

// cutDirective splits a description at its first unescaped '#' and undoes
// the \# and \\ escapes.
func cutDirective(s string) (desc, directive string, found bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == '#' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case s[i] == '#':
			return strings.TrimSpace(b.String()), s[i+1:], true
		default:
			b.WriteByte(s[i])
		}
	}
	return strings.TrimSpace(b.String()), "", false
}

// tapIndent returns a line's indentation, a tab counting as four spaces, and
// the line without it.
func tapIndent(s string) (int, string) {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return n, strings.TrimRight(s[i:], " \t")
		}
	}
	return n, ""
}

// cutIndent removes up to n columns of indentation.
func cutIndent(s string, n int) string {
	i := 0
	for col := 0; i < len(s) && col < n && (s[i] == ' ' || s[i] == '\t'); i++ {
		if s[i] == '\t' {
			col += 4
		} else {
			col++
		}
	}
	return s[i:]
}
