package envs

import (
	"context"
	"errors"
	"os"
	"sort"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
	"github.com/wtenv/wtenv/envs/worktree"
)

// oneOffGrace is how long past its deadline a one-off test container must
// be before gc calls it abandoned: the runner removes its own container at
// the deadline, so only a killed or stuck runner leaves one that long.
const oneOffGrace = time.Minute

// GCOptions are the arguments of GC.
type GCOptions struct {
	DryRun bool // only report
	// GoneOnly limits gc to stacks whose worktree directory no longer
	// exists: the cheap, certain part that `wtenv serve` runs at start.
	GoneOnly bool
	// Now is the time one-off deadlines are compared with; zero: now.
	Now time.Time
}

// GC removes what no worktree can use any more: the stacks of worktrees
// that are gone or no longer worktrees of their repository, with their
// volumes and built images; one-off test containers left past their
// timeout; and the state entries (port blocks, reservations) of those
// worktrees. Stacks of live worktrees are never touched: only their own
// worktree's down removes them.
func GC(ctx context.Context, opts GCOptions) (stack.GC, error) {
	out := stack.GC{DryRun: opts.DryRun, Stacks: []stack.GCStack{}, OneOffs: []stack.GCOneOff{}, Forgotten: []string{}}
	eng, err := engine.New(ctx)
	if err != nil {
		return out, err
	}
	defer eng.Close()
	store, err := openStore()
	if err != nil {
		return out, err
	}
	orphaned := worktree.Orphaned
	if opts.GoneOnly {
		orphaned = goneOnly
	}
	owners, err := eng.Owners(ctx)
	if err != nil {
		return out, err
	}
	var errs []error
	for _, o := range owners {
		why := orphaned(o.Worktree)
		if o.Worktree == "" || why == "" {
			continue
		}
		s := stack.GCStack{Project: o.Project, Worktree: o.Worktree, Branch: o.Branch, Reason: why}
		if store.Busy(o.Project) {
			out.Skipped = append(out.Skipped, s)
			continue
		}
		out.Stacks = append(out.Stacks, s)
		if !opts.DryRun {
			if _, err := eng.Down(ctx, engine.Scope{Project: o.Project, Worktree: o.Worktree}, true); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !opts.GoneOnly {
		errs = append(errs, collectOneOffs(ctx, eng, opts, &out))
	}
	errs = append(errs, forget(ctx, store, orphaned, opts.DryRun, &out))
	return out, errors.Join(errs...)
}

// collectOneOffs removes one-off test containers long past their deadline.
func collectOneOffs(ctx context.Context, eng *engine.Engine, opts GCOptions, out *stack.GC) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	expired, err := eng.ExpiredOneOffs(ctx, now, oneOffGrace)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range expired {
		out.OneOffs = append(out.OneOffs, stack.GCOneOff{Project: c.Project, Container: c.Name, Deadline: c.Deadline})
		if !opts.DryRun {
			errs = append(errs, eng.RemoveOneOff(ctx, c.ID))
		}
	}
	return errors.Join(errs...)
}

// forget drops the state entries of orphaned worktrees, which frees their
// port blocks and reservations, and their project lock files.
func forget(ctx context.Context, store *state.Store, orphaned func(string) string, dryRun bool, out *stack.GC) error {
	collect := func(f *state.File) error {
		for name, p := range f.Projects {
			if p.Worktree == "" || orphaned(p.Worktree) == "" || store.Busy(name) {
				continue
			}
			out.Forgotten = append(out.Forgotten, name)
			if !dryRun {
				delete(f.Projects, name)
			}
		}
		sort.Strings(out.Forgotten)
		return nil
	}
	if dryRun {
		f, err := store.Read(ctx)
		if err != nil {
			return err
		}
		return collect(f)
	}
	if err := store.Update(ctx, collect); err != nil {
		return err
	}
	for _, name := range out.Forgotten {
		store.ForgetProject(name)
	}
	return nil
}

// goneOnly is worktree.Orphaned narrowed to a missing directory.
func goneOnly(dir string) string {
	if why := worktree.Orphaned(dir); why != "" && !exists(dir) {
		return why
	}
	return ""
}

func exists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}
