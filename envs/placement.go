package envs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/go-units"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/pool"
	"github.com/wtenv/wtenv/envs/state"
)

// slot is one engine's part of the state file: the budget it goes by and
// which entries' reservations count on it.
type slot struct {
	name   string
	spec   budget.Spec
	pooled bool // an engines file names the engine
	first  bool // the pool's first engine, where entries made before the pool count
}

func slotOf(pl *pool.Pool, pe pool.Engine) slot {
	if pl == nil {
		return slot{}
	}
	return slot{name: pe.Name, spec: pe.Budget, pooled: true, first: len(pl.Engines) > 0 && pl.Engines[0].Name == pe.Name}
}

// has reports whether p's reservation counts on the slot's engine.
func (s slot) has(p *state.Project) bool {
	return !s.pooled || p.Engine == s.name || (p.Engine == "" && s.first)
}

// slot is the slot of the engine e's stack lives on.
func (e *Env) slot() slot {
	e.curMu.RLock()
	defer e.curMu.RUnlock()
	return slotOf(e.pool, e.member)
}

// place chooses the engine of the pool for a stack that lives nowhere yet,
// before its up is admitted: the engine wtenv.yaml's engine: pins, else
// the engine of the repository's shared services when it uses them, else
// the one with the most free budget that can hold the stack, else the one
// with the most free budget (admission there makes room by sleep, waits,
// or refuses naming who holds the memory). An engine that does not answer
// is skipped with a note. A stack placed once stays on its engine until
// down --purge: its volumes live there.
func (e *Env) place(ctx context.Context, cfg compose.Config, progress func(string)) error {
	if e.pool == nil {
		return nil
	}
	if err := e.follow(ctx); err != nil {
		return err
	}
	f, err := e.store.Read(ctx)
	if err != nil {
		return err
	}
	here := e.slot().name
	if e.placed(ctx, f) {
		if cfg.Engine != "" && cfg.Engine != here {
			return fmt.Errorf("%w: wtenv.yaml pins engine %q, but this stack lives on engine %q (its volumes are there); run `wtenv down --purge` to place it anew (its data goes), or remove engine: from wtenv.yaml", ErrInvalidArguments, cfg.Engine, here)
		}
		return nil
	}
	name, why, err := e.wantEngine(cfg, f)
	if err != nil {
		return err
	}
	if name != "" {
		pe, ok := e.pool.Find(name)
		if !ok {
			return fmt.Errorf("%w: %s names engine %q, which %s does not list (it lists %s); name one of those, or add it there", ErrInvalidArguments, why, name, e.pool.Path, engineNames(e.pool))
		}
		if name == here {
			return nil
		}
		c, cancel := context.WithTimeout(ctx, dialWait)
		defer cancel()
		eng, err := dial(c, pe.Host)
		if err != nil {
			return fmt.Errorf("%s names engine %q: %w", why, name, err)
		}
		e.setEngine(pe, eng)
		progress(fmt.Sprintf("placed on engine %s (%s)", name, why))
		return nil
	}
	if len(e.pool.Engines) < 2 {
		return nil
	}
	began := time.Now()
	need, err := e.need(ctx, cfg, f)
	if err != nil {
		return err
	}
	ms := dialPool(ctx, e.pool)
	best, bestFree, fits := -1, int64(0), false
	for i, m := range ms {
		if m.eng == nil {
			progress(fmt.Sprintf("engine %s (%s) does not answer: skipped (%v)", m.Name, m.Host, m.err))
			continue
		}
		free, err := freeOn(ctx, e.pool, m, f, e.Project, e.store.Busy)
		if err != nil {
			progress(fmt.Sprintf("engine %s: %v: skipped", m.Name, err))
			continue
		}
		ok := free >= need
		if best < 0 || (ok && !fits) || (ok == fits && free > bestFree) {
			best, bestFree, fits = i, free, ok
		}
	}
	if best < 0 {
		return noEngine(e.pool, ms)
	}
	closeMembers(ms, ms[best].eng)
	e.setEngine(ms[best].Engine, ms[best].eng)
	progress(fmt.Sprintf("placed on engine %s: %s free of its budget, %s needed (chosen among %d engines in %.2fs)", ms[best].Name, units.BytesSize(float64(max(bestFree, 0))), units.BytesSize(float64(need)), len(ms), time.Since(began).Seconds()))
	return nil
}

// wantEngine is the engine a new stack must go to, and why: engine: in
// wtenv.yaml, else the engine of the repository's shared services.
func (e *Env) wantEngine(cfg compose.Config, f *state.File) (name, why string, err error) {
	shared := ""
	if len(cfg.Share) > 0 {
		if s, err := e.sharedEnv(); err == nil {
			if sp := f.Projects[s.Project]; sp != nil && sp.Engine != "" {
				shared, why = sp.Engine, "the repository's shared services ("+s.Project+")"
			}
		}
	}
	if cfg.Engine != "" {
		if shared != "" && shared != cfg.Engine {
			return "", "", fmt.Errorf("%w: wtenv.yaml pins engine %q, but %s run on engine %q, and a worktree's stack must run beside them; pin %q, or remove engine:", ErrInvalidArguments, cfg.Engine, why, shared, shared)
		}
		return cfg.Engine, "wtenv.yaml's engine:", nil
	}
	return shared, why, nil
}

// need is what admission will reserve for e's stack: its measured peak,
// else its estimate or its services' memory limits.
func (e *Env) need(ctx context.Context, cfg compose.Config, f *state.File) (int64, error) {
	p, err := compose.Load(ctx, e.Worktree.Root, cfg, e.Project)
	if err != nil {
		return 0, err
	}
	estimate, err := cfg.Memory.EstimateBytes()
	if err != nil {
		return 0, err
	}
	var limits []int64
	for _, s := range p.Services {
		limits = append(limits, engine.MemoryLimit(s))
	}
	var peak int64
	if sp := f.Projects[e.Project]; sp != nil {
		peak = sp.PeakMemory
	}
	need, _ := budget.Need(peak, estimate, limits)
	return need, nil
}

// freeOn is the free budget of the pool's engine m for project.
func freeOn(ctx context.Context, pl *pool.Pool, m member, f *state.File, project string, busy func(string) bool) (int64, error) {
	snap, err := m.eng.Snapshot(ctx, engine.Scope{})
	if err != nil {
		return 0, err
	}
	sl := slotOf(pl, m.Engine)
	limit, err := memoryLimit(ctx, m.eng, sl.spec)
	if err != nil {
		return 0, err
	}
	hs, _ := holders(f, summaries(snap), snap.At, project, busy, sl)
	return budget.Summarize(limit, hs).FreeBytes, nil
}

func engineNames(pl *pool.Pool) string {
	var names []string
	for _, pe := range pl.Engines {
		names = append(names, pe.Name)
	}
	return strings.Join(names, ", ")
}

// placeFor places e's stack before an up when it lives nowhere yet.
func (e *Env) placeFor(ctx context.Context, progress func(string)) error {
	if e.pool == nil {
		return nil
	}
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	return e.place(ctx, cfg, progress)
}

// bindAll makes published ports that name no host address listen on every
// address of a remote engine's machine, so that its URLs answer from here
// (on a local engine they bind to 127.0.0.1).
func bindAll(p *types.Project) {
	for name, s := range p.Services {
		for i := range s.Ports {
			if s.Ports[i].HostIP == "" {
				s.Ports[i].HostIP = "0.0.0.0"
			}
		}
		p.Services[name] = s
	}
}
