package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
)

var gcCmd = command{
	anyWorktree: true,
	name:        "gc",
	summary:     "remove stacks of deleted worktrees and abandoned test containers",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the result as JSON")
		dryRun := fs.Bool("dry-run", false, "only list what would be removed")
		caches := fs.Bool("caches", false, "remove the test caches no running test uses, instead")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: gc takes no arguments", errUsage)
			}
			if *caches {
				c, err := envs.RemoveCaches(ctx, *dryRun, "")
				if err != nil && len(c.Caches) == 0 {
					return err
				}
				// What was removed is said even when another could not be.
				if eerr := g.emit(c, func(w io.Writer) { printCaches(w, c, true) }); eerr != nil {
					return eerr
				}
				return err
			}
			r, err := envs.GC(ctx, envs.GCOptions{DryRun: *dryRun})
			if err != nil {
				return err
			}
			return g.emit(r, func(w io.Writer) { printGC(w, r) })
		}
	},
}

func printGC(w io.Writer, r stack.GC) {
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
	}
	for _, u := range r.Unreachable {
		fmt.Fprintf(w, "engine %s; its stacks were not judged\n", u)
	}
	if len(r.Stacks)+len(r.OneOffs)+len(r.Forgotten)+len(r.Skipped) == 0 {
		fmt.Fprintln(w, "nothing to collect: every stack's worktree is live and no test container outlived its timeout")
		return
	}
	for _, s := range r.Stacks {
		fmt.Fprintf(w, "%s stack %s (branch %s): %s — %s\n", verb, s.Project, s.Branch, s.Reason, s.Worktree)
	}
	for _, c := range r.OneOffs {
		fmt.Fprintf(w, "%s test container %s of %s: its run should have ended by %s\n", verb, c.Container, c.Project, c.Deadline.Local().Format("15:04:05"))
	}
	for _, p := range r.Forgotten {
		fmt.Fprintf(w, "%s the state of %s (its port block and memory reservation)\n", verb, p)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "left %s: %s, but a wtenv process is working on it now; run gc again when it ends\n", s.Project, s.Reason)
	}
}
