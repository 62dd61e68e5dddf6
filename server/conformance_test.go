package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
)

var revisions = []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"}

// toolCall decodes a tools/call result.
type toolCall struct {
	IsError           bool            `json:"isError"`
	ResultType        string          `json:"resultType"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	InputRequests     map[string]any  `json:"inputRequests"`
	Content           []struct {
		Text string `json:"text"`
	} `json:"content"`
}

func decodeCall(t *testing.T, r rpcResponse) toolCall {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("tools/call answered a protocol error: %d %s", r.Error.Code, r.Error.Message)
	}
	var c toolCall
	if err := json.Unmarshal(r.Result, &c); err != nil {
		t.Fatalf("tools/call result: %v\n%s", err, r.Result)
	}
	return c
}

func (c toolCall) text() string {
	var parts []string
	for _, p := range c.Content {
		parts = append(parts, p.Text)
	}
	return strings.Join(parts, "\n")
}

// Every revision, with hand-written JSON-RPC from outside any worktree:
// the handshake (initialize, or server/discover at 2026-07-28), tools/list,
// an unbound call that says how to bind, binding by the worktree argument
// (or by roots where the client declared them), a call naming another
// worktree refused, and the malformed messages JSON-RPC and MCP name an
// error for. Every frame the server writes validates against the schema
// of the revision in use.
func TestEveryRevisionOverRawJSONRPC(t *testing.T) {
	roots := enginetest.Worktrees(t, "feature/raw")
	repo, other := roots[0], roots[1]
	// A quick host suite, for a call that sends progress.
	if err := os.WriteFile(filepath.Join(repo, "wtenv.yaml"), []byte("tests:\n  unit:\n    host: true\n    command: [sh, -c, 'echo \"1..1\"; echo \"ok 1 - quick\"']\n    format: tap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const wait = 30 * time.Second
	for _, v := range revisions {
		t.Run(v, func(t *testing.T) {
			s := rawConnect(t, v, t.TempDir())
			s.initialize(nil)
			s.call(wait, "ping", nil)

			r := s.call(wait, "tools/list", nil)
			var list struct {
				Tools []struct {
					Name      string `json:"name"`
					Execution *struct {
						TaskSupport string `json:"taskSupport"`
					} `json:"execution"`
					InputSchema struct {
						Properties map[string]any `json:"properties"`
					} `json:"inputSchema"`
				} `json:"tools"`
			}
			json.Unmarshal(r.Result, &list)
			if len(list.Tools) != 8 {
				t.Fatalf("tools/list: %d tools", len(list.Tools))
			}
			for _, tool := range list.Tools {
				if _, ok := tool.InputSchema.Properties["worktree"]; !ok {
					t.Errorf("%s takes no worktree argument", tool.Name)
				}
				long := tool.Name == "env_up" || strings.HasPrefix(tool.Name, "run_")
				if got := tool.Execution != nil && tool.Execution.TaskSupport == "optional"; got != long {
					t.Errorf("%s: task support %v, want %v", tool.Name, got, long)
				}
			}

			// Unbound, no roots declared: the error says to pass worktree,
			// and the server asks nothing of the client.
			c := decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "env_status", "arguments": map[string]any{}}))
			if !c.IsError || !strings.Contains(c.text(), `pass "worktree"`) {
				t.Errorf("unbound env_status: %+v", c)
			}
			c = decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "env_status", "arguments": map[string]any{"worktree": repo}}))
			var st struct {
				Worktree, State string
			}
			json.Unmarshal(c.StructuredContent, &st)
			if c.IsError || st.Worktree != repo || st.State != "absent" {
				t.Fatalf("env_status bound by the worktree argument: %s %+v", c.text(), st)
			}
			// A call with a progress token: the notifications validate too.
			c = decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "run_unit_tests", "arguments": map[string]any{}, "_meta": map[string]any{"progressToken": "unit-" + v}}))
			if c.IsError || !waitProgress(s, "unit-"+v) {
				t.Errorf("run_unit_tests with a progress token: %s; %d progress notifications", c.text(), progressCount(s, "unit-"+v))
			}
			// Later calls may repeat it, or leave it out; another is refused.
			for _, args := range []map[string]any{{}, {"worktree": repo}} {
				if c := decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "env_status", "arguments": args})); c.IsError {
					t.Errorf("env_status %v after binding: %s", args, c.text())
				}
			}
			c = decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "env_list", "arguments": map[string]any{"worktree": other}}))
			if !c.IsError || !strings.Contains(c.text(), repo) || !strings.Contains(c.text(), other) {
				t.Errorf("a call naming another worktree: %+v", c)
			}

			// Malformed messages.
			ch := s.expect(`"no-method"`, "")
			s.send(`{"jsonrpc":"2.0","id":"no-method"}`)
			if code := errorCode(t, <-ch); code != -32600 {
				t.Errorf("a request without method: code %d, want -32600", code)
			}
			ch = s.expect(`"bad-args"`, "tools/call")
			s.send(`{"jsonrpc":"2.0","id":"bad-args","method":"tools/call","params":` + mustJSON(s.meta(map[string]any{"name": "env_status", "arguments": []int{1}})) + `}`)
			if code := errorCode(t, <-ch); code != -32602 {
				t.Errorf("non-object arguments: code %d, want -32602", code)
			}
			if r := s.call(wait, "no/such/method", nil); r.Error == nil || r.Error.Code != -32601 {
				t.Errorf("an unknown method: %+v", r.Error)
			}
			if v == "2025-03-26" {
				batchAt20250326(t, s, repo)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.frames < 13 {
				t.Errorf("only %d frames validated", s.frames)
			}
		})
	}
}

// A batch at 2025-03-26, where servers must accept them: one array back
// with a response for each request, none for the notification.
func batchAt20250326(t *testing.T, s *rawSession, repo string) {
	t.Helper()
	a, b := s.expect(`"b1"`, "ping"), s.expect(`"b2"`, "tools/call")
	s.send(`[{"jsonrpc":"2.0","id":"b1","method":"ping"},` +
		`{"jsonrpc":"2.0","id":"b2","method":"tools/call","params":{"name":"env_status","arguments":{"worktree":` + mustJSON(repo) + `}}},` +
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"x","progress":1}}]`)
	for _, ch := range []chan json.RawMessage{a, b} {
		select {
		case m := <-ch:
			if strings.Contains(string(m), `"error"`) {
				t.Errorf("batched request failed: %s", m)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no response to a batched request")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.arrays != 1 {
		t.Errorf("the batch's responses came in %d arrays, want one", s.arrays)
	}
}

// Roots are asked for only of a client that declared them: by roots/list
// before 2026-07-28, by a multi round-trip result from 2026-07-28.
func TestRootsOnlyWhenDeclared(t *testing.T) {
	roots := enginetest.Worktrees(t)
	repo := roots[0]
	const wait = 30 * time.Second
	for _, v := range []string{"2025-06-18", "2026-07-28"} {
		t.Run(v, func(t *testing.T) {
			s := rawConnect(t, v, t.TempDir())
			s.roots = []string{repo}
			s.initialize(map[string]any{"roots": map[string]any{}})
			caps := map[string]any{"io.modelcontextprotocol/clientCapabilities": map[string]any{"roots": map[string]any{}}}
			c := decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "env_status", "arguments": map[string]any{}, "_meta": caps}))
			if v >= "2026-07-28" {
				if c.ResultType != "input_required" || c.InputRequests["wtenv-roots"] == nil {
					t.Fatalf("unbound call from a client with roots: %+v", c)
				}
				answer := map[string]any{"wtenv-roots": map[string]any{"roots": []map[string]any{{"uri": "file://" + repo}}}}
				c = decodeCall(t, s.call(wait, "tools/call", map[string]any{"name": "env_status", "arguments": map[string]any{}, "inputResponses": answer,
					"_meta": map[string]any{"io.modelcontextprotocol/clientCapabilities": map[string]any{"roots": map[string]any{}}}}))
			}
			var st struct{ Worktree string }
			json.Unmarshal(c.StructuredContent, &st)
			if c.IsError || st.Worktree != repo {
				t.Fatalf("bound by roots: %s %+v", c.text(), st)
			}
			if v < "2026-07-28" && s.rootsAsked == 0 {
				t.Error("the server never sent roots/list")
			}
		})
	}
}

// waitProgress waits a little for a progress notification with token:
// notifications travel apart from responses and may come just after.
func waitProgress(s *rawSession, token string) bool {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if progressCount(s, token) > 0 {
			return true
		}
	}
	return false
}

func errorCode(t *testing.T, m json.RawMessage) int {
	t.Helper()
	var r rpcResponse
	json.Unmarshal(m, &r)
	if r.Error == nil {
		t.Errorf("want an error response, got %s", m)
		return 0
	}
	return r.Error.Code
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The validator can fail: frames that break each revision's schema are
// refused (a result without content, an error without code).
func TestSchemaValidatorRefusesBadFrames(t *testing.T) {
	for _, v := range revisions {
		r := loadRevision(t, v)
		if err := r.validate("CallToolResult", []byte(`{"isError":false}`)); err == nil {
			t.Errorf("%s: a CallToolResult without content passed", v)
		}
		if err := r.validate(r.errorResponse, []byte(`{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}`)); err == nil {
			t.Errorf("%s: an error without code passed", v)
		}
	}
}
