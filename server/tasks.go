package server

import (
	"context"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// tasks keeps a task-augmented tool call running after the tools/call
// request that created it has been answered.
//
// mcp-go runs such a call on a context derived from the tools/call
// request's, which it cancels as soon as it has sent the CreateTaskResult:
// every task would be cancelled at once. Around that, the call runs on a
// context that keeps the request's values (the session, for progress) but
// not its cancellation, and that tasks/cancel, or the end of the session,
// cancels instead. The task a call belongs to is found through the
// per-request protocol information, which mcp-go allocates once per
// request and which both the task-created hook and the call's context
// carry.
type tasks struct {
	mu      sync.Mutex
	stopped bool                                      // the session ended: no task starts
	pending map[*mcpserver.RequestProtocolInfo]string // request → task id, until the call starts
	running map[string]context.CancelFunc             // task id → cancel
	wg      sync.WaitGroup
}

func newTasks() *tasks {
	return &tasks{pending: map[*mcpserver.RequestProtocolInfo]string{}, running: map[string]context.CancelFunc{}}
}

// options registers the hooks and the middleware on a server.
func (t *tasks) options() []mcpserver.ServerOption {
	th := &mcpserver.TaskHooks{}
	th.AddOnTaskCreated(t.created)
	h := &mcpserver.Hooks{}
	h.AddBeforeCancelTask(func(_ context.Context, _ any, req *mcp.CancelTaskRequest) {
		t.cancel(req.Params.TaskId)
	})
	return []mcpserver.ServerOption{
		mcpserver.WithTaskCapabilities(true, true, true),
		mcpserver.WithTaskHooks(th),
		mcpserver.WithHooks(h),
		mcpserver.WithToolHandlerMiddleware(t.detach),
	}
}

func (t *tasks) created(ctx context.Context, m mcpserver.TaskMetrics) {
	if info := mcpserver.RequestProtocolInfoFromContext(ctx); info != nil {
		t.mu.Lock()
		t.pending[info] = m.TaskID
		t.mu.Unlock()
	}
}

// detach runs a task's tool call on its own context; other calls pass
// through unchanged.
func (t *tasks) detach(next mcpserver.ToolHandlerFunc) mcpserver.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if req.Params.Task == nil {
			return next(ctx, req)
		}
		info := mcpserver.RequestProtocolInfoFromContext(ctx)
		t.mu.Lock()
		id, ok := t.pending[info]
		delete(t.pending, info)
		if !ok {
			t.mu.Unlock()
			return next(ctx, req)
		}
		if t.stopped {
			t.mu.Unlock()
			return nil, context.Canceled
		}
		tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		// When the task's time to live ends, mcp-go forgets it; its work
		// stops then too, since nobody can read its result any more.
		if ttl := req.Params.Task.TTL; ttl != nil && *ttl > 0 {
			expire := time.AfterFunc(time.Duration(*ttl)*time.Millisecond, cancel)
			defer expire.Stop()
		}
		t.running[id] = cancel
		t.wg.Add(1)
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			delete(t.running, id)
			t.mu.Unlock()
			cancel()
			t.wg.Done()
		}()
		return next(tctx, req)
	}
}

func (t *tasks) cancel(id string) {
	t.mu.Lock()
	cancel := t.running[id]
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// stop cancels every running task and waits, up to limit, for their calls
// to clean up (a cancelled up stops what it started; a test run removes
// its container).
func (t *tasks) stop(limit time.Duration) {
	t.mu.Lock()
	t.stopped = true
	for _, cancel := range t.running {
		cancel()
	}
	t.mu.Unlock()
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
	}
}
