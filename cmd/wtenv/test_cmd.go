package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/runner"
)

var testCmd = command{
	name:    "test",
	args:    "unit|e2e [-- ARGS...]",
	summary: "run a test suite from wtenv.yaml inside this worktree's stack",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the TestRun as JSON")
		filter := fs.String("filter", "", "only tests matching this (go test: -run; others: WTENV_TEST_FILTER)")
		timeout := fs.Duration("timeout", 0, "kill the run after this long (default: the suite's timeout, else 10m)")
		return func(ctx context.Context, args []string) error {
			suite, extra, err := suiteArgs(args)
			if err != nil {
				return err
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				run, err := runner.Run(ctx, env, suite, runner.Options{Filter: *filter, Timeout: *timeout, TimeoutFlag: "--timeout", ExtraArgs: extra, Progress: g.progress})
				if err != nil {
					return err
				}
				if err := g.emit(run, func(w io.Writer) { fmt.Fprintln(w, run.Summary()) }); err != nil {
					return err
				}
				switch {
				case run.NoTests:
					return fmt.Errorf("%w: no test ran (log: %s)", envs.ErrTestsFailed, run.LogPath)
				case !run.Passed:
					return fmt.Errorf("%w: %s (log: %s)", envs.ErrTestsFailed, run.Counts, run.LogPath)
				}
				return nil
			})
		}
	},
}

// suiteArgs splits `test`'s arguments: one suite, then, after --, the
// arguments passed to the suite's command as extra_args passes them.
func suiteArgs(args []string) (string, []string, error) {
	if len(args) == 0 || args[0] == "--" {
		return "", nil, fmt.Errorf("%w: name one suite, e.g. wtenv test unit (and after -- the arguments for its command)", errUsage)
	}
	suite, rest := args[0], args[1:]
	if len(rest) == 0 {
		return suite, nil, nil
	}
	if rest[0] != "--" {
		return "", nil, fmt.Errorf("%w: name one suite, then -- before the arguments for its command: wtenv test %s -- %s", errUsage, suite, strings.Join(rest, " "))
	}
	return suite, rest[1:], nil
}
