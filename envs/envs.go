// Package envs is wtenv's core: for one git worktree it derives the stack's
// identity (project name, host ports), loads and isolates the worktree's
// compose project, and drives the engine. The CLI and the MCP tools are thin
// front ends over the verbs here; both return the same shapes.
package envs

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/pool"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
	"github.com/wtenv/wtenv/envs/worktree"
)

// Version is wtenv's version, written into the dev.wtenv.version label.
var Version = moduleVersion()

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Env is one worktree's environment: its identity and the engine and
// state store it uses.
type Env struct {
	Worktree worktree.Worktree
	Project  string // compose project name

	// cur is the engine the stack lives on, or will be placed on: it
	// changes only when an up places a stack that lives nowhere yet.
	cur   Engine
	curMu sync.RWMutex
	// pool is the engines file's pool (nil without one: the pool is the
	// engine Docker's settings name) and member the entry cur is.
	pool   *pool.Pool
	member pool.Engine
	store  *state.Store
	// machine is this machine's identity, written into dev.wtenv.host.
	machine string
	// changing serializes Up and Down within one process (an MCP server
	// may get overlapping calls); lockProject does it across processes.
	changing sync.Mutex
}

// Open binds to the worktree that contains dir and connects to the engine.
// The caller closes the Env.
func Open(ctx context.Context, dir string) (*Env, error) {
	e, err := OpenWithoutEngine(dir)
	if err != nil {
		return nil, err
	}
	if e.pool, err = pool.Load(); err != nil {
		return nil, err
	}
	if e.pool == nil {
		if e.cur, err = connect(ctx); err != nil {
			return nil, err
		}
		return e, nil
	}
	if err := e.bind(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// OpenWithoutEngine binds to the worktree that contains dir with no
// engine: for what needs none, such as Resolve (`wtenv config`), when no
// engine answers. Only Resolve, Config and Close may be called on it.
func OpenWithoutEngine(dir string) (*Env, error) {
	wt, err := worktree.Open(dir)
	if err != nil {
		return nil, err
	}
	store, err := openStore()
	if err != nil {
		return nil, err
	}
	return newEnv(wt, nil, store), nil
}

// newEnv binds a worktree to an engine and a state store.
func newEnv(wt worktree.Worktree, eng Engine, store *state.Store) *Env {
	return &Env{
		Worktree: wt,
		Project:  identity.ProjectName(wt.Repo, wt.Branch, wt.Root),
		cur:      eng,
		store:    store,
		machine:  identity.Machine(),
	}
}

// Close releases the engine connection.
func (e *Env) Close() error {
	if eng := e.engine(); eng != nil {
		return eng.Close()
	}
	return nil
}

// engine is the engine the stack lives on (or will be placed on).
func (e *Env) engine() Engine {
	e.curMu.RLock()
	defer e.curMu.RUnlock()
	return e.cur
}

// EngineRef names the engine the stack lives on, for the front ends.
func (e *Env) EngineRef() stack.EngineRef {
	e.curMu.RLock()
	eng, name := e.cur, e.member.Name
	e.curMu.RUnlock()
	if eng == nil {
		return stack.EngineRef{}
	}
	if e.pool == nil {
		name = defaultEngineName
	}
	return stack.EngineRef{Name: name, Host: eng.Host().Endpoint}
}

// Config reads wtenv.yaml (zero when absent). It is read on every use, so
// an edit takes effect at once, and only by the verbs that need it: a
// broken file never stands in the way of status, logs or down.
func (e *Env) Config() (compose.Config, error) {
	return compose.LoadConfig(e.Worktree.Root)
}

// scope names this worktree's stack on the engine.
func (e *Env) scope() engine.Scope {
	return engine.Scope{Project: e.Project, Worktree: e.Worktree.Root}
}

func openStore() (*state.Store, error) {
	dir, err := state.DefaultDir()
	if err != nil {
		return nil, fmt.Errorf("state directory: %w; set WTENV_STATE_DIR", err)
	}
	return state.Open(dir)
}
