package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/wtenv/wtenv/envs"
)

var configCmd = command{
	name:    "config",
	summary: "print the compose project as up runs it in this worktree, after isolation, with every rewrite named",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print it as JSON (the rewrites, the warnings and the project in compose's model)")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: config takes no arguments", errUsage)
			}
			return withEnvOrNone(ctx, g, func(env *envs.Env) error {
				r, err := env.Resolve(ctx)
				if errors.Is(err, envs.ErrUnsupported) {
					// DESIGN.md: config exits 1 naming the service and
					// key it cannot run.
					return exitWith{code: exitFailure, err: err}
				}
				if err != nil {
					return err
				}
				if g.json {
					return g.emit(r, nil)
				}
				return printResolved(g.stdout, r)
			})
		}
	},
}

// withEnvOrNone is withEnv, or without an engine when none answers:
// config needs none, as docker compose config needs none.
func withEnvOrNone(ctx context.Context, g *globals, fn func(*envs.Env) error) error {
	err := withEnv(ctx, g, fn)
	if envs.KindOf(err) != envs.KindUnreachable {
		return err
	}
	dir, derr := g.worktreeDir()
	if derr != nil {
		return derr
	}
	env, oerr := envs.OpenWithoutEngine(dir)
	if oerr != nil {
		return oerr
	}
	defer env.Close()
	return fn(env)
}

// printResolved writes the project as YAML, as `docker compose config`
// does, under comments that name each rewrite and warning.
func printResolved(w io.Writer, r envs.Resolved) error {
	fmt.Fprintf(w, "# wtenv: project of worktree %s (branch %s), project directory %s\n", r.Worktree, r.Branch, r.ProjectDir)
	for _, line := range r.Rewrites {
		fmt.Fprintf(w, "# rewritten: %s\n", line)
	}
	for _, line := range r.Warnings {
		fmt.Fprintf(w, "# warning: %s\n", line)
	}
	for _, c := range r.Caches {
		fmt.Fprintf(w, "# test cache: tests.%s keeps %s in volume %s, shared by the repository's worktrees (from %s)\n", c.Suite, c.Path, c.Volume, c.From)
	}
	out, err := r.Compose.MarshalYAML()
	if err != nil {
		return fmt.Errorf("printing the project: %w", err)
	}
	_, err = w.Write(out)
	return err
}

// exitWith gives an error an exit code of its own, where a command's
// contract fixes one that differs from the error's kind.
type exitWith struct {
	code int
	err  error
}

func (e exitWith) Error() string { return e.err.Error() }
func (e exitWith) Unwrap() error { return e.err }
