package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/runner"
)

var testCmd = command{
	name:    "test",
	args:    "unit|e2e",
	summary: "run a test suite from wtenv.yaml inside this worktree's stack",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the TestRun as JSON")
		filter := fs.String("filter", "", "only tests matching this (go test: -run; others: WTENV_TEST_FILTER)")
		timeout := fs.Duration("timeout", 0, "kill the run after this long (default: the suite's timeout, else 10m)")
		return func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%w: name one suite, e.g. wtenv test unit", errUsage)
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				run, err := runner.Run(ctx, env, args[0], runner.Options{Filter: *filter, Timeout: *timeout, Progress: g.progress})
				if err != nil {
					return err
				}
				if err := g.emit(run, func(w io.Writer) { fmt.Fprintln(w, run.Summary()) }); err != nil {
					return err
				}
				if !run.Passed {
					return fmt.Errorf("%w: %s (log: %s)", envs.ErrTestsFailed, run.Counts, run.LogPath)
				}
				return nil
			})
		}
	},
}
