package report

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// goEvent is one line of `go test -json` (cmd/test2json), plus the build
// events go test has written since Go 1.24.
type goEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail
	FailedBuild string // on a package's fail event when its build failed
}

// goFraming matches the lines go test writes around a test's own output;
// they say nothing a Failure does not already say.
var goFraming = regexp.MustCompile(`^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\s|--- (?:FAIL|PASS|SKIP): )`)

type goTest struct {
	out       *capture
	loc       goLocator
	hasSub    bool // a subtest of it ran
	subFailed bool // a subtest (at any depth) failed
}

func (t *goTest) line(s string) {
	t.loc.line(s)
	if !goFraming.MatchString(s) {
		t.out.line(s)
	}
}

type goPackage struct {
	name    string // import path
	out     *capture
	loc     goLocator
	running map[string]*goTest
	failed  int // tests of the package that failed
}

// goTestParser parses the event stream of `go test -json`. Lines that are not
// events (build output before Go 1.24, or with GODEBUG=gotestjsonbuildtext=1,
// and anything else the command prints) go to the tail, and build output is
// kept for the package whose build failed.
type goTestParser struct {
	mu       sync.Mutex
	lines    lineSplitter
	tail     tailBuffer
	counts   Counts
	failures failureList
	packages map[string]*goPackage
	// builds holds build output by the import path it names: from
	// build-output events, or from "# path" text blocks.
	builds    map[string]*strings.Builder
	buildKeys []string // in order of appearance
	textBuild string   // key of the "# path" block text lines go to
}

func newGoTest() *goTestParser {
	p := &goTestParser{
		tail:     tailBuffer{limit: MaxTail},
		packages: map[string]*goPackage{},
		builds:   map[string]*strings.Builder{},
	}
	p.lines.handle = p.line
	return p
}

func (p *goTestParser) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines.write(b)
	return len(b), nil
}

func (p *goTestParser) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

func (p *goTestParser) Result(exitCode int) Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines.flush()
	// Tests still running when the output ended were cut off: by wtenv's
	// timeout, or by a crash that took go test down with them.
	for _, name := range sortedKeys(p.packages) {
		pkg := p.packages[name]
		if len(pkg.running) > 0 {
			for _, t := range pkg.running {
				t.out.line("[the output ended before this test reported a result]")
			}
			p.packageDone(name, pkg, "")
		}
	}
	return finish(p.counts, p.failures, p.tail.tail(), exitCode)
}

func (p *goTestParser) line(s string) {
	var e goEvent
	if strings.HasPrefix(s, "{") && json.Unmarshal([]byte(s), &e) == nil && e.Action != "" {
		p.event(e)
		return
	}
	p.tail.writeString(s + "\n")
	if rest, ok := strings.CutPrefix(s, "# "); ok {
		p.textBuild, _, _ = strings.Cut(rest, " ")
	}
	if p.textBuild != "" {
		p.buildOutput(p.textBuild, s+"\n")
	}
}

func (p *goTestParser) buildOutput(key, text string) {
	b := p.builds[key]
	if b == nil {
		b = &strings.Builder{}
		p.builds[key] = b
		p.buildKeys = append(p.buildKeys, key)
	}
	if b.Len() < 4*MaxFailureOutput {
		b.WriteString(text)
	}
}

func (p *goTestParser) event(e goEvent) {
	switch e.Action {
	case "build-output":
		p.tail.writeString(e.Output)
		p.buildOutput(e.ImportPath, e.Output)
		return
	case "build-fail":
		return
	}
	pkg := p.packages[e.Package]
	if pkg == nil {
		pkg = &goPackage{name: e.Package, out: newCapture(), running: map[string]*goTest{}}
		p.packages[e.Package] = pkg
	}
	if e.Action == "output" {
		p.tail.writeString(e.Output)
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			for _, l := range splitOutput(e.Output) {
				pkg.loc.line(l)
				pkg.out.line(l)
			}
		case "fail":
			p.packageDone(e.Package, pkg, e.FailedBuild)
		case "pass", "skip":
			delete(p.packages, e.Package)
		}
		return
	}
	t := pkg.running[e.Test]
	if t == nil {
		t = &goTest{out: newCapture()}
		pkg.running[e.Test] = t
		// Parents are still running while their subtests run.
		for parent := e.Test; ; {
			i := strings.LastIndexByte(parent, '/')
			if i < 0 {
				break
			}
			parent = parent[:i]
			if pt := pkg.running[parent]; pt != nil {
				pt.hasSub = true
			}
		}
	}
	switch e.Action {
	case "output":
		for _, l := range splitOutput(e.Output) {
			t.line(l)
		}
	case "pass":
		if !t.hasSub {
			p.counts.Passed++
		}
		delete(pkg.running, e.Test)
	case "skip":
		if !t.hasSub {
			p.counts.Skipped++
		}
		delete(pkg.running, e.Test)
	case "fail":
		p.testFailed(pkg, e.Test, t)
	}
}

// testFailed counts a failed test unless the failure is its subtests'.
func (p *goTestParser) testFailed(pkg *goPackage, name string, t *goTest) {
	delete(pkg.running, name)
	if t.hasSub && t.subFailed {
		return
	}
	p.counts.Failed++
	pkg.failed++
	p.failures.add(Failure{Name: name, Location: t.loc.location(), Output: t.out.text(), Package: pkg.name})
	for parent := name; ; {
		i := strings.LastIndexByte(parent, '/')
		if i < 0 {
			break
		}
		parent = parent[:i]
		if pt := pkg.running[parent]; pt != nil {
			pt.subFailed = true
		}
	}
}

// packageDone handles a package that failed. Tests that never reported a
// result (a timeout, os.Exit or a crash in the middle) failed with it,
// deepest first so that their parents see the failure. A package that failed
// without a failing test (its build, TestMain, an init panic) is itself a
// Failure named after the package.
func (p *goTestParser) packageDone(name string, pkg *goPackage, failedBuild string) {
	running := sortedKeys(pkg.running)
	sort.SliceStable(running, func(i, j int) bool {
		return strings.Count(running[i], "/") > strings.Count(running[j], "/")
	})
	for _, tn := range running {
		if t := pkg.running[tn]; t != nil {
			p.testFailed(pkg, tn, t)
		}
	}
	if pkg.failed == 0 {
		out := p.buildText(name, failedBuild, string(pkg.out.out.buf))
		loc := goLocator{}
		for _, l := range strings.Split(out, "\n") {
			loc.line(l)
		}
		if l := pkg.loc.location(); l != "" && loc.location() == "" {
			loc.log = l
		}
		p.failures.add(Failure{Name: name, Location: loc.location(), Output: clip(out, pkg.out.panic, pkg.out.out.dropped), Package: name})
	}
	delete(p.packages, name)
}

// buildText puts the build output that explains a package's failure in front
// of the package's own output: the build go test named in FailedBuild, else a
// text block headed with the package's path, else, when the package says its
// build failed, every text block (a dependency that did not compile, before
// go test named it). Every package that failed because of one build gets that
// build's output.
func (p *goTestParser) buildText(pkg, failedBuild, own string) string {
	var b strings.Builder
	use := func(key string) {
		if bt := p.builds[key]; bt != nil {
			b.WriteString(bt.String())
		}
	}
	switch {
	case failedBuild != "":
		use(failedBuild)
	case p.builds[pkg] != nil:
		use(pkg)
	case strings.Contains(own, "[build failed]") || strings.Contains(own, "[setup failed]"):
		for _, k := range p.buildKeys {
			use(k)
		}
	}
	b.WriteString(own)
	return b.String()
}

// splitOutput splits an event's Output into lines. test2json sends one line
// per event, but a line longer than its buffer comes in several events; the
// pieces are kept as lines of their own.
func splitOutput(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
