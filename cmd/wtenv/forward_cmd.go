package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/wtenv/wtenv/envs"
)

var forwardCmd = command{
	name:    "forward",
	summary: "while it runs, this worktree's ports on a remote engine also answer on 127.0.0.1",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: forward takes no arguments", errUsage)
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				ref := env.EngineRef()
				if env.Local() {
					fmt.Fprintf(g.stderr, "wtenv: %s runs on engine %s (%s), on this machine: its ports already answer on 127.0.0.1, nothing to forward\n", env.Project, ref.Name, ref.Host)
					return nil
				}
				fmt.Fprintf(g.stderr, "wtenv: forwarding the published ports of %s on engine %s (%s) to 127.0.0.1; Ctrl-C stops\n", env.Project, ref.Name, ref.Host)
				return env.Forward(ctx, func(format string, args ...any) {
					fmt.Fprintf(g.stderr, "wtenv: "+format+"\n", args...)
				})
			})
		}
	},
}
