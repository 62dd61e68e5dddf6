// Command wtenv runs an isolated copy of a git worktree's Docker Compose
// stack, for humans (this CLI) and for coding agents (wtenv serve, MCP).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first SIGINT or SIGTERM stops the work cleanly: the command
		// undoes what it started and reports what is left. A second one
		// exits at once.
		sig := <-signals
		interruptedBy.Store(sig)
		if len(os.Args) < 2 || os.Args[1] != "serve" {
			fmt.Fprintln(os.Stderr, "wtenv: interrupted: stopping what this command started (interrupt again to exit at once)")
		}
		cancel()
		<-signals
		os.Exit(signalCode(sig))
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(signals)
	os.Exit(code)
}
