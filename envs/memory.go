package envs

import (
	"context"
	"os"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// memoryLimit is the machine's budget: WTENV_MEMORY_BUDGET, else 80% of the
// smaller of the engine's memory and, for a local engine, the host's.
func memoryLimit(ctx context.Context, eng Engine) (int64, error) {
	var spec budget.Spec
	if v := os.Getenv(budget.EnvVar); v != "" {
		var err error
		if spec, err = budget.ParseBudget(v); err != nil {
			return 0, err
		}
	}
	engineTotal, err := eng.MemTotal(ctx)
	if err != nil {
		return 0, err
	}
	var hostTotal int64
	if eng.Host().Local {
		if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
			hostTotal = int64(vm.Total)
		}
	}
	return budget.Limit(spec, engineTotal, hostTotal), nil
}

// holders lists the stacks holding memory, except the one named exclude,
// from a look at the engine (stacks, taken at the time at) and the state
// file f read after it. It only reads; stale names the entries whose
// reservation no longer counts, for a caller that writes to clear them.
//
// A stack the engine runs holds the larger of its reservation and its
// measured use. A reservation of a stack with no container counts while
// its up is under way: the entry says starting and some wtenv process
// holds the project's lock (busy); an up killed mid-way leaves the flag,
// but the OS released its lock, so it stops counting at once. An entry
// changed after the engine was read is newer than the look: an up that
// finished since counts by its reservation, a down since counts nothing.
func holders(f *state.File, stacks []stack.Summary, at time.Time, exclude string, busy func(project string) bool) (out []budget.Holder, stale []string) {
	onEngine := map[string]bool{}
	for _, s := range stacks {
		onEngine[s.Project] = true
		if s.Project == exclude {
			continue
		}
		p := f.Projects[s.Project]
		newer := p != nil && p.UpdatedAt.After(at)
		if newer && p.Reserved == 0 && !p.Starting {
			continue // released (down) after the look
		}
		starting := p != nil && p.Starting && busy(s.Project)
		if s.State != stack.StateRunning && s.State != stack.StatePartial && !starting {
			continue // stopped: it holds nothing until its next up is admitted
		}
		h := budget.Holder{Project: s.Project, Branch: s.Branch, Worktree: s.Worktree, State: s.State, Measured: s.MemoryBytes}
		if p != nil {
			h.Reserved, h.IdleSince = p.Reserved, p.UpdatedAt
		}
		out = append(out, h)
	}
	for name, p := range f.Projects {
		if name == exclude || onEngine[name] || p.Reserved == 0 {
			continue
		}
		state := ""
		switch {
		case p.Starting && busy(name):
			state = "starting"
		case p.UpdatedAt.After(at):
			state = "started" // its up finished after the look at the engine
		default:
			// Its containers vanished (removed by hand, or its up died).
			stale = append(stale, name)
			continue
		}
		out = append(out, budget.Holder{Project: name, Branch: p.Branch, Worktree: p.Worktree, State: state, Reserved: p.Reserved, IdleSince: p.UpdatedAt})
	}
	return out, stale
}

// admit reserves what the project needs, or refuses with the list of
// stacks holding memory, before anything is created. The engine is read
// first, without any lock; the decision is taken under the state file's
// lock, from the state as it is then, so concurrent admissions in separate
// processes serialize and see each other's reservations, and together
// never overshoot.
func (e *Env) admit(ctx context.Context, p *types.Project) error {
	limit, err := memoryLimit(ctx, e.engine)
	if err != nil {
		return err
	}
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	estimate, err := cfg.Memory.EstimateBytes()
	if err != nil {
		return err
	}
	var limits []int64
	for _, s := range p.Services {
		limits = append(limits, engine.MemoryLimit(s))
	}
	snap, err := e.engine.Snapshot(ctx, engine.Scope{})
	if err != nil {
		return err
	}
	stacks := summaries(snap)
	return e.store.Update(ctx, func(f *state.File) error {
		others, stale := holders(f, stacks, snap.At, e.Project, e.store.Busy)
		for _, name := range stale {
			f.Projects[name].Reserved, f.Projects[name].Starting = 0, false
		}
		self := project(f, e)
		need, rule := budget.Need(self.PeakMemory, estimate, limits)
		now := time.Now().UTC()
		d := budget.Admit(limit, need, others)
		// A stack that already runs holds its memory; up on it only
		// reconciles, so it is never refused.
		if !d.Admit && !running(stacks, e.Project) {
			return budget.Refusal(d, e.Project, rule, now)
		}
		self.Reserved, self.Starting, self.UpdatedAt = need, true, now
		return nil
	})
}

func running(stacks []stack.Summary, project string) bool {
	for _, s := range stacks {
		if s.Project == project {
			return s.State == stack.StateRunning || s.State == stack.StatePartial
		}
	}
	return false
}

// started marks the end of an admitted up: from now on the reservation
// counts only while the stack has containers.
func (e *Env) started(ctx context.Context) error {
	return e.store.Update(ctx, func(f *state.File) error {
		if p := f.Projects[e.Project]; p != nil {
			p.Starting, p.UpdatedAt = false, time.Now().UTC()
		}
		return nil
	})
}

// release drops the project's reservation (down, or a failed up) and keeps
// its measured peak for the next admission.
func (e *Env) release(ctx context.Context) error {
	return e.store.Update(ctx, func(f *state.File) error {
		if p := f.Projects[e.Project]; p != nil {
			p.Reserved, p.Starting, p.UpdatedAt = 0, false, time.Now().UTC()
		}
		return nil
	})
}

// recordPeak keeps the largest memory use measured for the project, which
// later admissions use as its need, and returns the state as it is then.
// The file is written only when the peak grows.
func (e *Env) recordPeak(ctx context.Context, measured int64) (*state.File, error) {
	f, err := e.store.Read(ctx)
	if err != nil {
		return nil, err
	}
	if p := f.Projects[e.Project]; measured <= 0 || (p != nil && p.PeakMemory >= measured) {
		return f, nil
	}
	err = e.store.Update(ctx, func(u *state.File) error {
		p := project(u, e)
		p.PeakMemory = max(p.PeakMemory, measured)
		f = u
		return nil
	})
	return f, err
}

// budgetSummary is the budget object of Status and List.
func budgetSummary(ctx context.Context, eng Engine, store *state.Store, f *state.File, snap engine.Snapshot) (stack.Budget, error) {
	limit, err := memoryLimit(ctx, eng)
	if err != nil {
		return stack.Budget{}, err
	}
	hs, _ := holders(f, summaries(snap), snap.At, "", store.Busy)
	b := budget.Summarize(limit, hs)
	return stack.Budget{LimitBytes: b.LimitBytes, UsedBytes: b.UsedBytes, FreeBytes: b.FreeBytes}, nil
}

// project returns the state entry of e's project, creating it.
func project(f *state.File, e *Env) *state.Project {
	if f.Projects == nil {
		f.Projects = map[string]*state.Project{}
	}
	p := f.Projects[e.Project]
	if p == nil {
		p = &state.Project{}
		f.Projects[e.Project] = p
	}
	p.Worktree, p.Branch = e.Worktree.Root, e.Worktree.Branch
	return p
}
