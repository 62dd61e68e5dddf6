package bench

// The inner loop of an agent: a one-line change, then the unit suite. Side
// by side in one run, each round after its own one-line change in one
// package of the example shop:
//
//	WTENV_TEST_FULL=1 go test -run '^$' -bench Loop -benchtime 5x ./bench
//
// BenchmarkLoopUnit times `go test ./...` on the host (warm), `wtenv test
// unit` (CLI) and run_unit_tests (MCP, one `wtenv serve`), then the first
// `wtenv test unit` in a second worktree of the repository (its caches
// shared with the first). BenchmarkLoopE2E times the e2e suite the same
// way, against a running stack, beside the same tests run on the host
// against that stack's addresses (`wtenv env`).
//
// Metrics are medians over the rounds, in seconds, and ratios to the host.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// loop is the example's worktree with the wtenv binary and one MCP
// session on it.
type loop struct {
	b    *testing.B
	root string
	bin  string
	mcp  *mcp.ClientSession
}

func newLoop(b *testing.B) *loop {
	b.Helper()
	enginetest.Full(b)
	l := &loop{b: b, root: enginetest.ExampleWorktrees(b)[0], bin: enginetest.Build(b, "cmd/wtenv", false)}
	enginetest.Cleanup(b, l.root)
	client := mcp.NewClient(&mcp.Implementation{Name: "wtenv-bench", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: exec.Command(l.bin, "serve", "--worktree", l.root)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	l.mcp = cs
	return l
}

// change makes a one-line change in the orders package of root.
func (l *loop) change(root string, i int) {
	l.b.Helper()
	body := fmt.Sprintf("package orders\n\nvar benchEdit = %d\n", i)
	if err := os.WriteFile(filepath.Join(root, "internal", "orders", "bench_edit.go"), []byte(body), 0o644); err != nil {
		l.b.Fatal(err)
	}
}

// timed runs fn and returns its wall time; a failure ends the benchmark.
func (l *loop) timed(what string, fn func() error) float64 {
	l.b.Helper()
	start := time.Now()
	if err := fn(); err != nil {
		l.b.Fatalf("%s: %v", what, err)
	}
	return time.Since(start).Seconds()
}

func (l *loop) host(root string, env []string, args ...string) func() error {
	return func() error {
		cmd := exec.Command("go", append([]string{"test"}, args...)...)
		cmd.Dir = root
		cmd.Env = append(append(os.Environ(), "GOFLAGS=-mod=vendor"), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	}
}

func (l *loop) cli(root, suite string) func() error {
	return func() error {
		out, err := exec.Command(l.bin, "test", suite, "--worktree", root).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	}
}

func (l *loop) tool(name string) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		res, err := l.mcp.CallTool(ctx, &mcp.CallToolParams{Name: name})
		if err == nil && res.IsError {
			err = fmt.Errorf("%s returned an error: %v", name, res.Content)
		}
		return err
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// reportSides reports the three sides' medians and their ratios to the
// host's, and returns the CLI's median.
func reportSides(b *testing.B, host, cli, tool []float64) float64 {
	h, c, t := median(host), median(cli), median(tool)
	b.ReportMetric(h, "host_s")
	b.ReportMetric(c, "cli_s")
	b.ReportMetric(t, "mcp_s")
	b.ReportMetric(c/h, "cli_x")
	b.ReportMetric(t/h, "mcp_x")
	return c
}

func BenchmarkLoopUnit(b *testing.B) {
	l := newLoop(b)
	// Warm each side once: the host's build cache, the test image and the
	// caches' volumes.
	l.timed("host warm-up", l.host(l.root, nil, "./..."))
	cold := l.timed("first wtenv test unit", l.cli(l.root, "unit"))
	l.timed("first run_unit_tests", l.tool("run_unit_tests"))
	var host, cli, tool []float64
	b.ResetTimer()
	for i := range b.N {
		l.change(l.root, 3*i)
		host = append(host, l.timed("go test", l.host(l.root, nil, "./...")))
		l.change(l.root, 3*i+1)
		cli = append(cli, l.timed("wtenv test unit", l.cli(l.root, "unit")))
		l.change(l.root, 3*i+2)
		tool = append(tool, l.timed("run_unit_tests", l.tool("run_unit_tests")))
	}
	b.StopTimer()
	second := enginetest.Worktree(b, l.root, "bench/second")
	enginetest.Cleanup(b, second)
	first := l.timed("first wtenv test unit in a second worktree", l.cli(second, "unit"))
	c := reportSides(b, host, cli, tool)
	b.ReportMetric(cold, "first_s")
	b.ReportMetric(first, "second_first_s")
	b.ReportMetric(first/c, "second_x")
	b.Logf("host %v\ncli %v\nmcp %v\nfirst run in the first worktree %.2fs, in a second worktree %.2fs", host, cli, tool, cold, first)
}

func BenchmarkLoopE2E(b *testing.B) {
	l := newLoop(b)
	l.timed("first wtenv test e2e (brings the stack up)", l.cli(l.root, "e2e"))
	l.timed("first run_e2e_tests", l.tool("run_e2e_tests"))
	out, err := exec.Command(l.bin, "env", "--worktree", l.root).Output()
	if err != nil {
		b.Fatal(err)
	}
	var env []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, value, _ := strings.Cut(line, "=")
		switch name {
		case "WTENV_API_URL":
			env = append(env, "SHOP_API_URL="+value)
		case "WTENV_WEB_URL":
			env = append(env, "SHOP_WEB_URL="+value)
		}
	}
	if len(env) != 2 {
		b.Fatalf("wtenv env gave no API and web addresses:\n%s", out)
	}
	hostE2E := l.host(l.root, env, "-tags", "e2e", "-count=1", "./e2e/...")
	l.timed("host e2e warm-up", hostE2E)
	var host, cli, tool []float64
	b.ResetTimer()
	for i := range b.N {
		l.change(l.root, 3*i)
		host = append(host, l.timed("go test e2e on the host", hostE2E))
		l.change(l.root, 3*i+1)
		cli = append(cli, l.timed("wtenv test e2e", l.cli(l.root, "e2e")))
		l.change(l.root, 3*i+2)
		tool = append(tool, l.timed("run_e2e_tests", l.tool("run_e2e_tests")))
	}
	b.StopTimer()
	reportSides(b, host, cli, tool)
	b.Logf("host %v\ncli %v\nmcp %v", host, cli, tool)
}
