package server_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// wtenvBinary builds the real binary once per test process.
func wtenvBinary(t *testing.T) string {
	return enginetest.Build(t, "cmd/wtenv", false)
}

// session starts `wtenv serve` in dir with args and connects the official
// go-sdk client at its default settings; roots are the client's roots.
type session struct {
	*mcp.ClientSession
	mu       sync.Mutex
	progress []string
	logPath  string // the server's --log-file
}

func connect(t *testing.T, dir string, roots []string, args ...string) *session {
	t.Helper()
	s := &session{}
	client := mcp.NewClient(&mcp.Implementation{Name: "wtenv-e2e", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			s.mu.Lock()
			s.progress = append(s.progress, r.Params.Message)
			s.mu.Unlock()
		},
	})
	for _, r := range roots {
		client.AddRoots(&mcp.Root{URI: "file://" + r, Name: filepath.Base(r)})
	}
	s.logPath = filepath.Join(t.TempDir(), "serve.log")
	cmd := exec.Command(wtenvBinary(t), append([]string{"serve", "--log-file", s.logPath}, args...)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to wtenv serve: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	t.Cleanup(func() {
		// A failed test shows what the server logged.
		if b, err := os.ReadFile(s.logPath); t.Failed() && err == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("wtenv serve log (%s), last lines:\n%s", s.logPath, strings.Join(lines[max(0, len(lines)-80):], "\n"))
		}
	})
	s.ClientSession = cs
	return s
}

// call invokes a tool and decodes its structuredContent into out.
func (s *session) call(t *testing.T, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	return s.callWithin(t, 5*time.Minute, name, args, out)
}

// callWithin is call with its own limit, for calls that may build images
// with a cold layer cache.
func (s *session) callWithin(t *testing.T, limit time.Duration, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	params := &mcp.CallToolParams{Name: name, Arguments: args}
	params.SetProgressToken(name + "-progress")
	res, err := s.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s returned an error: %s", name, text(res))
	}
	if out != nil {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s structuredContent: %v\n%s", name, err, b)
		}
	}
	if text(res) == "" {
		t.Errorf("%s has no text summary", name)
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Two servers on two worktrees of one repository: each starts, reads and
// stops only its own stack; env_list from either shows both. The second
// server starts outside any worktree and binds through the client's roots.
func TestTwoServersTwoWorktreesOverStdio(t *testing.T) {
	roots := enginetest.Worktrees(t, "feature/mcp")
	repo, other := roots[0], roots[1]

	a := connect(t, repo+"/kv", nil)              // bound by its current directory
	b := connect(t, t.TempDir(), []string{other}) // outside any worktree: bound by roots

	var sa, sb stack.Stack
	a.call(t, "env_up", nil, &sa)
	b.call(t, "env_up", map[string]any{"timeout_s": 120}, &sb)
	if sa.Project == sb.Project || sa.State != stack.StateRunning || sb.State != stack.StateRunning {
		t.Fatalf("stacks: %s %s, %s %s", sa.Project, sa.State, sb.Project, sb.State)
	}
	if sb.Worktree != other || sb.Branch != "feature/mcp" {
		t.Errorf("roots bound %s on %s, want %s on feature/mcp", sb.Worktree, sb.Branch, other)
	}
	for _, s := range []*session{a, b} {
		s.mu.Lock()
		got := strings.Join(s.progress, "\n")
		s.mu.Unlock()
		for _, want := range []string{"building store", "starting store", "waiting for store: healthy"} {
			if !strings.Contains(got, want) {
				t.Errorf("progress lacks %q:\n%s", want, got)
			}
		}
	}

	var st stack.Stack
	a.call(t, "env_status", nil, &st)
	if st.Project != sa.Project || len(st.Services) != 2 || st.Services[0].Ports[0].URL == "" {
		t.Errorf("env_status: %+v", st)
	}
	var logs struct {
		Project string `json:"project"`
		Text    string `json:"text"`
	}
	b.call(t, "env_logs", map[string]any{"service": "store", "tail": 5}, &logs)
	if logs.Project != sb.Project || !strings.Contains(logs.Text, "store | ") {
		t.Errorf("env_logs: %+v", logs)
	}
	for _, s := range []*session{a, b} {
		var l stack.List
		s.call(t, "env_list", nil, &l)
		seen := map[string]bool{}
		for _, x := range l.Stacks {
			seen[x.Project] = true
		}
		if !seen[sa.Project] || !seen[sb.Project] {
			t.Errorf("env_list misses a stack: %+v", l.Stacks)
		}
	}

	var d stack.Down
	a.call(t, "env_down", map[string]any{"purge": true}, &d)
	if d.Project != sa.Project || d.Removed.Containers != 2 {
		t.Errorf("env_down: %+v", d)
	}
	b.call(t, "env_status", nil, &st)
	if st.State != stack.StateRunning {
		t.Errorf("a's env_down touched b: %s", st.State)
	}
	a.call(t, "env_status", nil, &st)
	if st.State != stack.StateAbsent {
		t.Errorf("after env_down: %s", st.State)
	}
	// No lines: env_logs and `wtenv logs --json` return the one JSON.
	var toolLogs, cliLogs stack.Logs
	a.call(t, "env_logs", nil, &toolLogs)
	out, err := exec.Command(wtenvBinary(t), "logs", "--json", "--worktree", repo).Output()
	if err != nil || json.Unmarshal(out, &cliLogs) != nil {
		t.Fatalf("wtenv logs --json: %v\n%s", err, out)
	}
	if toolLogs != cliLogs || toolLogs.Text != "" {
		t.Errorf("env_logs gave %+v, wtenv logs --json %+v; want the same, with no text", toolLogs, cliLogs)
	}
	b.call(t, "env_down", map[string]any{"purge": true}, &d)
}

// Errors reach the model through the real binary over stdio as isError
// results: the worded message as text and the kind in _meta. The other
// argument and binding errors are covered in process (inprocess_test.go);
// these two need the real process, and the second the engine.
func TestErrorsReachTheModel(t *testing.T) {
	enginetest.Isolate(t)
	repo := enginetest.Repo(t, "empty", map[string][]byte{"README.md": []byte("no compose file here")})
	s := connect(t, repo, nil)
	ctx := context.Background()
	cases := []struct {
		name  string
		args  map[string]any
		exact bool // want is the whole text, else a part of it
		want  string
		kind  string
	}{
		{"env_logs", map[string]any{"tail": 5000}, true, `argument "tail" must be at most 2000, not 5000`, "invalid_arguments"},
		{"env_up", nil, false, "add compose.yaml, or name the files under compose: in wtenv.yaml", "bad_configuration"},
	}
	for _, tc := range cases {
		// The arguments reach the server: go-sdk's client does not check
		// them against the input schema, and this session never listed
		// the tools, so it has none. A Go error here is a failure.
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: tc.name, Arguments: tc.args})
		if err != nil {
			t.Errorf("%s %v: a protocol error instead of an error result: %v", tc.name, tc.args, err)
			continue
		}
		got := text(res)
		if !res.IsError || (tc.exact && got != tc.want) || !strings.Contains(got, tc.want) {
			t.Errorf("%s %v: isError=%v %q, want %q", tc.name, tc.args, res.IsError, got, tc.want)
		}
		meta, _ := res.Meta["dev.wtenv/error"].(map[string]any)
		if kind, _ := meta["kind"].(string); kind != tc.kind {
			t.Errorf("%s %v: _meta %v, want kind %q under dev.wtenv/error", tc.name, tc.args, res.Meta, tc.kind)
		}
	}
}

// A cancelled env_up stops what it started, and says so; what it had
// created carries the stack's labels and the next env_down removes all of
// it.
func TestCancelledUpIsCleanedByDown(t *testing.T) {
	repo := enginetest.Worktrees(t)[0]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &session{logPath: filepath.Join(t.TempDir(), "serve.log")}
	client := mcp.NewClient(&mcp.Implementation{Name: "wtenv-e2e", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			// Cancel once the first container exists, while up still waits
			// for its health.
			if strings.HasPrefix(r.Params.Message, "waiting for store") {
				cancel()
			}
		},
	})
	cmd := exec.Command(wtenvBinary(t), "serve", "--worktree", repo, "--log-file", s.logPath)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	t.Cleanup(func() {
		// A failed test shows what the server logged.
		if b, err := os.ReadFile(s.logPath); t.Failed() && err == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("wtenv serve log (%s), last lines:\n%s", s.logPath, strings.Join(lines[max(0, len(lines)-80):], "\n"))
		}
	})
	s.ClientSession = cs

	params := &mcp.CallToolParams{Name: "env_up"}
	params.SetProgressToken("up")
	if _, err := cs.CallTool(ctx, params); err == nil {
		t.Fatal("cancelled env_up returned no error")
	}
	// Cancel means stop: what up started is stopped (the server answers
	// other calls meanwhile, so the stop is awaited).
	var st stack.Stack
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(300 * time.Millisecond) {
		s.call(t, "env_status", nil, &st)
		if st.State == stack.StateAbsent {
			t.Fatalf("nothing was created before the cancel; the test proves nothing")
		}
		if st.State == stack.StateStopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the cancel the stack is %s: %+v", st.State, st.Services)
		}
	}
	if b, _ := os.ReadFile(s.logPath); !strings.Contains(string(b), "up stopped the") {
		t.Errorf("the server's log does not say what the cancelled up stopped")
	}
	var d stack.Down
	s.call(t, "env_down", nil, &d)
	if d.Removed.Containers == 0 || d.Removed.Networks != 1 {
		t.Errorf("env_down after a cancelled up removed %+v", d.Removed)
	}
	s.call(t, "env_status", nil, &st)
	if st.State != stack.StateAbsent {
		t.Errorf("after env_down: %s %+v", st.State, st.Services)
	}
	s.call(t, "env_down", map[string]any{"purge": true}, &d)
}
