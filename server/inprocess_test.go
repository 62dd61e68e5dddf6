package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// These tests speak MCP to the server in process, through mcp-go's
// in-process transport: the JSON-RPC messages, the tool handlers and the
// binding are the real ones, and no Docker engine is needed. They are the
// errors a model meets before any stack exists; server/e2e_test.go keeps
// one of each over stdio with the real binary.

// countingBinding counts the calls that reach the binding.
type countingBinding struct {
	*binding
	calls atomic.Int32
}

func (b *countingBinding) Env(ctx context.Context, req mcp.CallToolRequest) (*envs.Env, error) {
	b.calls.Add(1)
	return b.binding.Env(ctx, req)
}

// inProcess starts a server on b and returns an initialized client of it.
func inProcess(t *testing.T, b *binding, opts ...client.ClientOption) (*client.Client, *countingBinding) {
	t.Helper()
	return inProcessAt(t, b, mcp.LATEST_PROTOCOL_VERSION, opts...)
}

// inProcessAt is inProcess at a protocol version.
func inProcessAt(t *testing.T, b *binding, version string, opts ...client.ClientOption) (*client.Client, *countingBinding) {
	t.Helper()
	counted := &countingBinding{binding: b}
	c, err := client.NewInProcessClientWithOptions(New(counted, slog.New(slog.DiscardHandler)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Cleanup(b.Close)
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Initialize(t.Context(), mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: version,
		ClientInfo:      mcp.Implementation{Name: "wtenv-inprocess", Version: "1"},
	}}); err != nil {
		t.Fatal(err)
	}
	return c, counted
}

// callError calls tool with args and returns the error result's text and
// the kind in its _meta; anything but an isError result fails the test.
func callError(t *testing.T, c *client.Client, tool string, args any) (text, kind string) {
	t.Helper()
	res, err := c.CallTool(t.Context(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		t.Fatalf("%s %v: a protocol error instead of an error result: %v", tool, args, err)
	}
	if !res.IsError {
		t.Fatalf("%s %v: not an error result: %+v", tool, args, res)
	}
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.Meta != nil {
		// Decoded from the wire, so the shape is what any client sees.
		raw, _ := json.Marshal(res.Meta.AdditionalFields["dev.wtenv/error"])
		var e struct{ Kind string }
		if json.Unmarshal(raw, &e) == nil {
			kind = e.Kind
		}
	}
	return text, kind
}

// Every argument mistake comes back as an isError result worded for the
// model, with kind invalid_arguments, before the server binds its
// worktree: the server here is bound to a real git worktree, and binding
// it would connect to the engine.
func TestArgumentErrorsInProcess(t *testing.T) {
	t.Setenv("WTENV_STATE_DIR", t.TempDir())
	repo := enginetest.Repo(t, "args", map[string][]byte{"README.md": []byte("no compose file here")})
	c, b := inProcess(t, newBinding(repo, slog.New(slog.DiscardHandler)))
	const upTakes = "this tool takes only build, services, timeout_s, worktree (the worktree is fixed once the server is bound to it)"
	for _, tc := range []struct {
		tool string
		args any
		want string
	}{
		{"env_logs", map[string]any{"tail": 5000}, `argument "tail" must be at most 2000, not 5000`},
		{"env_logs", map[string]any{"tail": -1}, `argument "tail" must be at least 0, not -1`},
		{"env_logs", map[string]any{"tail": "many"}, `argument "tail" must be an integer, not string`},
		{"env_logs", map[string]any{"tail": 2.5}, `argument "tail" must be an integer, not number`},
		{"env_up", map[string]any{"timeout_s": 1e9}, `argument "timeout_s" must be at most 86400, not 1000000000`},
		{"run_unit_tests", map[string]any{"timeout_s": 1e9}, `argument "timeout_s" must be at most 86400, not 1000000000`},
		{"run_e2e_tests", map[string]any{"timeout_s": -5}, `argument "timeout_s" must be at least 0, not -5`},
		{"env_up", map[string]any{"services": "web"}, `argument "services" must be an array of strings, not string`},
		{"env_up", map[string]any{"services": []any{"web", 7}}, `argument "services[1]" must be a string, not number`},
		{"env_up", map[string]any{"project": "elsewhere"}, `unknown argument "project"; ` + upTakes},
		{"env_status", map[string]any{"branch": "main"}, `unknown argument "branch"; this tool takes only worktree (the worktree is fixed once the server is bound to it)`},
		{"env_up", []any{"web"}, `arguments must be an object of named arguments, not array; ` + upTakes},
		{"env_up", "web", `arguments must be an object of named arguments, not string; ` + upTakes},
		{"env_down", 1, `arguments must be an object of named arguments, not number; this tool takes only purge, worktree (the worktree is fixed once the server is bound to it)`},
	} {
		text, kind := callError(t, c, tc.tool, tc.args)
		if text != tc.want || kind != "invalid_arguments" {
			t.Errorf("%s %v:\n got %q (kind %q)\nwant %q (kind invalid_arguments)", tc.tool, tc.args, text, kind, tc.want)
		}
	}
	if n := b.calls.Load(); n != 0 {
		t.Errorf("calls with wrong arguments reached the binding %d times", n)
	}
}

// A server bound by --worktree to a directory outside any git worktree
// says so and names the flag, without an engine.
func TestNotAWorktreeInProcess(t *testing.T) {
	dir := t.TempDir()
	c, b := inProcess(t, newBinding(dir, slog.New(slog.DiscardHandler)))
	text, kind := callError(t, c, "env_status", nil)
	want := "worktree " + dir + " (from --worktree): " + dir + ": not inside a git worktree: run inside a git worktree or pass --worktree DIR"
	if text != want || kind != "bad_configuration" {
		t.Errorf("got %q (kind %q)\nwant %q (kind bad_configuration)", text, kind, want)
	}
	if b.calls.Load() != 1 {
		t.Errorf("binding asked %d times, want 1", b.calls.Load())
	}
}

// The worktree argument binds an unbound server, may be repeated, and
// cannot move a bound one: each mistake names what to pass.
func TestWorktreeArgumentInProcess(t *testing.T) {
	t.Setenv("WTENV_WORKTREE", "")
	t.Chdir(t.TempDir())
	t.Setenv("WTENV_STATE_DIR", t.TempDir())
	repo := enginetest.Repo(t, "arg", map[string][]byte{"README.md": []byte("no compose file here")})
	other := enginetest.Repo(t, "other", map[string][]byte{"README.md": []byte("another")})
	notWT := t.TempDir()
	b := newBinding("", slog.New(slog.DiscardHandler))
	c, _ := inProcess(t, b)
	for _, tc := range []struct{ arg, want string }{
		{"arg", `invalid arguments: argument "worktree" must be the worktree's absolute path, not "arg"`},
		{notWT, `invalid arguments: argument "worktree": ` + notWT + ` is not inside a git worktree; pass the absolute path`},
	} {
		if text, kind := callError(t, c, "env_sleep", map[string]any{"worktree": tc.arg}); !strings.HasPrefix(text, tc.want) || kind != "invalid_arguments" {
			t.Errorf("worktree %q: got %q (kind %q), want %q…", tc.arg, text, kind, tc.want)
		}
	}
	if b.dir != "" {
		t.Fatalf("a bad worktree argument bound the server to %s", b.dir)
	}
	// env_list needs no worktree, yet its argument binds as any other's.
	if _, err := c.CallTool(t.Context(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "env_list", Arguments: map[string]any{"worktree": repo + "/"}}}); err != nil {
		t.Fatal(err)
	}
	if b.dir != repo || b.source != "the worktree argument" {
		t.Fatalf("bound to %q from %q, want %s from the worktree argument", b.dir, b.source, repo)
	}
	text, kind := callError(t, c, "env_down", map[string]any{"worktree": other})
	want := "this server serves the worktree " + repo + " (from the worktree argument) for as long as it runs, and the call names " + other
	if !strings.Contains(text, want) || !strings.Contains(text, "wtenv serve --worktree "+other) || kind != "invalid_arguments" {
		t.Errorf("another worktree: got %q (kind %q), want …%q…", text, kind, want)
	}
}

// roots answers roots/list with a fixed list or error.
type roots struct {
	list []mcp.Root
	err  error
}

func (r roots) ListRoots(context.Context, mcp.ListRootsRequest) (*mcp.ListRootsResult, error) {
	return &mcp.ListRootsResult{Roots: r.list}, r.err
}

// A server started with no worktree (no --worktree, no WTENV_WORKTREE,
// outside any git worktree) binds to the client's first file:// root,
// asked for by roots/list before 2026-07-28 and by a multi round-trip
// result from then; a client without one is told to pass the worktree
// argument or how to start the server instead.
func TestUnboundInProcess(t *testing.T) {
	t.Setenv("WTENV_WORKTREE", "")
	t.Chdir(t.TempDir())
	const start = "wtenv serve is not bound to a worktree: no worktree from its start (--worktree, WTENV_WORKTREE, the current directory), and wtenv-inprocess could not give one: "
	const next = "; pass \"worktree\" (the absolute path of the worktree you work in) on this call: it binds this server to that worktree for as long as it runs, or start wtenv serve with --worktree DIR or WTENV_WORKTREE=DIR, or from inside the worktree"
	for _, version := range []string{mcp.LATEST_PROTOCOL_VERSION, mcp.LATEST_LEGACY_PROTOCOL_VERSION} {
		for _, tc := range []struct {
			name   string
			opts   []client.ClientOption
			prefix string // the message up to next
		}{
			{"client declares no roots", nil, start + "it declared no roots"},
			{"client fails roots/list", []client.ClientOption{client.WithRootsHandler(roots{err: errors.New("roots unavailable")})}, start + "it did not answer roots/list (roots unavailable)"},
			{"client returns no roots", []client.ClientOption{client.WithRootsHandler(roots{})}, start + "it sent no file:// root"},
			{"client returns a non-file root", []client.ClientOption{client.WithRootsHandler(roots{list: []mcp.Root{{URI: "https://example.com/shop", Name: "shop"}}})}, start + "it sent no file:// root"},
		} {
			if version == mcp.LATEST_PROTOCOL_VERSION && tc.name == "client fails roots/list" {
				continue // from 2026-07-28 the client fulfils the roots request itself, and fails its own call
			}
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				b := newBinding("", slog.New(slog.DiscardHandler))
				if b.dir != "" {
					t.Fatalf("bound to %s (%s); the test needs an unbound server", b.dir, b.source)
				}
				c, _ := inProcessAt(t, b, version, tc.opts...)
				text, kind := callError(t, c, "env_status", nil)
				if text != tc.prefix+next || kind != "bad_configuration" {
					t.Errorf("got %q (kind %q)\nwant %q (kind bad_configuration)", text, kind, tc.prefix+next)
				}
				if b.dir != "" {
					t.Errorf("bound to %s from the client's roots", b.dir)
				}
			})
		}
	}
}
