package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/worktree"
	"github.com/wtenv/wtenv/tools"
)

// ErrUnbound means the server could not find the worktree it serves. It
// is an envs.ErrNotWorktree too, so its kind is bad_configuration: the fix
// is where the server is started, as for --worktree naming no worktree.
var ErrUnbound error = unbound{}

type unbound struct{}

func (unbound) Error() string        { return "wtenv serve is not bound to a worktree" }
func (unbound) Is(target error) bool { return target == envs.ErrNotWorktree }

// binding is the one worktree a server serves. It is fixed at start by
// --worktree, else WTENV_WORKTREE, else the current directory when that is
// inside a git worktree; otherwise by the first call's `worktree`
// argument, else the client's first root when the client declared roots.
// Once bound it never changes: a call that names another worktree is
// refused.
type binding struct {
	mu     sync.Mutex
	dir    string // "" until known
	source string // how dir was chosen, for logs and messages
	env    *envs.Env
	logger *slog.Logger
	// unforward stops forwarding the env's ports (a stack on a remote
	// engine answers on 127.0.0.1 while the server runs).
	unforward context.CancelFunc
}

func newBinding(flagDir string, logger *slog.Logger) *binding {
	b := &binding{logger: logger}
	switch {
	case flagDir != "":
		b.dir, b.source = flagDir, "--worktree"
	case os.Getenv("WTENV_WORKTREE") != "":
		b.dir, b.source = os.Getenv("WTENV_WORKTREE"), "WTENV_WORKTREE"
	default:
		if cwd, err := os.Getwd(); err == nil {
			if _, err := worktree.Open(cwd); err == nil {
				b.dir, b.source = cwd, "the current directory"
			}
		}
	}
	return b
}

func (b *binding) describe() string {
	if b.dir == "" {
		return "(unbound: from the first call's worktree argument or the client's roots)"
	}
	return b.dir + " (" + b.source + ")"
}

// Env returns the bound worktree's environment, opening it on first use.
// A failure (engine down, not a worktree) is returned and retried on the
// next call, so starting the engine later needs no server restart.
func (b *binding) Env(ctx context.Context, req mcp.CallToolRequest) (*envs.Env, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.claim(req); err != nil {
		return nil, err
	}
	if b.env != nil {
		// A checkout of another branch in the worktree changes the
		// project: follow it, as the CLI would, rather than serve the
		// stack of a branch the worktree is no longer on.
		wt, err := worktree.Open(b.env.Worktree.Root)
		if err != nil || wt.Branch == b.env.Worktree.Branch {
			return b.env, nil
		}
		b.logger.Info("branch changed", "from", b.env.Worktree.Branch, "to", wt.Branch)
		b.unforward()
		b.env.Close()
		b.env = nil
	}
	if b.dir == "" {
		dir, err := rootDir(ctx, req)
		if err != nil {
			return nil, err
		}
		b.dir, b.source = dir, "the client's roots"
	}
	env, err := envs.Open(ctx, b.dir)
	if err != nil {
		return nil, fmt.Errorf("worktree %s (from %s): %w", b.dir, b.source, err)
	}
	b.logger.Info("bound", "worktree", env.Worktree.Root, "branch", env.Worktree.Branch, "project", env.Project, "from", b.source)
	b.env = env
	fctx, cancel := context.WithCancel(context.Background())
	b.unforward = cancel
	go env.Forward(fctx, func(format string, args ...any) { b.logger.Info(fmt.Sprintf(format, args...)) })
	return env, nil
}

// Claim checks a call's worktree argument against the binding, binding an
// unbound server to it; env_list, which needs no worktree, calls it so
// that the argument means the same on every tool.
func (b *binding) Claim(_ context.Context, req mcp.CallToolRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.claim(req)
}

func (b *binding) claim(req mcp.CallToolRequest) error {
	arg, _ := req.GetArguments()[tools.WorktreeArg].(string)
	if arg == "" {
		return nil
	}
	if !filepath.IsAbs(arg) {
		return fmt.Errorf("%w: argument %q must be the worktree's absolute path, not %q", envs.ErrInvalidArguments, tools.WorktreeArg, arg)
	}
	wt, err := worktree.Open(arg)
	if err != nil {
		return fmt.Errorf("%w: argument %q: %s is not inside a git worktree; pass the absolute path of the worktree you work in", envs.ErrInvalidArguments, tools.WorktreeArg, arg)
	}
	if b.dir == "" {
		b.dir, b.source = wt.Root, "the worktree argument"
		b.logger.Info("bound by the worktree argument", "worktree", wt.Root)
		return nil
	}
	cur := b.dir
	if b.env != nil {
		cur = b.env.Worktree.Root
	} else if w, err := worktree.Open(b.dir); err == nil {
		cur = w.Root
	}
	if sameDir(cur, wt.Root) {
		return nil
	}
	return fmt.Errorf("%w: this server serves the worktree %s (from %s) for as long as it runs, and the call names %s; use the wtenv server registered for that worktree (start one there with `wtenv serve --worktree %s`), or leave out %q", envs.ErrInvalidArguments, cur, b.source, wt.Root, wt.Root, tools.WorktreeArg)
}

func sameDir(a, b string) bool {
	if ra, err := filepath.EvalSymlinks(a); err == nil {
		a = ra
	}
	if rb, err := filepath.EvalSymlinks(b); err == nil {
		b = rb
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// Close releases the engine connection.
func (b *binding) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.env != nil {
		b.unforward()
		b.env.Close()
	}
}
