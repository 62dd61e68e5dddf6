// Command wtenv runs an isolated copy of a git worktree's Docker Compose
// stack, for humans (this CLI) and for coding agents (wtenv serve, MCP).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
