package report

import (
	"path"
	"regexp"
	"strings"
)

var (
	// sourceLoc matches "path/file.ext:line" as test frameworks print it in
	// messages and stack traces: after a space, a bracket, a quote or file://,
	// with an extension that starts with a letter so that "127.0.0.1:8080"
	// is not taken for a file.
	sourceLoc = regexp.MustCompile(`(?:^|[\s("'=\[<]|file://)(/?[\w.@+-][\w./@+-]*\.[A-Za-z]\w*):(\d+)`)
	// perlLoc matches the "at t/orders.t line 12." of TAP producers written
	// in Perl.
	perlLoc = regexp.MustCompile(`\bat (\S+) line (\d+)\b`)

	// goLogLoc matches the prefix go test puts on t.Log and t.Error lines.
	goLogLoc = regexp.MustCompile(`^\s+([\w.+-]+\.go):(\d+): `)
	// goFrameLoc matches a frame's file line in a goroutine trace.
	goFrameLoc = regexp.MustCompile(`^\t(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?$`)
	// goCompileLoc matches a compiler or vet message.
	goCompileLoc = regexp.MustCompile(`^(\S+\.go):(\d+)(?::\d+)?: `)
)

// ignoredSource reports whether a location lies in code the agent did not
// write: installed dependencies and the Go runtime and testing packages.
func ignoredSource(p string) bool {
	for _, s := range []string{"node_modules/", "site-packages/", "/pkg/mod/", "/src/runtime/", "/src/testing/"} {
		if strings.Contains(p, s) {
			return true
		}
	}
	return path.Base(p) == "_testmain.go"
}

// findLocation returns the first file:line in text that is not in ignored
// code, or "".
func findLocation(text string) string {
	if locs := findLocations(text); len(locs) > 0 {
		return locs[0].String()
	}
	return ""
}

// location is a file and line found in a failure's text.
type location struct{ file, line string }

func (l location) String() string { return l.file + ":" + l.line }

// findLocations returns every file:line in text that is not in ignored code,
// in order.
func findLocations(text string) []location {
	var locs []location
	for _, line := range strings.Split(text, "\n") {
		for _, m := range sourceLoc.FindAllStringSubmatch(line, -1) {
			if !ignoredSource(m[1]) {
				locs = append(locs, location{m[1], m[2]})
			}
		}
		if m := perlLoc.FindStringSubmatch(line); m != nil && !ignoredSource(m[1]) {
			locs = append(locs, location{m[1], m[2]})
		}
	}
	return locs
}

// goLocator finds where a Go test failed, line by line as its output
// streams. A panic's first frame outside the Go tree wins, because that is
// where the test broke. Otherwise the last t.Error-style line wins, not the
// first: go test prints t.Log and t.Error alike, and a test usually logs
// what it is doing before the check that fails, while t.Fatal ends it.
// Compiler messages come last, for build failures.
type goLocator struct {
	panicked bool
	goroot   string // "/usr/local/go/src/", learned from the runtime's frames
	frame    string
	log      string
	compile  string
}

func (l *goLocator) line(s string) {
	switch {
	case strings.HasPrefix(s, "panic: "):
		l.panicked = true
	case l.panicked && l.frame == "":
		m := goFrameLoc.FindStringSubmatch(s)
		if m == nil {
			return
		}
		file := m[1]
		for _, std := range []string{"/src/runtime/", "/src/testing/"} {
			if i := strings.Index(file, std); i >= 0 {
				l.goroot = file[:i+len("/src/")]
			}
		}
		if (l.goroot != "" && strings.HasPrefix(file, l.goroot)) || ignoredSource(file) {
			return
		}
		l.frame = file + ":" + m[2]
	}
	if m := goLogLoc.FindStringSubmatch(s); m != nil {
		l.log = m[1] + ":" + m[2]
	} else if m := goCompileLoc.FindStringSubmatch(s); m != nil && l.compile == "" {
		l.compile = m[1] + ":" + m[2]
	}
}

func (l *goLocator) location() string {
	switch {
	case l.frame != "":
		return l.frame
	case l.log != "":
		return l.log
	}
	return l.compile
}
