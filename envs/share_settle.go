package envs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/shared"
	"github.com/wtenv/wtenv/envs/state"
)

// settle brings every shared stack of the state file in line with its
// tenants after a worktree's stack went down, slept or was collected
// (self: that worktree's project, whose lock the caller may hold):
//   - a tenant whose state entry is gone (down --purge, gc) loses its
//     databases: dropped now if the server runs, else when it next does;
//   - with no tenant left, the shared stack goes, volume and all;
//   - with no tenant's container left, the server goes, its volume (the
//     tenants' kept databases) stays;
//   - with tenants' containers but none running, the server is stopped.
//
// A tenant whose up, down or sleep is under way (its lock held by
// another) counts as running.
//
// Only the shared stacks on eng's engine (sl) are judged: a pool's other
// engines hold their own.
func settle(ctx context.Context, eng Engine, sl slot, store *state.Store, self string) error {
	f, err := store.Read(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(f.Projects)) {
		if p := f.Projects[name]; p.Shared && sl.has(p) {
			errs = append(errs, settleOne(ctx, eng, store, name, self))
		}
	}
	return errors.Join(errs...)
}

func settleOne(ctx context.Context, eng Engine, store *state.Store, name, self string) error {
	unlock, err := store.LockProject(ctx, name)
	if err != nil {
		return err
	}
	forgotten := false
	defer func() {
		unlock()
		if forgotten {
			store.ForgetProject(name)
		}
	}()
	var sp state.Project
	err = store.Update(ctx, func(f *state.File) error {
		p := f.Projects[name]
		if p == nil {
			return nil
		}
		for tenant, dbs := range p.Tenants {
			if f.Projects[tenant] == nil {
				p.Drop = append(p.Drop, dbs...)
				delete(p.Tenants, tenant)
			}
		}
		sp = *p
		return nil
	})
	if err != nil || !sp.Shared {
		return err
	}
	snap, err := eng.Snapshot(ctx, engine.Scope{})
	if err != nil {
		return err
	}
	scope := engine.Scope{Project: name, Worktree: sp.Worktree}
	var server string // the database server's running container
	exists, running, serverRunning := false, false, false
	for _, c := range snap.Containers {
		switch {
		case c.OneOff:
		case c.In(scope):
			if c.State == "running" && c.Service == sp.Server {
				server = c.ID
			}
			serverRunning = serverRunning || c.State == "running"
		case sp.Tenants[c.Project] != nil:
			exists = true
			running = running || (c.State == "running" && c.Project != self)
		}
	}
	for tenant := range sp.Tenants {
		running = running || (tenant != self && store.Busy(tenant))
	}
	if len(sp.Tenants) == 0 && !running {
		if _, err := eng.Down(ctx, scope, true); err != nil {
			return fmt.Errorf("removing the shared stack %s, which no worktree uses: %w", name, err)
		}
		forgotten = true
		return store.Update(ctx, func(f *state.File) error {
			if p := f.Projects[name]; p != nil && len(p.Tenants) == 0 {
				delete(f.Projects, name)
			}
			return nil
		})
	}
	var errs []error
	if server != "" && len(sp.Drop) > 0 {
		errs = append(errs, flushDrops(ctx, store, name, shared.Postgres{Exec: eng, Container: server, User: sp.Superuser}))
	}
	switch {
	case !exists && !running:
		if _, err := eng.Down(ctx, scope, false); err != nil {
			errs = append(errs, fmt.Errorf("removing the shared server %s, which no worktree's stack uses now: %w", name, err))
		}
	case !running && serverRunning:
		if _, err := eng.Stop(ctx, scope); err != nil {
			errs = append(errs, fmt.Errorf("stopping the shared server %s, whose worktrees all sleep: %w", name, err))
		}
	default:
		return errors.Join(errs...)
	}
	errs = append(errs, store.Update(ctx, func(f *state.File) error {
		if p := f.Projects[name]; p != nil {
			p.Reserved, p.Starting, p.UpdatedAt = 0, false, time.Now().UTC()
		}
		return nil
	}))
	return errors.Join(errs...)
}
