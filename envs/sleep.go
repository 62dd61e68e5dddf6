package envs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// ErrInUse means the stack cannot be put to sleep now: a test run is using
// it.
var ErrInUse = errors.New("stack in use")

// Sleep puts the worktree's stack to sleep: its containers stop, dependents
// first, and keep their data, names and ports; it holds no memory in the
// budget until a call that needs it running wakes it. It waits for an up or
// down under way, refuses while a test run uses the stack, and is
// idempotent. A stack with no containers has nothing to put to sleep and
// is reported as it is.
func (e *Env) Sleep(ctx context.Context, progress func(string)) (stack.Stack, error) {
	_ = e.follow(ctx) // a read of the state file; what fails there fails below too
	if progress == nil {
		progress = func(string) {}
	}
	unlock, err := e.lockProject(ctx)
	if err != nil {
		return stack.Stack{}, err
	}
	defer unlock()
	unuse, ok := e.store.TryLockUnused(e.Project)
	if !ok {
		return stack.Stack{}, fmt.Errorf("%w: a test run is using %s; put it to sleep once the run has ended", ErrInUse, e.Project)
	}
	defer unuse()
	snap, err := e.engine().Snapshot(ctx, e.scope())
	if err != nil {
		return stack.Stack{}, fmt.Errorf("status of %s: %w", e.Project, err)
	}
	st := stackOf(snap, e.scope(), e.engine().Host(), nil)
	if st.State != stack.StateAbsent {
		// The intent is recorded before anything stops: a process killed
		// half way leaves a stack the next call recognises as going to
		// sleep (see sleepState).
		now := time.Now().UTC()
		if err := e.store.Update(ctx, func(f *state.File) error {
			p := project(f, e)
			if !p.Asleep || st.MemoryBytes > 0 {
				p.AsleepSince, p.AsleepBytes = now, max(p.Reserved, st.MemoryBytes)
			}
			p.PeakMemory = max(p.PeakMemory, st.MemoryBytes)
			p.Asleep, p.SleptBy = true, ""
			p.Reserved, p.Starting, p.UpdatedAt, p.TouchedAt = 0, false, now, now
			return nil
		}); err != nil {
			return stack.Stack{}, err
		}
		progress("putting " + e.Project + " to sleep")
		if _, err := e.engine().Stop(ctx, e.scope()); err != nil {
			return stack.Stack{}, fmt.Errorf("putting %s to sleep: %w; run `wtenv sleep` again", e.Project, err)
		}
		if err := e.slept(ctx, e.Project); err != nil {
			return stack.Stack{}, err
		}
		// A shared server whose worktrees all sleep now sleeps too.
		if err := settle(ctx, e.engine(), e.slot(), e.store, e.Project); err != nil {
			return stack.Stack{}, err
		}
	}
	return e.Status(ctx)
}

// WakeIfAsleep brings the stack up, through admission, when it is asleep:
// for calls that need it running, such as a test run. It returns what
// admission did, or nil when the stack was not asleep.
func (e *Env) WakeIfAsleep(ctx context.Context, progress func(string)) (*stack.Admission, error) {
	f, err := e.store.Read(ctx)
	if err != nil {
		return nil, err
	}
	if p := f.Projects[e.Project]; p == nil || !p.Asleep {
		return nil, nil
	}
	st, err := e.Up(ctx, UpOptions{Progress: progress})
	return st.Admission, err
}

// Use marks the stack in use for the length of a test run, so that
// admission never puts it to sleep under the run, and touches it at the
// start and at the end. It waits while another wtenv is putting the stack
// to sleep, and returns the release.
func (e *Env) Use(ctx context.Context) (func(), error) {
	unlock, err := e.store.LockUse(ctx, e.Project)
	if err != nil {
		return nil, err
	}
	if err := e.touch(ctx); err != nil {
		unlock()
		return nil, err
	}
	return func() {
		_ = e.touch(context.WithoutCancel(ctx))
		unlock()
	}, nil
}

// touch records that a wtenv call used the stack now, for the idle time
// that admission goes by.
func (e *Env) touch(ctx context.Context) error {
	return e.store.Update(ctx, func(f *state.File) error {
		project(f, e).TouchedAt = time.Now().UTC()
		return nil
	})
}

// awake clears what a sleep recorded, once a wake or a down has ended it.
func awake(p *state.Project) {
	p.Asleep, p.AsleepSince, p.AsleepBytes, p.SleptBy = false, time.Time{}, 0, ""
}

// wasAsleep reports whether the project's stack is asleep by the state
// file, with when it was put to sleep.
func (e *Env) wasAsleep(ctx context.Context) (bool, time.Time, error) {
	f, err := e.store.Read(ctx)
	if err != nil {
		return false, time.Time{}, err
	}
	if p := f.Projects[e.Project]; p != nil && p.Asleep {
		return true, p.AsleepSince, nil
	}
	return false, time.Time{}, nil
}

// sleepState is the state to report for a stack whose containers are in
// state, given its state entry and whether a wtenv process is working on
// it now. A stack marked asleep whose containers have all stopped is
// asleep. One marked asleep with containers running is being put to sleep
// or woken right now (busy), or was when its process was killed: then the
// returned note says so and what finishes the job.
func sleepState(st string, p *state.Project, busy bool) (string, string) {
	if p == nil || !p.Asleep {
		return st, ""
	}
	switch {
	case st == stack.StateStopped:
		return stack.StateAsleep, ""
	case busy || (st != stack.StateRunning && st != stack.StatePartial):
		return st, ""
	case p.Starting:
		return st, "a wake of this stack was interrupted before it finished; `wtenv up` (env_up) finishes it"
	default:
		return st, "a sleep of this stack was interrupted with containers still running, which hold memory; `wtenv sleep` (env_sleep) finishes it, `wtenv up` (env_up) wakes it"
	}
}
