// Command wtenvbench measures wtenv against Docker Compose on the example
// product (examples/shop), side by side, and wtenv's own footprint, and
// writes bench/results.md. It is not part of `go test ./...`: it needs a
// Docker engine, a Compose CLI and about ten minutes.
//
//	go run ./bench/cmd/wtenvbench            # from the repository root
//	go run ./bench/cmd/wtenvbench -h         # flags
//
// It builds the local images (images/build.sh) and the wtenv binary, makes
// a git repository of the shop with linked worktrees under
// $TMPDIR/wtenvbench, and runs, each against present images:
//
//   - interleaved rounds of cold up, warm up, status and down with the
//     wtenv CLI and with Compose on the same, unchanged compose file;
//   - env_status and env_up over MCP to `wtenv serve`, and in-process
//     envs calls with a per-step breakdown of status;
//   - `wtenv serve`'s resident memory idle and during an env_up, and each
//     stack's memory with the engine's per-container helper processes;
//   - N concurrent `wtenv up` processes on N worktrees, then N downs.
//
// With -agents it runs only the scenario "Ten agents, one laptop" (see
// agents.go) and replaces only its own section of results.md; the main
// run keeps that section as it finds it.
//
// Everything it creates is removed at the end, also on failure or Ctrl-C,
// except built images (the next run reuses them; -purge-images removes
// them). Nothing here asserts a time: the targets are read from results.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type config struct {
	rounds, warm, statusCalls, mcpCalls, concurrent int
	budget, portRange, out, concServices            string
	purgeImages                                     bool
	quietWait                                       time.Duration
	agents                                          agentsConfig
	share                                           shareConfig
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == firstCallArg {
		if err := runFirstCall(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "wtenvbench %s: %v\n", firstCallArg, err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	flag.IntVar(&cfg.rounds, "rounds", 5, "counted A/B rounds (plus one warm-up round)")
	flag.IntVar(&cfg.warm, "warm", 2, "warm ups per side and round")
	flag.IntVar(&cfg.statusCalls, "status", 5, "CLI status / compose ps calls per side and round")
	flag.IntVar(&cfg.mcpCalls, "mcp", 20, "env_status calls over MCP per round (and in-process repetitions)")
	flag.IntVar(&cfg.concurrent, "concurrent", 10, "worktrees brought up at once (0: skip)")
	flag.StringVar(&cfg.concServices, "concurrent-services", "queue", "services each concurrent stack starts (comma-separated, with their dependencies; all: the whole shop, whose healthchecks keep the engine busy)")
	flag.StringVar(&cfg.budget, "budget", "20GiB", "WTENV_MEMORY_BUDGET for the run, so stacks of other tests on this engine never get ours refused")
	flag.StringVar(&cfg.portRange, "port-range", "36000-39999", "WTENV_PORT_RANGE for the run, apart from the default one other wtenv users take blocks in")
	flag.StringVar(&cfg.out, "out", "bench/results.md", "report to write, relative to the repository root")
	flag.BoolVar(&cfg.purgeImages, "purge-images", false, "also remove the images built for the run's worktrees and the Compose side")
	flag.DurationVar(&cfg.quietWait, "quiet-wait", 90*time.Second, "before each round and phase, wait at most this long for the machine to be quiet (runnable tasks ≤ cores+1); 0: never wait")
	agentFlags(&cfg.agents)
	shareFlags(&cfg.share)
	flag.Parse()
	if err := cfg.agents.check(); err != nil {
		fmt.Fprintln(os.Stderr, "wtenvbench:", err)
		os.Exit(2)
	}
	if cfg.agents.on {
		// The scenario's worktrees are the concurrent phase's, so the
		// images a main run built for them are reused.
		cfg.concurrent = cfg.agents.n
	}
	if cfg.share.on {
		cfg.concurrent = cfg.share.n
	}
	if cfg.rounds < 1 || cfg.warm < 1 || cfg.statusCalls < 1 || cfg.mcpCalls < 2 || cfg.concurrent < 0 {
		fmt.Fprintln(os.Stderr, "wtenvbench: -rounds, -warm and -status must be at least 1, -mcp at least 2")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{cfg: cfg, start: time.Now(), setup: map[string]time.Duration{}}
	run := b.run
	switch {
	case cfg.agents.on:
		run = b.runAgents
	case cfg.share.on:
		run = b.runShare
	}
	path, err := b.prepared(ctx, run)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wtenvbench: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wtenvbench: wrote %s in %s\n", path, time.Since(b.start).Round(time.Second))
}

// run measures everything and writes the report. A failed run leaves the
// previous report in place.
func (b *bench) run(ctx context.Context) (string, error) {
	rep := &report{cfg: b.cfg, command: command(), machine: b.machineFacts(ctx), services: b.services,
		builds: b.builds, compose: b.compose, setup: b.setup, base: b.base, concServices: b.concServices}
	var err error
	b.logf("A/B rounds: %d counted + 1 warm-up, wtenv (%s) vs %s", b.cfg.rounds, b.wtenv, rep.machine.compose)
	if rep.ab, err = b.abRounds(ctx); err != nil {
		return "", err
	}
	b.awaitQuiet(ctx)
	b.logf("wtenv serve memory")
	// The later phases report their failure instead of discarding the
	// A/B figures: on an overloaded machine a healthcheck may give up.
	if rep.serve, err = b.measureServe(ctx); err != nil {
		rep.serveErr = err.Error()
		b.logf("wtenv serve memory: %v", err)
		b.resetSide(ctx, true)
	}
	if b.cfg.concurrent > 0 && ctx.Err() == nil {
		b.awaitQuiet(ctx)
		if rep.conc, err = b.concurrentUps(ctx); err != nil {
			rep.concErr = err.Error()
			b.logf("concurrent ups: %v", err)
		}
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	rep.machine.loadEnd = loadAvg()
	rep.elapsed = time.Since(b.start)
	path := filepath.Join(b.repo, b.cfg.out)
	previous, _ := os.ReadFile(path)
	doc := keepSection(rep.markdown(), string(previous))
	for _, m := range []markers{shareMarkers, poolMarkers, loopMarkers} {
		if s := marked(string(previous), m); s != "" {
			doc = replaceMarked(doc, m, s)
		}
	}
	return path, os.WriteFile(path, []byte(doc), 0o644)
}

// prepared runs a mode after the setup every mode shares (prepare), and
// cleans up however it ends.
func (b *bench) prepared(ctx context.Context, run func(context.Context) (string, error)) (string, error) {
	defer func() {
		if b.lockFile != nil {
			b.logf("cleanup: removing every stack, volume and worktree of the run")
			b.cleanup()
			b.lockFile.Close()
		}
	}()
	if err := b.prepare(ctx); err != nil {
		return "", err
	}
	return run(ctx)
}

// command is the command line that produced the report, as a user types it.
func command() string {
	return strings.TrimSpace("go run ./bench/cmd/wtenvbench " + strings.Join(os.Args[1:], " "))
}
