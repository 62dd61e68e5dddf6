package envs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/pool"
	"github.com/wtenv/wtenv/envs/state"
)

// defaultEngineName names the one engine of a machine without an engines
// file: the one Docker's own settings name.
const defaultEngineName = "default"

// dialWait bounds how long an engine of the pool has to answer.
const dialWait = 5 * time.Second

// dial connects to one engine of the pool.
var dial = func(ctx context.Context, host string) (Engine, error) {
	d, err := engine.Dial(ctx, host)
	if err != nil {
		return nil, err // not a nil *Docker in a non-nil Engine
	}
	return d, nil
}

// member is one engine of the pool as this process found it.
type member struct {
	pool.Engine
	eng Engine // nil when it did not answer
	err error
}

// dialPool connects to every engine of the pool at once, each given
// dialWait to answer.
func dialPool(ctx context.Context, pl *pool.Pool) []member {
	out := make([]member, len(pl.Engines))
	var wg sync.WaitGroup
	for i, pe := range pl.Engines {
		out[i].Engine = pe
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(ctx, dialWait)
			defer cancel()
			out[i].eng, out[i].err = dial(c, pe.Host)
		}()
	}
	wg.Wait()
	return out
}

// closeMembers closes every connection of ms but keep.
func closeMembers(ms []member, keep Engine) {
	for _, m := range ms {
		if m.eng != nil && m.eng != keep {
			m.eng.Close()
		}
	}
}

// setEngine makes eng, the pool's entry pe, the engine of e's stack.
func (e *Env) setEngine(pe pool.Engine, eng Engine) {
	e.curMu.Lock()
	defer e.curMu.Unlock()
	if e.cur != nil && e.cur != eng {
		e.cur.Close()
	}
	e.member, e.cur = pe, eng
}

// bind finds the engine of the pool that e's stack lives on: the one the
// state file recorded when it was placed, else one that holds something
// labelled with its project (the state file was lost), else the pool's
// first engine that answers, where an up places it anew. A stack whose
// engine does not answer is bound to it all the same: it reports
// unreachable, and what needs the engine says which one to start.
func (e *Env) bind(ctx context.Context) error {
	f, err := e.store.Read(ctx)
	if err != nil {
		return err
	}
	if p := f.Projects[e.Project]; p != nil && p.Engine != "" {
		if pe, ok := e.pool.Find(p.Engine); ok {
			e.setEngine(pe, dialOrSilent(ctx, pe))
			return nil
		}
	}
	ms := dialPool(ctx, e.pool)
	pick := -1
	for i, m := range ms {
		if m.eng == nil {
			continue
		}
		if pick < 0 {
			pick = i
		}
		if holds(ctx, m.eng, e.Project) {
			pick = i
			break
		}
	}
	if pick < 0 {
		return noEngine(e.pool, ms)
	}
	closeMembers(ms, ms[pick].eng)
	e.setEngine(ms[pick].Engine, ms[pick].eng)
	return nil
}

// follow rebinds e to the engine the state file places its stack on, when
// that is not the engine e holds (another process placed the stack since
// e was opened), and dials again an engine that did not answer before, so
// a long-lived server follows its stack and sees its engine come back.
func (e *Env) follow(ctx context.Context) error {
	if e.pool == nil {
		return nil
	}
	f, err := e.store.Read(ctx)
	if err != nil {
		return err
	}
	e.curMu.RLock()
	name, cur := e.member.Name, e.cur
	e.curMu.RUnlock()
	_, down := cur.(unreachable)
	p := f.Projects[e.Project]
	if p == nil || p.Engine == "" || (p.Engine == name && !down) {
		return nil
	}
	pe, ok := e.pool.Find(p.Engine)
	if !ok {
		return nil
	}
	e.setEngine(pe, dialOrSilent(ctx, pe))
	return nil
}

// dialOrSilent connects to the pool's engine pe, giving it dialWait to
// answer; one that does not is an unreachable engine that names itself.
func dialOrSilent(ctx context.Context, pe pool.Engine) Engine {
	c, cancel := context.WithTimeout(ctx, dialWait)
	defer cancel()
	eng, err := dial(c, pe.Host)
	if err != nil {
		return unreachable{pe: pe, err: err}
	}
	return eng
}

// holds reports whether eng has anything labelled with project.
func holds(ctx context.Context, eng Engine, project string) bool {
	owners, err := eng.Owners(ctx)
	if err != nil {
		return false
	}
	for _, o := range owners {
		if o.Project == project {
			return true
		}
	}
	return false
}

// noEngine is the error when no engine of the pool answers.
func noEngine(pl *pool.Pool, ms []member) error {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "; %s (%s): %v", m.Name, m.Host, m.err)
	}
	return fmt.Errorf("%w: no engine of the pool in %s answers%s; start one, or fix the file", engine.ErrUnreachable, pl.Path, b.String())
}

// placed reports whether e's stack is bound to its engine for good: the
// state file records it there, or the engine holds something of it.
func (e *Env) placed(ctx context.Context, f *state.File) bool {
	if p := f.Projects[e.Project]; p != nil && p.Engine != "" {
		return true
	}
	return holds(ctx, e.engine(), e.Project)
}

// down reports whether err says the engine did not answer.
func down(err error) bool {
	if errors.Is(err, engine.ErrUnreachable) || client.IsErrConnectionFailed(err) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// unreachable stands for an engine of the pool that did not answer when
// wtenv connected: the stack on it reports unreachable, and every verb
// that needs the engine fails naming it.
type unreachable struct {
	pe  pool.Engine
	err error
}

func (u unreachable) fail() error {
	return fmt.Errorf("%w: this stack lives on engine %q (%s), which does not answer: %v; start that engine (the stack's volumes are there), or run `wtenv down --purge` once it answers to place the stack anew", engine.ErrUnreachable, u.pe.Name, u.pe.Host, u.err)
}

func (u unreachable) Host() engine.Host { return engine.HostOf(u.pe.Host) }
func (u unreachable) MemTotal(context.Context) (int64, error) {
	return 0, u.fail()
}
func (u unreachable) Snapshot(context.Context, engine.Scope) (engine.Snapshot, error) {
	return engine.Snapshot{}, u.fail()
}
func (u unreachable) PublishedPorts(context.Context) (map[int]engine.Scope, error) {
	return nil, u.fail()
}
func (u unreachable) Owners(context.Context) ([]engine.Owner, error) { return nil, u.fail() }
func (u unreachable) Up(context.Context, *types.Project, engine.Meta, engine.UpOptions) error {
	return u.fail()
}
func (u unreachable) Stop(context.Context, engine.Scope) (int, error) { return 0, u.fail() }
func (u unreachable) Down(context.Context, engine.Scope, bool) (engine.DownResult, error) {
	return engine.DownResult{}, u.fail()
}
func (u unreachable) Logs(context.Context, engine.Scope, string, int) (string, error) {
	return "", u.fail()
}
func (u unreachable) RunOneOff(context.Context, *types.Project, engine.Meta, engine.RunOptions) (int, error) {
	return 0, u.fail()
}
func (u unreachable) RemoveOneOff(context.Context, string) error { return u.fail() }
func (u unreachable) Exec(context.Context, string, string, []string) (string, string, int, error) {
	return "", "", 0, u.fail()
}
func (u unreachable) Join(context.Context, string, string, []string) error { return u.fail() }
func (u unreachable) Close() error                                         { return nil }
