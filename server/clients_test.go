package server_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// Host suites, so that every tool runs in seconds: e2e reaches the front
// service through the address wtenv gives it.
const everyToolYAML = `tests:
  unit:
    host: true
    command: [sh, -c, 'echo "1..1"; echo "ok 1 - unit"']
    format: tap
  e2e:
    host: true
    command: [sh, -c, 'echo "1..1"; if [ -n "$WTENV_FRONT_URL" ]; then echo "ok 1 - front at $WTENV_FRONT_URL"; else echo "not ok 1 - no WTENV_FRONT_URL"; fi']
    needs: [front]
    format: tap
`

// caller is one client library's way to call a tool: it returns the
// structured content, failing the test on an error result.
type caller func(t *testing.T, tool string, args map[string]any) json.RawMessage

// The official go-sdk client and mcp-go's own client, each at its
// defaults (mcp-go's speaks 2026-07-28), started outside the worktree,
// bind through the client's roots or through the worktree argument, and
// call every tool. The default tier runs one of each; the full tier all
// four.
func TestEveryClientCallsEveryTool(t *testing.T) {
	enginetest.Isolate(t)
	compose := strings.ReplaceAll(enginetest.FixtureCompose, "    build: ./kv\n", "    image: "+enginetest.KVImage(t)+"\n    pull_policy: never\n")
	repo := enginetest.Repo(t, "clients", map[string][]byte{"compose.yaml": []byte(compose), "wtenv.yaml": []byte(everyToolYAML)})
	cases := []struct {
		name  string
		roots bool
		full  bool
		conn  func(t *testing.T, root string, roots bool) caller
	}{
		{"mcp-go/roots", true, false, mcpGoCaller},
		{"go-sdk/argument", false, false, goSDKCaller},
		{"mcp-go/argument", false, true, mcpGoCaller},
		{"go-sdk/roots", true, true, goSDKCaller},
	}
	var roots []string
	for _, tc := range cases {
		roots = append(roots, enginetest.Worktree(t, repo, "clients/"+strings.ReplaceAll(tc.name, "/", "-")))
	}
	enginetest.Cleanup(t, append(roots, repo)...)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.full {
				enginetest.Full(t)
			}
			callEveryTool(t, tc.conn(t, roots[i], tc.roots), roots[i], !tc.roots)
		})
	}
}

func callEveryTool(t *testing.T, call caller, root string, byArg bool) {
	args := func(a map[string]any) map[string]any {
		if a == nil {
			a = map[string]any{}
		}
		if byArg {
			a["worktree"] = root
		}
		return a
	}
	var st stack.Stack
	decode(t, call(t, "env_up", args(map[string]any{"timeout_s": 120})), &st)
	if st.State != stack.StateRunning || st.Worktree != root {
		t.Fatalf("env_up: %s in %s", st.State, st.Worktree)
	}
	decode(t, call(t, "env_status", args(nil)), &st)
	var logs stack.Logs
	decode(t, call(t, "env_logs", args(map[string]any{"service": "store", "tail": 5})), &logs)
	if logs.Project != st.Project {
		t.Errorf("env_logs of %s, want %s", logs.Project, st.Project)
	}
	var run struct{ Passed bool }
	decode(t, call(t, "run_unit_tests", args(nil)), &run)
	if !run.Passed {
		t.Error("run_unit_tests did not pass")
	}
	decode(t, call(t, "env_sleep", args(nil)), &st)
	if st.State != stack.StateAsleep {
		t.Errorf("env_sleep left %s", st.State)
	}
	decode(t, call(t, "run_e2e_tests", args(nil)), &run)
	if !run.Passed {
		t.Error("run_e2e_tests did not pass")
	}
	var l stack.List
	decode(t, call(t, "env_list", args(nil)), &l)
	found := false
	for _, s := range l.Stacks {
		found = found || s.Project == st.Project
	}
	if !found {
		t.Errorf("env_list lacks %s", st.Project)
	}
	var d stack.Down
	decode(t, call(t, "env_down", args(map[string]any{"purge": true})), &d)
	if d.Project != st.Project || d.Removed.Containers != 2 {
		t.Errorf("env_down: %+v", d)
	}
}

func decode(t *testing.T, raw json.RawMessage, out any) {
	t.Helper()
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("structuredContent: %v\n%s", err, raw)
	}
}

func goSDKCaller(t *testing.T, root string, roots bool) caller {
	var rs []string
	if roots {
		rs = []string{root}
	}
	s := connect(t, t.TempDir(), rs)
	return func(t *testing.T, tool string, args map[string]any) json.RawMessage {
		t.Helper()
		var raw json.RawMessage
		s.call(t, tool, args, &raw)
		return raw
	}
}

type rootsHandler struct{ root string }

func (h rootsHandler) ListRoots(context.Context, mcpgo.ListRootsRequest) (*mcpgo.ListRootsResult, error) {
	return &mcpgo.ListRootsResult{Roots: []mcpgo.Root{{URI: "file://" + h.root, Name: filepath.Base(h.root)}}}, nil
}

func mcpGoCaller(t *testing.T, root string, roots bool) caller {
	t.Helper()
	dir, logPath := t.TempDir(), filepath.Join(t.TempDir(), "serve.log")
	tr := transport.NewStdioWithOptions(wtenvBinary(t), os.Environ(), []string{"serve", "--log-file", logPath},
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env, cmd.Dir = env, dir
			return cmd, nil
		}))
	var opts []mcpgoclient.ClientOption
	if roots {
		opts = append(opts, mcpgoclient.WithRootsHandler(rootsHandler{root}))
	}
	c := mcpgoclient.NewClient(tr, opts...)
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Cleanup(func() {
		if b, err := os.ReadFile(logPath); t.Failed() && err == nil {
			t.Logf("wtenv serve log:\n%s", b)
		}
	})
	init, err := c.Initialize(ctx, mcpgo.InitializeRequest{Params: mcpgo.InitializeParams{
		ProtocolVersion: mcpgo.LATEST_PROTOCOL_VERSION,
		ClientInfo:      mcpgo.Implementation{Name: "wtenv-mcp-go", Version: "1"},
	}})
	if err != nil {
		t.Fatalf("mcp-go client: initialize: %v", err)
	}
	if init.ProtocolVersion != mcpgo.LATEST_PROTOCOL_VERSION {
		t.Errorf("mcp-go client at defaults negotiated %s, want %s", init.ProtocolVersion, mcpgo.LATEST_PROTOCOL_VERSION)
	}
	return func(t *testing.T, tool string, args map[string]any) json.RawMessage {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: tool, Arguments: args}})
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if res.IsError {
			var text []string
			for _, c := range res.Content {
				if tc, ok := c.(mcpgo.TextContent); ok {
					text = append(text, tc.Text)
				}
			}
			t.Fatalf("%s returned an error: %s", tool, strings.Join(text, "\n"))
		}
		raw, _ := json.Marshal(res.StructuredContent)
		return raw
	}
}
