package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

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
				f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
				if err != nil {
					return fmt.Errorf("--log-file: %w", err)
				}
				defer f.Close()
				w = f
			}
			// stdout carries protocol messages only: every log goes to w.
			logger := slog.New(slog.NewTextHandler(w, nil))
			return server.Serve(ctx, server.Options{
				Worktree: g.worktree,
				Logger:   logger,
				Stdin:    g.stdin,
				Stdout:   g.stdout,
			})
		}
	},
}
