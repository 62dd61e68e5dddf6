package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/wtenv/wtenv/envs"

	"github.com/wtenv/wtenv/server"
)

var serveCmd = command{
	name:    "serve",
	summary: "run the MCP server over stdio, bound to one worktree",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		logFile := fs.String("log-file", "", "write logs to this file instead of stderr")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: serve takes no arguments", errUsage)
			}
			var w io.Writer = g.stderr
			if *logFile != "" {
				f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
				if err != nil {
					return fmt.Errorf("--log-file: %w", err)
				}
				defer f.Close()
				w = f
			}
			// stdout carries protocol messages only: every log goes to w.
			logger := slog.New(slog.NewTextHandler(w, nil))
			go reapGone(ctx, logger)
			return server.Serve(ctx, server.Options{
				Worktree: g.worktree,
				Logger:   logger,
				Stdin:    g.stdin,
				Stdout:   g.stdout,
			})
		}
	},
}

// reapGone removes, in the background, the stacks of worktrees whose
// directory no longer exists: the cheap and certain part of gc, so deleted
// worktrees stop holding ports and memory without anyone asking. Anything
// less certain is left to an explicit `wtenv gc`.
func reapGone(ctx context.Context, logger *slog.Logger) {
	r, err := envs.GC(ctx, envs.GCOptions{GoneOnly: true})
	for _, s := range r.Stacks {
		logger.Info("gc: removed the stack of a deleted worktree", "project", s.Project, "worktree", s.Worktree)
	}
	for _, p := range r.Forgotten {
		logger.Info("gc: forgot the state of a deleted worktree", "project", p)
	}
	if err != nil && ctx.Err() == nil {
		logger.Warn("gc at start", "err", err)
	}
}
