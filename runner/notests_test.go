package runner

import (
	"strings"
	"testing"

	"github.com/wtenv/wtenv/runner/report"
)

// A counted run that passed and failed nothing is not a pass, whatever
// its exit code says; a plain run is judged by its exit code.
func TestNoTestsIsNotAPass(t *testing.T) {
	for _, tc := range []struct {
		name   string
		run    TestRun
		filter string
		want   string // "" when the run is not a no-tests run
	}{
		{"nothing matched the filter", TestRun{Counted: true}, "Nothing_matches", `no test matched the filter "Nothing_matches"`},
		{"no test at all", TestRun{Counted: true}, "", "the suite ran no test"},
		{"every test skipped", TestRun{Counted: true, Counts: report.Counts{Skipped: 3}}, "", "every test was skipped (3)"},
		{"tests passed", TestRun{Counted: true, Counts: report.Counts{Passed: 1}}, "", ""},
		{"a failing exit is a failure already", TestRun{Counted: true, ExitCode: 1}, "", ""},
		{"plain output has no counts", TestRun{}, "", ""},
		{"a timeout is a failure already", TestRun{Counted: true, TimedOut: true}, "", ""},
	} {
		f, ok := noTests(tc.run, tc.filter)
		if ok != (tc.want != "") || (ok && !strings.Contains(f.Output, tc.want)) {
			t.Errorf("%s: %v %+v, want %q", tc.name, ok, f, tc.want)
		}
	}
	run := TestRun{Suite: "unit", Counted: false, LogPath: "/l"}
	run.Passed = true
	if s := run.Summary(); !strings.Contains(s, "plain output, no test counts") || strings.Contains(s, "0 passed") {
		t.Errorf("plain summary: %s", s)
	}
}
