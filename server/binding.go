package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/worktree"
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
// inside a git worktree; otherwise it is taken from the client's first root
// at the first tool call. Once bound it never changes.
type binding struct {
	mu     sync.Mutex
	dir    string // "" until known
	source string // how dir was chosen, for logs
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
				b.dir, b.source = cwd, "current directory"
			}
		}
	}
	return b
}

func (b *binding) describe() string {
	if b.dir == "" {
		return "(from the client's roots)"
	}
	return b.dir + " (" + b.source + ")"
}

// Env returns the bound worktree's environment, opening it on first use.
// A failure (engine down, not a worktree) is returned and retried on the
// next call, so starting the engine later needs no server restart.
func (b *binding) Env(ctx context.Context, req mcp.CallToolRequest) (*envs.Env, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
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
		dir, err := rootDir(ctx)
		if err != nil {
			return nil, err
		}
		b.dir, b.source = dir, "client root"
	}
	env, err := envs.Open(ctx, b.dir)
	if err != nil {
		return nil, fmt.Errorf("worktree %s (%s): %w", b.dir, b.source, err)
	}
	b.logger.Info("bound", "worktree", env.Worktree.Root, "branch", env.Worktree.Branch, "project", env.Project)
	b.env = env
	fctx, cancel := context.WithCancel(context.Background())
	b.unforward = cancel
	go env.Forward(fctx, func(format string, args ...any) { b.logger.Info(fmt.Sprintf(format, args...)) })
	return env, nil
}

// rootDir asks the client for its roots and returns the first file root.
func rootDir(ctx context.Context) (string, error) {
	const next = "start wtenv serve with --worktree DIR or WTENV_WORKTREE, or from inside a git worktree"
	srv := mcpserver.ServerFromContext(ctx)
	if srv == nil {
		return "", fmt.Errorf("%w: %s", ErrUnbound, next)
	}
	res, err := srv.RequestRoots(ctx, mcp.ListRootsRequest{})
	if err != nil {
		return "", fmt.Errorf("%w: the client did not answer roots/list (%v); %s", ErrUnbound, err, next)
	}
	for _, r := range res.Roots {
		u, err := url.Parse(r.URI)
		if err == nil && u.Scheme == "file" && u.Path != "" {
			return u.Path, nil
		}
	}
	return "", fmt.Errorf("%w: the client sent no file:// root; %s", ErrUnbound, next)
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
