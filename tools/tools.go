// Package tools defines wtenv's MCP tools, one file per tool. Each is a
// thin adapter over the core (package envs): typed arguments in, the same
// JSON shape the CLI prints with --json out, plus a one-paragraph text
// summary for models that read only text.
package tools

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
)

// Binding is the one worktree the server serves. No tool argument can name
// another once it is bound (the worktree argument can only bind an unbound
// server), so an agent can only see and change its own stack.
type Binding interface {
	Env(ctx context.Context, req mcp.CallToolRequest) (*envs.Env, error)
	// Claim checks the call's worktree argument, binding an unbound
	// server to it, for tools that need no worktree.
	Claim(ctx context.Context, req mcp.CallToolRequest) error
}

// Tools holds what the handlers need: the binding and the machine-wide
// listing, which needs no worktree.
type Tools struct {
	bind Binding
	list func(context.Context) (stack.List, error)
}

// New returns the tools for binding b.
func New(b Binding) *Tools {
	return &Tools{bind: b, list: envs.List}
}

// All returns every tool, in the order clients list them.
func (t *Tools) All() []server.ServerTool {
	return []server.ServerTool{t.envUp(), t.envStatus(), t.envLogs(), t.envDown(), t.envList(), t.envSleep(), t.runUnitTests(), t.runE2ETests()}
}

// handler adapts a typed function to an MCP handler. The call's arguments
// are checked once, against the tool's input schema, and decoded into A;
// the result goes out as structuredContent with a text summary. Any error,
// the arguments' or the handler's, becomes an isError result whose text is
// the error's message, which names the next action, and whose _meta
// carries the error's kind (see errorResult).
func handler[A, R any](tool mcp.Tool, fn func(ctx context.Context, req mcp.CallToolRequest, args A) (R, string, error)) server.ToolHandlerFunc {
	in := compileInput(tool)
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args A
		if err := in.decode(req, &args); err != nil {
			return errorResult(err), nil
		}
		res, summary, err := fn(ctx, req, args)
		if ir := (*InputRequired)(nil); errors.As(err, &ir) {
			return ir.Result, nil
		}
		if wr := (*WithResult)(nil); errors.As(err, &wr) {
			res := errorResult(wr.Err)
			res.StructuredContent = wr.Result
			return res, nil
		}
		if err != nil {
			return errorResult(err), nil
		}
		return mcp.NewToolResultStructured(res, summary), nil
	}
}

// WithResult is an error that comes with what the call left, sent as the
// error result's structuredContent (a failed env_up's Stack).
type WithResult struct {
	Err    error
	Result any
}

func (w *WithResult) Error() string { return w.Err.Error() }
func (w *WithResult) Unwrap() error { return w.Err }

// ErrorMeta is the _meta key of an error result's machine-readable part:
// {"kind": K}, K one of envs' error kinds (invalid_arguments,
// budget_refused, engine_unreachable, ...), the same the CLI turns into
// its exit code. A client can act on the kind without parsing the text.
const ErrorMeta = "dev.wtenv/error"

// errorResult is the isError result for err: its message as text, its
// kind in _meta.
func errorResult(err error) *mcp.CallToolResult {
	res := mcp.NewToolResultError(err.Error())
	res.Meta = mcp.NewMetaFromMap(map[string]any{
		ErrorMeta: map[string]any{"kind": string(envs.KindOf(err))},
	})
	return res
}

// progress returns a callback that sends notifications/progress for the
// request when the client asked for progress (a progress token), and does
// nothing otherwise.
func progress(ctx context.Context, req mcp.CallToolRequest) func(string) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return func(string) {}
	}
	token := req.Params.Meta.ProgressToken
	srv := server.ServerFromContext(ctx)
	// Steps report from several goroutines (a suite's ticker, the engine);
	// the lock keeps progress values strictly increasing as MCP requires.
	var mu sync.Mutex
	var c progressCounter
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		p, total := c.next(msg)
		if srv == nil {
			return
		}
		params := map[string]any{"progressToken": token, "progress": p, "message": msg}
		if total > 0 {
			params["total"] = total
		}
		_ = srv.SendNotificationToClient(ctx, string(mcp.MethodNotificationProgress), params)
	}
}

// progressCounter turns step messages into progress values: strictly
// increasing, and, where a message says how far along a known total the
// work is ("healthy 2/4", "12 passed, 1 failed of 30"), the items done, so
// that progress/total is the share done. Messages between two such steps
// creep up towards the next item without reaching it.
type progressCounter struct {
	done, total int
	k           int // messages since done last changed
	last        float64
	sent        bool
}

var (
	healthyOf = regexp.MustCompile(`healthy (\d+)/(\d+)$`)
	countedOf = regexp.MustCompile(`(\d+) passed, (\d+) failed(?:, (\d+) skipped)? of (\d+)$`)
)

func (c *progressCounter) next(msg string) (float64, int) {
	done, total := -1, 0
	if m := healthyOf.FindStringSubmatch(msg); m != nil {
		done, _ = strconv.Atoi(m[1])
		total, _ = strconv.Atoi(m[2])
	} else if m := countedOf.FindStringSubmatch(msg); m != nil {
		p, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		sk, _ := strconv.Atoi(m[3])
		total, _ = strconv.Atoi(m[4])
		done = p + f + sk
	}
	if total > 0 {
		c.total = total
		if done > c.done {
			c.done, c.k = done, 0
		}
	}
	c.k++
	// The message that reports an item is at it exactly; the ones after
	// it creep towards the next: done, done+1/2, done+2/3, ...
	p := float64(c.done) + 1 - 1/float64(c.k)
	if c.sent && p <= c.last {
		p = c.last + 1e-6 // never the same value twice
	}
	c.last, c.sent = p, true
	return p, c.total
}
