package envs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// memoryLimit is an engine's budget: its own in the engines file, else
// WTENV_MEMORY_BUDGET, else 80% of the smaller of the engine's memory and,
// for a local engine, the host's.
func memoryLimit(ctx context.Context, eng Engine, spec budget.Spec) (int64, error) {
	if v := os.Getenv(budget.EnvVar); v != "" && spec == (budget.Spec{}) {
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
//
// The state file holds the entries of every engine of the pool; of those
// without a container on this engine, only the ones sl places here count.
func holders(f *state.File, stacks []stack.Summary, at time.Time, exclude string, busy func(project string) bool, sl slot) (out []budget.Holder, stale []string) {
	onEngine := map[string]bool{}
	for _, s := range stacks {
		onEngine[s.Project] = true
		if s.Project == exclude {
			continue
		}
		p := f.Projects[s.Project]
		newer := p != nil && p.UpdatedAt.After(at)
		// A stack being put to sleep holds what it runs until its
		// containers have stopped, although its reservation is gone.
		sleeping := p != nil && p.Asleep && !p.Starting && busy(s.Project)
		if newer && p.Reserved == 0 && !p.Starting && !sleeping {
			continue // released (down) after the look
		}
		starting := p != nil && p.Starting && busy(s.Project)
		if s.State != stack.StateRunning && s.State != stack.StatePartial && !starting {
			continue // stopped: it holds nothing until its next up is admitted
		}
		h := budget.Holder{Project: s.Project, Branch: s.Branch, Worktree: s.Worktree, State: s.State, Measured: s.MemoryBytes}
		if p != nil {
			h.Reserved, h.IdleSince = p.Reserved, p.LastUsed()
		}
		out = append(out, h)
	}
	for name, p := range f.Projects {
		if name == exclude || onEngine[name] || p.Reserved == 0 || !sl.has(p) {
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
		out = append(out, budget.Holder{Project: name, Branch: p.Branch, Worktree: p.Worktree, State: state, Reserved: p.Reserved, IdleSince: p.LastUsed()})
	}
	return out, stale
}

// admission is what admit decided: the project's memory is reserved, and
// victims are the idle stacks to put to sleep (their locks held) before it
// starts.
type admission struct {
	victims []victim
}

// errRoomComing makes admit look again: the stack does not fit, but
// another stack is being put to sleep and will free its memory soon.
var errRoomComing = errors.New("room is being made")

// errIdleSoon makes admit look again: the stack does not fit and no stack
// is idle enough to be put to sleep, but enough will be within the wait
// (WTENV_ADMIT_WAIT).
var errIdleSoon = errors.New("stacks will turn idle soon")

// maxRoomWait bounds how long admit waits for other stacks' sleeps to
// free memory (each stop honours its containers' grace periods).
const maxRoomWait = 2 * time.Minute

// admit reserves what the project needs, putting idle stacks to sleep to
// make room when it does not fit. When no stack is idle enough yet but
// enough will be within WTENV_ADMIT_WAIT, it waits for them; otherwise it
// refuses with the list of stacks holding memory, before anything is
// created. The engine is read first, without any lock; the decision is
// taken under the state file's lock, from the state as it is then, so
// concurrent admissions in separate processes serialize, see each other's
// reservations and evictions, and together never overshoot nor evict one
// stack twice.
func (e *Env) admit(ctx context.Context, p *types.Project, progress func(string)) (admission, error) {
	if progress == nil {
		progress = func(string) {}
	}
	pol, err := e.admitPolicy(ctx, p)
	if err != nil {
		return admission{}, err
	}
	sl := e.slot()
	start := time.Now()
	giveUp, waitUntil := start.Add(maxRoomWait), start.Add(pol.wait)
	var sleepsSeen bool
	var idleWait time.Time // when admission began to wait for stacks to turn idle
	for {
		snap, err := e.engine().Snapshot(ctx, engine.Scope{})
		if err != nil {
			return admission{}, err
		}
		stacks := summaries(snap)
		var adm admission
		var soon time.Time
		err = e.store.Update(ctx, func(f *state.File) error {
			adm = admission{}
			others, stale := holders(f, stacks, snap.At, e.Project, e.store.Busy, sl)
			for _, name := range stale {
				f.Projects[name].Reserved, f.Projects[name].Starting = 0, false
			}
			self := project(f, e)
			need, rule := budget.Need(self.PeakMemory, pol.estimate, pol.limits)
			now := time.Now().UTC()
			d := budget.Admit(pol.limit, need, others)
			// A stack that already runs holds its memory; up on it only
			// reconciles, so it is never refused.
			if !d.Admit && !running(stacks, e.Project) {
				victims, annotated := chooseVictims(d, f, now, pol.idleAfter, e.store.TryLockIdle)
				if victims == nil {
					if sleepingNow(f, others, e.store.Busy) && now.Before(giveUp) {
						return errRoomComing
					}
					if at, ok := budget.RoomAt(annotated, d.Used+d.Need-d.Limit, now); ok && !at.After(waitUntil) {
						soon = at
						return errIdleSoon
					}
					d.Holders, d.IdlePolicy = annotated, budget.DescribeIdleAfter(pol.idleAfter)+", "+pol.idleSource
					d.Wait = pol.wait
					if !idleWait.IsZero() {
						d.Waited = now.Sub(idleWait)
					}
					return budget.Refusal(d, e.Project, rule, now)
				}
				markAsleep(f, victims, e.Project, now)
				adm.victims = victims
			}
			self.Reserved, self.Starting, self.UpdatedAt = need, true, now
			self.Engine = sl.name
			return nil
		})
		var pause time.Duration
		switch {
		case errors.Is(err, errRoomComing):
			if !sleepsSeen {
				progress("waiting for stacks being put to sleep to free their memory")
			}
			sleepsSeen, pause = true, 250*time.Millisecond
		case errors.Is(err, errIdleSoon):
			if idleWait.IsZero() {
				idleWait = time.Now()
				progress(fmt.Sprintf("memory budget full and no stack idle yet: waiting for stacks to turn idle or their test runs to end (at most %s, %s)",
					budget.DescribeIdleAfter(pol.wait), budget.WaitEnvVar))
			}
			// Room may come sooner: a down, a sleep, a stack that shrinks.
			pause = min(max(time.Until(soon), 250*time.Millisecond), 2*time.Second, max(time.Until(waitUntil), 10*time.Millisecond))
		case err != nil:
			for _, v := range adm.victims {
				v.unlock() // the state was not written: they stay as they were
			}
			return admission{}, err
		default:
			return adm, nil
		}
		select {
		case <-ctx.Done():
			return admission{}, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// admitPolicy is what an admission goes by, read once for it: the budget,
// the stack's estimate and its services' memory limits, the machine's idle
// policy and where it comes from, and how long to wait for room.
type admitPolicy struct {
	limit, estimate int64
	limits          []int64
	idleAfter       time.Duration
	idleSource      string
	wait            time.Duration
}

func (e *Env) admitPolicy(ctx context.Context, p *types.Project) (admitPolicy, error) {
	var pol admitPolicy
	var err error
	if pol.limit, err = memoryLimit(ctx, e.engine(), e.slot().spec); err != nil {
		return pol, err
	}
	cfg, err := e.Config()
	if err != nil {
		return pol, err
	}
	if pol.estimate, err = cfg.Memory.EstimateBytes(); err != nil {
		return pol, err
	}
	if pol.idleAfter, pol.idleSource, err = budget.MachineIdleAfter(); err != nil {
		return pol, err
	}
	for _, s := range p.Services {
		pol.limits = append(pol.limits, engine.MemoryLimit(s))
	}
	pol.wait, err = budget.MachineWait()
	return pol, err
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
			awake(p)
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

// observe records that a call used the stack now (its idle time starts
// again) and keeps the largest memory use measured for the project, which
// later admissions use as its need. It returns the state as it is then.
// A status polled more often than touchEvery only reads: idle times are
// judged in seconds at the finest.
func (e *Env) observe(ctx context.Context, measured int64) (*state.File, error) {
	f, err := e.store.Read(ctx)
	if err != nil {
		return nil, err
	}
	if p := f.Projects[e.Project]; p != nil && p.PeakMemory >= measured && time.Since(p.TouchedAt) < touchEvery {
		return f, nil
	}
	var out *state.File
	err = e.store.Update(ctx, func(f *state.File) error {
		p := project(f, e)
		p.PeakMemory = max(p.PeakMemory, measured)
		p.TouchedAt = time.Now().UTC()
		out = f
		return nil
	})
	return out, err
}

// touchEvery is how fresh a touch must be for status to skip writing one.
const touchEvery = time.Second

// budgetSummary is the budget object of Status and List.
func budgetSummary(ctx context.Context, eng Engine, sl slot, store *state.Store, f *state.File, snap engine.Snapshot) (stack.Budget, error) {
	limit, err := memoryLimit(ctx, eng, sl.spec)
	if err != nil {
		return stack.Budget{}, err
	}
	stacks := summaries(snap)
	hs, _ := holders(f, stacks, snap.At, "", store.Busy, sl)
	b := budget.Summarize(limit, hs)
	out := stack.Budget{LimitBytes: b.LimitBytes, UsedBytes: b.UsedBytes, FreeBytes: b.FreeBytes}
	for _, s := range stacks {
		if p := f.Projects[s.Project]; p != nil && p.Asleep && s.State == stack.StateStopped {
			out.AsleepStacks++
			out.AsleepBytes += p.AsleepBytes
		}
	}
	return out, nil
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
