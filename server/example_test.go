package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/runner"
)

// Two agents in two worktrees of the example run their e2e suites at the
// same time over MCP, each against its own stack; a test broken in one
// worktree comes back as one named failure with its location and message
// while the other stays green.
func TestExampleSuitesOverMCP(t *testing.T) {
	enginetest.Full(t)
	roots := enginetest.ExampleWorktrees(t, "feature/checkout")
	a, b := connect(t, roots[0], nil), connect(t, roots[1], nil)

	// The first run builds the example's images in both worktrees at once,
	// from a cold layer cache on a fresh machine: minutes on two cores.
	runs := make([]runner.TestRun, 2)
	var wg sync.WaitGroup
	for i, s := range []*session{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.callWithin(t, 15*time.Minute, "run_e2e_tests", nil, &runs[i])
		}()
	}
	wg.Wait()
	for i, r := range runs {
		if !r.Passed || r.Counts.Passed == 0 || r.Counts.Failed != 0 {
			t.Fatalf("worktree %d: e2e %+v\n%s", i, r.Counts, r.OutputTail)
		}
	}

	broken := "//go:build e2e\n\npackage e2e\n\nimport \"testing\"\n\nfunc TestBrokenOnPurpose(t *testing.T) {\n\tt.Errorf(\"total = %d, want %d\", 4, 5)\n}\n"
	if err := os.WriteFile(filepath.Join(roots[1], "e2e", "broken_test.go"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, s := range []*session{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.call(t, "run_e2e_tests", nil, &runs[i])
		}()
	}
	wg.Wait()
	if !runs[0].Passed {
		t.Errorf("the unbroken worktree failed: %+v", runs[0].Failures)
	}
	r := runs[1]
	if r.Passed || r.Counts.Failed != 1 || len(r.Failures) != 1 {
		t.Fatalf("broken worktree: passed=%v %+v %+v", r.Passed, r.Counts, r.Failures)
	}
	f := r.Failures[0]
	if f.Name != "TestBrokenOnPurpose" || f.Location != "e2e/broken_test.go:8" || !strings.Contains(f.Output, "total = 4, want 5") {
		t.Errorf("failure %+v", f)
	}

	var unit runner.TestRun
	res := a.call(t, "run_unit_tests", map[string]any{"filter": "Total"}, &unit)
	if !unit.Passed || unit.Counts.Passed == 0 {
		t.Errorf("unit: %+v\n%s", unit.Counts, text(res))
	}
	a.mu.Lock()
	progress := strings.Join(a.progress, "\n")
	a.mu.Unlock()
	if !strings.Contains(progress, "passed") {
		t.Errorf("no counts in the suites' progress:\n%s", progress)
	}
	for _, s := range []*session{a, b} {
		s.call(t, "env_down", map[string]any{"purge": true}, nil)
	}
}
