package envs

import (
	"context"
	"errors"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
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

// GC removes what no worktree can use any more: the stacks of this
// machine's worktrees that are gone or no longer worktrees of their
// repository, with their volumes and built images; one-off test containers
// of this machine left past their timeout; and the state entries (port
// blocks, reservations) of those worktrees. Stacks of live worktrees are
// never touched: only their own worktree's down removes them. Nor are other
// machines' stacks on a shared or remote engine: only the machine whose
// worktree it is can tell whether it still exists.
//
// With an engines file it does so on every engine of the pool that
// answers, and says which did not.
func GC(ctx context.Context, opts GCOptions) (stack.GC, error) {
	store, pl, err := openPool()
	if err != nil {
		return emptyGC(opts), err
	}
	if pl == nil {
		eng, err := connect(ctx)
		if err != nil {
			return emptyGC(opts), err
		}
		defer eng.Close()
		return gc(ctx, eng, slot{}, store, machineOf(eng.Host()), opts)
	}
	ms := dialPool(ctx, pl)
	defer closeMembers(ms, nil)
	out := emptyGC(opts)
	var errs []error
	for _, m := range ms {
		if m.eng == nil {
			out.Unreachable = append(out.Unreachable, m.Name+": "+m.err.Error())
			continue
		}
		r, err := gc(ctx, m.eng, slotOf(pl, m.Engine), store, machineOf(m.eng.Host()), opts)
		errs = append(errs, err)
		out.Stacks = append(out.Stacks, r.Stacks...)
		out.Skipped = append(out.Skipped, r.Skipped...)
		out.OneOffs = append(out.OneOffs, r.OneOffs...)
		out.Forgotten = append(out.Forgotten, r.Forgotten...)
	}
	// Entries placed on an engine the file no longer lists.
	gone := func(p *state.Project) bool {
		_, ok := pl.Find(p.Engine)
		return p.Engine != "" && !ok
	}
	orphaned := worktree.Orphaned
	if opts.GoneOnly {
		orphaned = goneOnly
	}
	errs = append(errs, forget(ctx, store, gone, orphaned, opts.DryRun, &out))
	slices.Sort(out.Forgotten)
	out.Forgotten = slices.Compact(out.Forgotten)
	return out, errors.Join(errs...)
}

func emptyGC(opts GCOptions) stack.GC {
	return stack.GC{DryRun: opts.DryRun, Stacks: []stack.GCStack{}, OneOffs: []stack.GCOneOff{}, Forgotten: []string{}}
}

func gc(ctx context.Context, eng Engine, sl slot, store *state.Store, mine func(host string) bool, opts GCOptions) (stack.GC, error) {
	out := emptyGC(opts)
	orphaned := worktree.Orphaned
	if opts.GoneOnly {
		orphaned = goneOnly
	}
	owners, err := eng.Owners(ctx)
	if err != nil {
		return out, err
	}
	collect, skipped := gcVerdicts(owners, mine, orphaned, store.Busy)
	out.Stacks, out.Skipped = collect, skipped
	var errs []error
	if !opts.DryRun {
		for _, s := range collect {
			if _, err := eng.Down(ctx, engine.Scope{Project: s.Project, Worktree: s.Worktree}, true); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !opts.GoneOnly {
		errs = append(errs, collectOneOffs(ctx, eng, mine, opts, &out))
	}
	// Entries of stacks on other engines of the pool are that engine's
	// gc's to forget: one that does not answer keeps its stacks listed.
	errs = append(errs, forget(ctx, store, sl.has, orphaned, opts.DryRun, &out))
	if !opts.DryRun {
		// The collected worktrees' databases in shared services go, and
		// a shared service no worktree uses any more.
		errs = append(errs, settle(ctx, eng, sl, store, ""))
	}
	return out, errors.Join(errs...)
}

// machineOf says which stacks on an engine at host are this machine's to
// judge: those labelled with this machine's identity, and, on an engine on
// this machine, those made before the label existed, unless WTENV_HOST_ID
// gives this process another identity.
func machineOf(host engine.Host) func(label string) bool {
	self := identity.Machine()
	legacy := host.Local && self == identity.DefaultMachine()
	return func(label string) bool {
		return label == self || (label == "" && legacy)
	}
}

// gcVerdicts decides, from what the engine reported, which stacks gc
// removes: this machine's (mine) whose worktree is orphaned (the reason is
// what orphaned says), except those a wtenv process is working on now
// (busy), which it skips and reports. Shared stacks are left alone.
func gcVerdicts(owners []engine.Owner, mine func(host string) bool, orphaned func(dir string) string, busy func(project string) bool) (collect, skipped []stack.GCStack) {
	collect = []stack.GCStack{}
	for _, o := range owners {
		// A shared stack belongs to every worktree of its repository:
		// the worktree on its label is not the one to judge it by.
		if o.Worktree == "" || o.Shared || !mine(o.Host) {
			continue
		}
		why := orphaned(o.Worktree)
		if why == "" {
			continue
		}
		s := stack.GCStack{Project: o.Project, Worktree: o.Worktree, Branch: o.Branch, Reason: why}
		if busy(o.Project) {
			skipped = append(skipped, s)
			continue
		}
		collect = append(collect, s)
	}
	return collect, skipped
}

// expiredOneOffs are this machine's one-off test containers whose deadline
// passed more than grace before now: the process that ran them would have
// removed them at their deadline, so it is gone (killed) or stuck.
func expiredOneOffs(snap engine.Snapshot, mine func(host string) bool, now time.Time, grace time.Duration) []engine.Container {
	var out []engine.Container
	for _, c := range snap.Containers {
		if c.OneOff && !c.Deadline.IsZero() && mine(c.Host) && now.Sub(c.Deadline) > grace {
			out = append(out, c)
		}
	}
	return out
}

// collectOneOffs removes one-off test containers long past their deadline.
func collectOneOffs(ctx context.Context, eng Engine, mine func(string) bool, opts GCOptions, out *stack.GC) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	snap, err := eng.Snapshot(ctx, engine.Scope{})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range expiredOneOffs(snap, mine, now, oneOffGrace) {
		out.OneOffs = append(out.OneOffs, stack.GCOneOff{Project: c.Project, Container: c.Name, Deadline: c.Deadline})
		if !opts.DryRun {
			errs = append(errs, eng.RemoveOneOff(ctx, c.ID))
		}
	}
	return errors.Join(errs...)
}

// forget drops the state entries of orphaned worktrees, which frees their
// port blocks and reservations, and their project lock files. The state
// file is this machine's own, so every entry in it is this machine's.
func forget(ctx context.Context, store *state.Store, on func(*state.Project) bool, orphaned func(string) string, dryRun bool, out *stack.GC) error {
	collect := func(f *state.File) error {
		for name, p := range f.Projects {
			// A shared stack's worktree is the repository's git directory:
			// settle judges it by its tenants.
			if p.Worktree == "" || p.Shared || !on(p) || orphaned(p.Worktree) == "" || store.Busy(name) {
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
