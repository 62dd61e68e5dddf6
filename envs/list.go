package envs

import (
	"context"
	"errors"
	"sort"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/pool"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// List reports every wtenv stack on the engine, or with an engines file on
// every engine of the pool, each with its engine. It needs no worktree.
func List(ctx context.Context) (stack.List, error) {
	store, pl, err := openPool()
	if err != nil {
		return stack.List{}, err
	}
	if pl == nil {
		eng, err := connect(ctx)
		if err != nil {
			return stack.List{}, err
		}
		defer eng.Close()
		return list(ctx, eng, slot{}, store)
	}
	ms := dialPool(ctx, pl)
	defer closeMembers(ms, nil)
	return listPool(ctx, pl, ms, store)
}

func list(ctx context.Context, eng Engine, sl slot, store *state.Store) (stack.List, error) {
	snap, err := eng.Snapshot(ctx, engine.Scope{})
	if err != nil {
		return stack.List{}, err
	}
	return listOf(ctx, eng, snap, sl, store)
}

// listOf is the List of what snap saw on eng.
func listOf(ctx context.Context, eng Engine, snap engine.Snapshot, sl slot, store *state.Store) (stack.List, error) {
	f, err := store.Read(ctx)
	if err != nil {
		return stack.List{}, err
	}
	b, err := budgetSummary(ctx, eng, sl, store, f, snap)
	stacks := summaries(snap)
	for i, s := range stacks {
		stacks[i].State, _ = sleepState(s.State, f.Projects[s.Project], store.Busy(s.Project))
		stacks[i].Engine = sl.name
	}
	return stack.List{Stacks: stacks, Budget: b}, err
}

// listPool lists the stacks of every engine of the pool. An engine that
// does not answer is reported as such, and the stacks this machine placed
// on it are listed unreachable; the budget is the sum over the engines
// that answer.
func listPool(ctx context.Context, pl *pool.Pool, ms []member, store *state.Store) (stack.List, error) {
	out := stack.List{Stacks: []stack.Summary{}}
	f, err := store.Read(ctx)
	if err != nil {
		return out, err
	}
	self := identity.Machine()
	var errs []error
	for _, m := range ms {
		es := stack.EngineStatus{Name: m.Name, Host: m.Host, Reachable: m.eng != nil}
		sl := slotOf(pl, m.Engine)
		if m.eng == nil {
			es.Error, es.Local = m.err.Error(), engine.HostOf(m.Host).Local
			for name, p := range f.Projects {
				if p.Engine == m.Name {
					out.Stacks = append(out.Stacks, stack.Summary{Project: name, Worktree: p.Worktree, Branch: p.Branch, State: stack.StateUnreachable, Engine: m.Name})
					es.Mine++
				}
			}
			out.Engines = append(out.Engines, es)
			continue
		}
		es.Local = m.eng.Host().Local
		snap, err := m.eng.Snapshot(ctx, engine.Scope{})
		var l stack.List
		if err == nil {
			l, err = listOf(ctx, m.eng, snap, sl, store)
		}
		if err != nil {
			es.Reachable, es.Error = false, err.Error()
			errs = append(errs, err)
			out.Engines = append(out.Engines, es)
			continue
		}
		es.Budget, es.Stacks = l.Budget, len(l.Stacks)
		for _, s := range l.Stacks {
			es.MemoryBytes += s.MemoryBytes
		}
		mine := map[string]bool{}
		for _, c := range snap.Containers {
			if c.Host == self {
				mine[c.Project] = true
			}
		}
		es.Mine = len(mine)
		out.Stacks = append(out.Stacks, l.Stacks...)
		out.Budget.LimitBytes += l.Budget.LimitBytes
		out.Budget.UsedBytes += l.Budget.UsedBytes
		out.Budget.FreeBytes += l.Budget.FreeBytes
		out.Budget.AsleepBytes += l.Budget.AsleepBytes
		out.Budget.AsleepStacks += l.Budget.AsleepStacks
		out.Engines = append(out.Engines, es)
	}
	sort.SliceStable(out.Stacks, func(i, j int) bool { return out.Stacks[i].Project < out.Stacks[j].Project })
	return out, errors.Join(errs...)
}

// Engines reports the pool: each engine, its budget, what it holds and
// whether it answers. Without an engines file the pool is the one engine
// Docker's settings name, called default.
func Engines(ctx context.Context) (stack.Engines, error) {
	store, pl, err := openPool()
	if err != nil {
		return stack.Engines{}, err
	}
	if pl == nil {
		es := stack.EngineStatus{Name: defaultEngineName}
		eng, err := connect(ctx)
		if err != nil {
			es.Error = err.Error()
			return stack.Engines{Engines: []stack.EngineStatus{es}}, nil
		}
		defer eng.Close()
		es.Host, es.Local = eng.Host().Endpoint, eng.Host().Local
		ps := &pool.Pool{Engines: []pool.Engine{{Name: defaultEngineName, Host: es.Host}}}
		l, err := listPool(ctx, ps, []member{{Engine: ps.Engines[0], eng: eng}}, store)
		return stack.Engines{Engines: l.Engines}, err
	}
	ms := dialPool(ctx, pl)
	defer closeMembers(ms, nil)
	l, err := listPool(ctx, pl, ms, store)
	return stack.Engines{File: pl.Path, Engines: l.Engines}, err
}

// openPool opens the state store and reads the engines file (nil pool
// without one), for the verbs that span every engine.
func openPool() (*state.Store, *pool.Pool, error) {
	store, err := openStore()
	if err != nil {
		return nil, nil, err
	}
	pl, err := pool.Load()
	return store, pl, err
}
