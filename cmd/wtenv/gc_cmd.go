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
	name:    "gc",
	summary: "remove the stacks (and state) of worktrees that no longer exist",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the result as JSON")
		dryRun := fs.Bool("dry-run", false, "only list what would be removed")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: gc takes no arguments", errUsage)
			}
			r, err := envs.GC(ctx, *dryRun)
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
	if len(r.Stacks) == 0 && len(r.Forgotten) == 0 {
		fmt.Fprintln(w, "nothing to collect: every stack's worktree exists")
		return
	}
	for _, s := range r.Stacks {
		fmt.Fprintf(w, "%s %s (branch %s; worktree %s is gone)\n", verb, s.Project, s.Branch, s.Worktree)
	}
	for _, p := range r.Forgotten {
		fmt.Fprintf(w, "%s the state of %s\n", verb, p)
	}
}
