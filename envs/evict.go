package envs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/docker/go-units"
	"golang.org/x/sync/errgroup"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// victim is an idle stack admission chose to put to sleep to make room.
// Its locks are held from the choice until its containers have stopped, so
// no other wtenv uses, evicts or counts on it meanwhile.
type victim struct {
	holder budget.Holder
	idle   time.Duration
	unlock func()
}

// idleAfter is the idle policy of the worktree at root: its wtenv.yaml's
// idle_after, else the machine's. A wtenv.yaml that cannot be read does
// not stop admission; the machine's policy then applies.
func idleAfter(root string, machine time.Duration) time.Duration {
	if root == "" {
		return machine
	}
	if cfg, err := compose.LoadConfig(root); err == nil && cfg.IdleAfter.Set {
		return cfg.IdleAfter.After
	}
	return machine
}

// chooseVictims picks the stacks to put to sleep so that d's stack fits:
// idle ones (untouched for their idle_after, no up, test run or sleep
// under way), least recently used first, until enough is freed. It takes
// each chosen stack's locks (tryIdle). When even every idle stack would
// not make room it holds nothing and returns nil. Either way it returns
// the holders annotated with their idle policy, for a refusal.
func chooseVictims(d budget.Decision, f *state.File, now time.Time, machine time.Duration, tryIdle func(project string) (func(), bool)) ([]victim, []budget.Holder) {
	annotated := slices.Clone(d.Holders)
	var candidates []int
	for i := range annotated {
		h := &annotated[i]
		h.Policy = true
		h.IdleAfter = idleAfter(h.Worktree, machine)
		p := f.Projects[h.Project]
		onEngine := h.State == stack.StateRunning || h.State == stack.StatePartial
		if !onEngine && h.Holds() > 0 {
			h.InUse = true // a reservation without running containers: its up is under way
			continue
		}
		// A shared service sleeps only when its worktrees do (settle).
		if p == nil || p.Shared || h.Holds() <= 0 || h.IdleAfter <= 0 || h.IdleSince.IsZero() {
			continue
		}
		if now.Sub(h.IdleSince) < h.IdleAfter {
			continue
		}
		candidates = append(candidates, i)
	}
	slices.SortStableFunc(candidates, func(a, b int) int {
		return annotated[a].IdleSince.Compare(annotated[b].IdleSince)
	})
	short := d.Used + d.Need - d.Limit
	var chosen []victim
	for _, i := range candidates {
		if short <= 0 {
			break
		}
		h := annotated[i]
		unlock, ok := tryIdle(h.Project)
		if !ok {
			annotated[i].InUse = true
			continue
		}
		chosen = append(chosen, victim{holder: h, idle: now.Sub(h.IdleSince), unlock: unlock})
		short -= h.Holds()
	}
	if short > 0 {
		for _, v := range chosen {
			v.unlock()
		}
		return nil, annotated
	}
	return chosen, annotated
}

// markAsleep records in f that the victims are going to sleep, made to
// by project: their memory stops being reserved, and what they held is
// remembered for the budget line.
func markAsleep(f *state.File, victims []victim, by string, now time.Time) {
	for _, v := range victims {
		p := f.Projects[v.holder.Project]
		p.Asleep, p.AsleepSince, p.AsleepBytes, p.SleptBy = true, now, v.holder.Holds(), by
		p.Reserved, p.Starting, p.UpdatedAt = 0, false, now
	}
}

// evict puts the victims to sleep, in parallel, and releases their locks.
// It returns what each freed, least recently used first.
func (e *Env) evict(ctx context.Context, victims []victim, progress func(string)) ([]stack.Eviction, error) {
	if len(victims) == 0 {
		return nil, nil
	}
	defer func() {
		for _, v := range victims {
			v.unlock()
		}
	}()
	out := make([]stack.Eviction, len(victims))
	g, gctx := errgroup.WithContext(ctx)
	for i, v := range victims {
		h := v.holder
		out[i] = stack.Eviction{Project: h.Project, Branch: h.Branch, Worktree: h.Worktree, FreedBytes: h.Holds(), IdleSeconds: int64(v.idle / time.Second)}
		progress(fmt.Sprintf("putting %s to sleep to make room (branch %s, idle %s): frees %s",
			h.Project, h.Branch, v.idle.Round(time.Second), units.BytesSize(float64(h.Holds()))))
		g.Go(func() error {
			if _, err := e.engine().Stop(gctx, engine.Scope{Project: h.Project, Worktree: h.Worktree}); err != nil {
				return fmt.Errorf("putting %s to sleep to make room: %w; run `wtenv up` again", h.Project, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	names := make([]string, len(victims))
	for i, v := range victims {
		names[i] = v.holder.Project
	}
	if err := e.slept(ctx, names...); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b stack.Eviction) int { return cmp.Compare(b.IdleSeconds, a.IdleSeconds) })
	return out, nil
}

// sleepingNow reports whether some stack in f is being put to sleep at
// this moment (marked asleep, its locks held): its memory is on its way
// back, so an admission that does not fit yet may fit in a moment.
func sleepingNow(f *state.File, hs []budget.Holder, busy func(string) bool) bool {
	for _, h := range hs {
		if p := f.Projects[h.Project]; p != nil && p.Asleep && !p.Starting && busy(h.Project) {
			return true
		}
	}
	return false
}

// slept records that the projects' containers have stopped, while their
// locks are still held: an admission that looked at the engine before then
// takes them for stopped, not as running stacks to put to sleep again.
func (e *Env) slept(ctx context.Context, projects ...string) error {
	return e.store.Update(ctx, func(f *state.File) error {
		now := time.Now().UTC()
		for _, name := range projects {
			if p := f.Projects[name]; p != nil {
				p.UpdatedAt = now
			}
		}
		return nil
	})
}
