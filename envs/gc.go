package envs

import (
	"context"
	"errors"
	"os"
	"sort"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// GC removes the stacks of worktrees that no longer exist on disk — with
// their volumes and built images, since nothing can use them any more —
// and forgets their state entries (port blocks, reservations). With dryRun
// it only reports. Stacks of existing worktrees are never touched: only
// their own worktree's down removes them.
func GC(ctx context.Context, dryRun bool) (stack.GC, error) {
	out := stack.GC{DryRun: dryRun, Stacks: []stack.Summary{}, Forgotten: []string{}}
	eng, err := engine.New(ctx)
	if err != nil {
		return out, err
	}
	defer eng.Close()
	stacks, err := eng.List(ctx)
	if err != nil {
		return out, err
	}
	var errs []error
	for _, s := range stacks {
		if exists(s.Worktree) {
			continue
		}
		out.Stacks = append(out.Stacks, s)
		if !dryRun {
			if _, err := eng.Down(ctx, engine.Scope{Project: s.Project, Worktree: s.Worktree}, true); err != nil {
				errs = append(errs, err)
			}
		}
	}
	store, err := openStore()
	if err != nil {
		return out, errors.Join(append(errs, err)...)
	}
	forget := func(f *state.File) error {
		for name, p := range f.Projects {
			if !exists(p.Worktree) {
				out.Forgotten = append(out.Forgotten, name)
				if !dryRun {
					delete(f.Projects, name)
				}
			}
		}
		sort.Strings(out.Forgotten)
		return nil
	}
	if dryRun {
		f, err := store.Read(ctx)
		if err == nil {
			err = forget(f)
		}
		errs = append(errs, err)
	} else {
		errs = append(errs, store.Update(ctx, forget))
	}
	return out, errors.Join(errs...)
}

func exists(dir string) bool {
	if dir == "" {
		return true // unknown: leave it alone
	}
	_, err := os.Stat(dir)
	return err == nil
}
