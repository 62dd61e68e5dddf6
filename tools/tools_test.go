package tools

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
	"github.com/wtenv/wtenv/runner/report"
)

var update = flag.Bool("update", false, "rewrite golden files and the README's tool table")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tools -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed; if deliberate, run go test ./tools -update\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// Every tool's name, description, schemas and hints are pinned, so a schema
// change is always deliberate.
func TestToolSchemasGolden(t *testing.T) {
	all := New(nil).All()
	want := []string{"env_up", "env_status", "env_logs", "env_down", "env_list", "run_unit_tests", "run_e2e_tests"}
	if len(all) != len(want) {
		t.Fatalf("%d tools, want %d", len(all), len(want))
	}
	for i, st := range all {
		if st.Tool.Name != want[i] {
			t.Errorf("tool %d is %s, want %s", i, st.Tool.Name, want[i])
		}
		if st.Tool.OutputSchema.Type != "object" || len(st.Tool.OutputSchema.Properties) == 0 {
			t.Errorf("%s declares no output schema", st.Tool.Name)
		}
		b, err := json.MarshalIndent(st.Tool, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, st.Tool.Name+".json", string(b)+"\n")
	}
}

// The README's tool table is generated from the definitions.
func TestReadmeToolTable(t *testing.T) {
	const begin, end = "<!-- tools:begin -->\n", "<!-- tools:end -->"
	path := filepath.Join("..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", begin, end)
	}
	table := MarkdownTable(New(nil).All())
	if got := s[i+len(begin) : j]; got != table {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i+len(begin)]+table+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README tool table is stale; run go test ./tools -update\n--- README\n%s\n--- generated\n%s", got, table)
	}
}

// What a model reads: text summaries of representative results and the
// exact text of argument errors.
func TestModelTextGolden(t *testing.T) {
	st := stack.Stack{
		Project: "shop-feature-billing-3f2a", Worktree: "/src/shop-billing", Branch: "feature/billing", State: stack.StateRunning,
		Services: []stack.Service{
			{Name: "api", State: "running", Health: "healthy", Container: "shop-feature-billing-3f2a-api-1", MemoryBytes: 12 << 20,
				Ports: []stack.Port{{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 21480, URL: "http://127.0.0.1:21480"}}},
			{Name: "migrate", State: "exited", ExitCode: 0, Container: "shop-feature-billing-3f2a-migrate-1", Ports: []stack.Port{}},
			{Name: "dns", State: "running", Container: "shop-feature-billing-3f2a-dns-1", MemoryBytes: 2 << 20,
				Ports: []stack.Port{{ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1", HostPort: 21481}}},
		},
		MemoryBytes: 14 << 20,
		Warnings:    []string{`container_name "db" rewritten to "shop-feature-billing-3f2a-db"`},
	}
	var b strings.Builder
	section := func(title, body string) { b.WriteString("== " + title + "\n" + body + "\n\n") }
	section("running stack", summarizeStack(st))
	section("absent stack", summarizeStack(stack.Stack{Project: "shop-main-49c6", Branch: "main", State: stack.StateAbsent}))
	section("down", summarizeDown(stack.Down{Project: "shop-main-49c6", Removed: stack.Removed{Containers: 5, Networks: 1}}))
	section("list", summarizeList(stack.List{Stacks: []stack.Summary{{Project: "shop-main-49c6", Worktree: "/src/shop", Branch: "main", State: "running", MemoryBytes: 300 << 20}}}))
	section("empty list", summarizeList(stack.List{}))
	section("failing test run", runner.TestRun{
		Suite: "unit", ExitCode: 1, DurationMS: 5120,
		Counts:   report.Counts{Passed: 41, Failed: 1, Skipped: 2},
		Failures: []report.Failure{{Name: "TestOrderTotal", Location: "total_test.go:31", Output: "=== RUN   TestOrderTotal\n    total_test.go:31: total = 4, want 5\n--- FAIL: TestOrderTotal (0.00s)\n"}},
		LogPath:  "/src/shop/.wtenv/logs/unit-20261127T153012.000.log",
	}.Summary())
	section("passing test run", runner.TestRun{Suite: "e2e", Passed: true, DurationMS: 2300, Counts: report.Counts{Passed: 3}, Failures: []report.Failure{}, LogPath: "/src/shop/.wtenv/logs/e2e-20261127T153112.000.log"}.Summary())
	for _, c := range []struct {
		name string
		args any
		into any
	}{
		{"unknown argument", map[string]any{"worktree": "/elsewhere"}, &UpArgs{}},
		{"wrong type", map[string]any{"tail": "many"}, &LogsArgs{}},
		{"wrong element type", map[string]any{"services": []any{1}}, &UpArgs{}},
		{"arguments to a tool without any", map[string]any{"x": 1}, &StatusArgs{}},
	} {
		err := bindArgs(mcp.CallToolRequest{Params: mcp.CallToolParams{Arguments: c.args}}, c.into)
		if err == nil {
			err = errors.New("(no error)")
		}
		section("argument error: "+c.name, err.Error())
	}
	golden(t, "model_text.txt", b.String())
}
