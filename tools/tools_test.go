package tools

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/wtenv/wtenv/envs"
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
	want := []string{"env_up", "env_status", "env_logs", "env_down", "env_list", "env_sleep", "run_unit_tests", "run_e2e_tests"}
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
		Suite: "unit", ExitCode: 1, DurationMS: 5120, Counted: true,
		Counts:   report.Counts{Passed: 41, Failed: 1, Skipped: 2},
		Failures: []report.Failure{{Name: "TestOrderTotal", Location: "total_test.go:31", Output: "=== RUN   TestOrderTotal\n    total_test.go:31: total = 4, want 5\n--- FAIL: TestOrderTotal (0.00s)\n"}},
		LogPath:  "/src/shop/.wtenv/logs/unit-20261127T153012.000.log",
	}.Summary())
	section("passing test run", runner.TestRun{Suite: "e2e", Passed: true, Counted: true, DurationMS: 2300, Counts: report.Counts{Passed: 3}, Failures: []report.Failure{}, LogPath: "/src/shop/.wtenv/logs/e2e-20261127T153112.000.log"}.Summary())
	// Errors go through the handlers, as the server calls them: the
	// arguments' errors before any binding, the handlers' errors as the
	// binding or the engine returned them.
	bind := &fakeBinding{err: fmt.Errorf("worktree /tmp/x (--worktree): /tmp/x: %w", envs.ErrNotWorktree)}
	tl := New(bind)
	tl.list = func(context.Context) (stack.List, error) {
		return stack.List{}, fmt.Errorf("listing stacks: %w: is Docker running? Start it, or set DOCKER_HOST", envs.ErrUnreachable)
	}
	for _, c := range argumentErrors {
		section("argument error: "+c.name, errorText(t, tl, c.tool, c.args))
	}
	if bind.calls != 0 {
		t.Errorf("the binding was asked %d times for calls whose arguments are wrong", bind.calls)
	}
	section("handler error: not a worktree", errorText(t, tl, "env_status", nil))
	section("handler error: engine unreachable", errorText(t, tl, "env_list", nil))
	golden(t, "model_text.txt", b.String())
}

// argumentErrors are calls whose arguments the input schema refuses, each
// with the exact text the model reads pinned in model_text.txt. A string
// is sent as raw JSON, as a client may put it on the wire.
var argumentErrors = []struct {
	name string
	tool string
	args any
}{
	{"unknown argument", "env_up", map[string]any{"project": "elsewhere"}},
	{"unknown arguments", "env_up", map[string]any{"project": "p", "branch": "main"}},
	{"arguments to a tool without any", "env_status", map[string]any{"x": 1}},
	{"wrong type", "env_logs", map[string]any{"tail": "many"}},
	{"not a whole number", "env_logs", `{"tail": 2.5}`},
	{"above the maximum", "env_logs", map[string]any{"tail": 5000}},
	{"below the minimum", "env_logs", map[string]any{"tail": -1}},
	{"timeout above the maximum", "env_up", map[string]any{"timeout_s": 1e9}},
	{"timeout below the minimum", "run_e2e_tests", map[string]any{"timeout_s": -5}},
	{"string for an array", "env_up", map[string]any{"services": "web"}},
	{"wrong element type", "env_up", map[string]any{"services": []any{"web", 1}}},
	{"several mistakes", "env_logs", map[string]any{"tail": 5000, "project": "elsewhere"}},
	{"an array for the arguments", "env_up", `["web"]`},
	{"a string for the arguments", "env_status", `"all"`},
}

// fakeBinding fails every call and counts them.
type fakeBinding struct {
	err   error
	calls int
}

func (b *fakeBinding) Env(context.Context, mcp.CallToolRequest) (*envs.Env, error) {
	b.calls++
	return nil, b.err
}

func (b *fakeBinding) Claim(context.Context, mcp.CallToolRequest) error { return nil }

// request builds a call of tool with args; a string is raw JSON.
func request(tool string, args any) mcp.CallToolRequest {
	req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}}
	if raw, ok := args.(string); ok {
		req.Params.Arguments, req.Params.RawArguments = nil, json.RawMessage(raw)
	}
	return req
}

// callTool runs tool's handler on args as the server would.
func callTool(t *testing.T, tl *Tools, tool string, args any) *mcp.CallToolResult {
	t.Helper()
	for _, st := range tl.All() {
		if st.Tool.Name == tool {
			res, err := st.Handler(context.Background(), request(tool, args))
			if err != nil {
				t.Fatalf("%s: a protocol error instead of a result: %v", tool, err)
			}
			return res
		}
	}
	t.Fatalf("no tool %s", tool)
	return nil
}

// errorText is what the model and the client get from a failing call:
// the call, its text, and its _meta as sent on the wire.
func errorText(t *testing.T, tl *Tools, tool string, args any) string {
	t.Helper()
	res := callTool(t, tl, tool, args)
	if !res.IsError {
		t.Errorf("%s %v: not an error", tool, args)
	}
	call, _ := json.Marshal(request(tool, args).Params)
	text := ""
	for _, c := range res.Content {
		text += c.(mcp.TextContent).Text
	}
	meta, _ := json.Marshal(res.Meta)
	return fmt.Sprintf("call: %s\n%s\n_meta: %s", call, text, meta)
}

// An error result carries its kind in _meta, on the wire, beside the
// unchanged message.
func TestErrorResultCarriesKind(t *testing.T) {
	cases := []struct {
		err  error
		kind string
	}{
		{&argError{"argument \"tail\" must be at most 2000, not 5000"}, "invalid_arguments"},
		{fmt.Errorf("budget full: %w", envs.ErrRefused), "budget_refused"},
		{fmt.Errorf("up: %w", context.Canceled), "cancelled"},
		{fmt.Errorf("disk on fire"), "failed"},
	}
	for _, c := range cases {
		raw, err := json.Marshal(errorResult(c.err))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
			Meta map[string]map[string]string `json:"_meta"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if !got.IsError || len(got.Content) != 1 || got.Content[0].Text != c.err.Error() || got.Meta["dev.wtenv/error"]["kind"] != c.kind {
			t.Errorf("error result for %q is %s, want isError, the message as text and kind %q in _meta", c.err, raw, c.kind)
		}
	}
}

// Whatever the input schema accepts decodes: JSON Schema counts 1e2 and
// 100.0 as the integer 100, null arrays and absent arguments are empty.
func TestArgumentsTheSchemaAcceptsDecode(t *testing.T) {
	tools := map[string]input{}
	for _, st := range New(nil).All() {
		tools[st.Tool.Name] = compileInput(st.Tool)
	}
	for _, c := range []struct {
		tool string
		args any
		into any
		want any
	}{
		{"env_logs", `{"tail": 1e2}`, &LogsArgs{}, &LogsArgs{Tail: 100}},
		{"env_logs", `{"tail": 100.0, "service": "api"}`, &LogsArgs{}, &LogsArgs{Service: "api", Tail: 100}},
		{"env_logs", `{"tail": 0}`, &LogsArgs{}, &LogsArgs{}},
		{"env_up", `{"services": null, "timeout_s": 86400}`, &UpArgs{}, &UpArgs{TimeoutS: 86400}},
		{"env_up", map[string]any{"services": []string{"api", "db"}, "build": true}, &UpArgs{}, &UpArgs{Services: []string{"api", "db"}, Build: true}},
		{"env_up", nil, &UpArgs{}, &UpArgs{}},
		{"env_up", `null`, &UpArgs{}, &UpArgs{}},
		{"env_status", `{}`, &StatusArgs{}, &StatusArgs{}},
		{"run_unit_tests", `{"filter": "TestA", "extra_args": ["-v"], "timeout_s": 6e1}`, &TestArgs{}, &TestArgs{Filter: "TestA", ExtraArgs: []string{"-v"}, TimeoutS: 60}},
		{"env_down", `{"purge": true}`, &DownArgs{}, &DownArgs{Purge: true}},
	} {
		if err := tools[c.tool].decode(request(c.tool, c.args), c.into); err != nil {
			t.Errorf("%s %v: %v", c.tool, c.args, err)
			continue
		}
		got, _ := json.Marshal(c.into)
		want, _ := json.Marshal(c.want)
		if string(got) != string(want) {
			t.Errorf("%s %v decoded to %s, want %s", c.tool, c.args, got, want)
		}
	}
}
