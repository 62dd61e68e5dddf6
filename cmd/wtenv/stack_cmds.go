package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
)

// withEnv opens the worktree's environment for the length of fn.
func withEnv(ctx context.Context, g *globals, fn func(*envs.Env) error) error {
	dir, err := g.worktreeDir()
	if err != nil {
		return err
	}
	env, err := envs.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer env.Close()
	return fn(env)
}

var upCmd = command{
	name:    "up",
	args:    "[SERVICE...]",
	summary: "bring this worktree's stack up, isolated; idempotent",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the Stack as JSON")
		build := fs.Bool("build", false, "rebuild images of build: services")
		timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for services to become healthy")
		return func(ctx context.Context, args []string) error {
			start := time.Now()
			return withEnv(ctx, g, func(env *envs.Env) error {
				st, err := env.Up(ctx, envs.UpOptions{Services: args, Build: *build, Timeout: *timeout, TimeoutFlag: "--timeout", Progress: g.progress})
				if err == nil {
					g.progress(fmt.Sprintf("up in %s", time.Since(start).Round(100*time.Millisecond)))
				}
				if err != nil && ctx.Err() != nil {
					// Interrupted: what up started is stopped; say what
					// is left, and what to do.
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
					defer cancel()
					if left, serr := env.Status(sctx); serr == nil {
						_ = g.emit(left, func(w io.Writer) {
							printStack(w, left)
							fmt.Fprintln(w, "up was interrupted: `wtenv up` starts the stack again, `wtenv down` removes it")
						})
					}
					return err
				}
				if err != nil {
					return err
				}
				return g.emit(st, func(w io.Writer) { printStack(w, st) })
			})
		}
	},
}

var statusCmd = command{
	name:    "status",
	summary: "show this worktree's stack: services, health, URLs, memory",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the Stack as JSON")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: status takes no arguments", errUsage)
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				st, err := env.Status(ctx)
				if err != nil {
					return err
				}
				return g.emit(st, func(w io.Writer) { printStack(w, st) })
			})
		}
	},
}

var downCmd = command{
	name:    "down",
	summary: "remove this worktree's containers and networks; idempotent",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the result as JSON")
		purge := fs.Bool("purge", false, "also remove the stack's volumes (its data) and the images built for it")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: down takes no arguments", errUsage)
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				d, err := env.Down(ctx, *purge)
				if err != nil {
					return err
				}
				return g.emit(d, func(w io.Writer) {
					r := d.Removed
					fmt.Fprintf(w, "%s: removed %d containers, %d networks, %d volumes, %d images\n", d.Project, r.Containers, r.Networks, r.Volumes, r.Images)
				})
			})
		}
	},
}

var sleepCmd = command{
	name:    "sleep",
	summary: "put this worktree's stack to sleep: containers stop, data, names and ports stay; up or a test run wakes it",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the Stack as JSON")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: sleep takes no arguments", errUsage)
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				st, err := env.Sleep(ctx, g.progress)
				if err != nil {
					return err
				}
				return g.emit(st, func(w io.Writer) { printStack(w, st) })
			})
		}
	},
}

var logsCmd = command{
	name:    "logs",
	args:    "[SERVICE]",
	summary: "print the last log lines of every service, or of one",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the logs as JSON (project, service, tail, text), as env_logs returns them")
		tail := fs.Int("tail", 100, "lines per service (1-2000)")
		follow := fs.Bool("f", false, "follow: keep printing new lines until interrupted")
		fs.BoolVar(follow, "follow", false, "the same as -f")
		since := fs.String("since", "", "only lines since a duration ago (10m) or a time (2026-12-02T15:04:05Z)")
		return func(ctx context.Context, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("%w: logs takes at most one service", errUsage)
			}
			if *tail < 1 || *tail > 2000 {
				return fmt.Errorf("%w: --tail must be between 1 and 2000", errUsage)
			}
			if *since != "" && !validSince(*since) {
				return fmt.Errorf("%w: --since %q: give a duration (10m, 1h30m) or a time (2026-12-02T15:04:05Z)", errUsage, *since)
			}
			service := ""
			if len(args) == 1 {
				service = args[0]
			}
			if *follow || *since != "" {
				if g.json {
					return fmt.Errorf("%w: -f and --since print lines as they are, not --json", errUsage)
				}
				return withEnv(ctx, g, func(env *envs.Env) error {
					return env.StreamLogs(ctx, engine.LogOptions{Service: service, Tail: *tail, Since: *since, Follow: *follow}, g.stdout)
				})
			}
			return withEnv(ctx, g, func(env *envs.Env) error {
				logs, err := env.Logs(ctx, service, *tail)
				if err != nil {
					return err
				}
				return g.emit(logs, func(w io.Writer) {
					if logs.Text == "" {
						fmt.Fprintln(g.stderr, "wtenv: no log lines")
					}
					io.WriteString(w, logs.Text)
				})
			})
		}
	},
}

// validSince accepts what the engine takes for since: a duration or a
// time.
func validSince(s string) bool {
	if _, err := time.ParseDuration(s); err == nil {
		return true
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

var lsCmd = command{
	anyWorktree: true,
	name:        "ls",
	summary:     "list every wtenv stack on this engine, or on every engine of the pool (any worktree)",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		fs.BoolVar(&g.json, "json", false, "print the List as JSON")
		caches := fs.Bool("caches", false, "list the test caches (volumes kept across test runs, shared by a repository's worktrees) instead")
		return func(ctx context.Context, args []string) error {
			if *caches {
				c, err := envs.ListCaches(ctx)
				if err != nil {
					return err
				}
				return g.emit(c, func(w io.Writer) { printCaches(w, c, false) })
			}
			l, err := envs.List(ctx)
			if err != nil {
				return err
			}
			return g.emit(l, func(w io.Writer) { printList(w, l) })
		}
	},
}

func printStack(w io.Writer, st stack.Stack) {
	fmt.Fprintf(w, "%s  %s  (branch %s, %s)\n", st.Project, st.State, st.Branch, st.Worktree)
	if st.Engine.Name != "" && (st.Engine.Name != "default" || st.State == stack.StateUnreachable) {
		fmt.Fprintf(w, "engine: %s (%s)\n", st.Engine.Name, st.Engine.Host)
	}
	for _, warn := range st.Warnings {
		fmt.Fprintf(w, "note: %s\n", warn)
	}
	printAdmission(w, st.Admission)
	if st.State == stack.StateAsleep {
		fmt.Fprintln(w, "asleep: containers, data, names and ports kept, no memory held; `wtenv up` or a test run wakes it")
	}
	if st.State == stack.StateUnreachable {
		fmt.Fprintf(w, "its engine %s does not answer: what the stack holds there is unknown, not gone; start that engine, then run `wtenv status` again\n", st.Engine.Name)
		return
	}
	if len(st.Services) == 0 {
		fmt.Fprintln(w, "no containers; run `wtenv up`")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tHEALTH\tMEMORY\tPORTS")
	for _, s := range st.Services {
		state := s.State
		if state == "exited" {
			state = fmt.Sprintf("exited (%d)", s.ExitCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, state, dash(s.Health), units.BytesSize(float64(s.MemoryBytes)), s.Mappings())
	}
	tw.Flush()
	for _, s := range st.Services {
		if sh := s.Shared; sh != nil {
			fmt.Fprintf(w, "shared: %s runs once for %d worktree(s) of the repository as %s, holding %s; this worktree's share %s",
				s.Name, sh.Worktrees, sh.Project, units.BytesSize(float64(sh.ServerMemoryBytes)), units.BytesSize(float64(s.MemoryBytes)))
			if len(sh.Databases) > 0 {
				fmt.Fprintf(w, "; its database: %s", strings.Join(sh.Databases, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	if st.SharedMemoryBytes > 0 {
		fmt.Fprintf(w, "memory: %s, and %s as its share of shared services\n", units.BytesSize(float64(st.MemoryBytes)), units.BytesSize(float64(st.SharedMemoryBytes)))
	} else {
		fmt.Fprintf(w, "memory: %s\n", units.BytesSize(float64(st.MemoryBytes)))
	}
	printBudget(w, st.Budget)
}

func printList(w io.Writer, l stack.List) {
	if len(l.Stacks) == 0 {
		fmt.Fprintln(w, "no wtenv stacks on this engine")
	} else {
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		pooled := len(l.Engines) > 0
		if pooled {
			fmt.Fprintln(tw, "PROJECT\tENGINE\tSTATE\tMEMORY\tBRANCH\tWORKTREE")
		} else {
			fmt.Fprintln(tw, "PROJECT\tSTATE\tMEMORY\tBRANCH\tWORKTREE")
		}
		for _, s := range l.Stacks {
			if pooled {
				fmt.Fprintf(tw, "%s\t%s\t", s.Project, s.Engine)
			} else {
				fmt.Fprintf(tw, "%s\t", s.Project)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.State, units.BytesSize(float64(s.MemoryBytes)), s.Branch, s.Worktree)
		}
		tw.Flush()
	}
	for _, e := range l.Engines {
		if !e.Reachable {
			fmt.Fprintf(w, "engine %s does not answer: %s\n", e.Name, e.Error)
		}
	}
	if len(l.Engines) > 0 {
		fmt.Fprintf(w, "memory budget: %s held of %s, %s free%s (the budgets of the engines that answer; `wtenv engines` shows each)\n",
			units.BytesSize(float64(l.Budget.UsedBytes)), units.BytesSize(float64(l.Budget.LimitBytes)), units.BytesSize(float64(l.Budget.FreeBytes)), asleepPart(l.Budget))
		return
	}
	printBudget(w, l.Budget)
}

// printBudget shows the machine's memory budget in one line.
func printBudget(w io.Writer, b stack.Budget) {
	if b.LimitBytes <= 0 {
		fmt.Fprintf(w, "memory budget: none (stacks hold %s%s)\n", units.BytesSize(float64(b.UsedBytes)), asleepPart(b))
		return
	}
	source := "80% of this machine's memory; set WTENV_MEMORY_BUDGET to change it"
	if v := os.Getenv("WTENV_MEMORY_BUDGET"); v != "" {
		source = "WTENV_MEMORY_BUDGET=" + v
	}
	fmt.Fprintf(w, "memory budget: %s held of %s, %s free%s (%s)\n",
		units.BytesSize(float64(b.UsedBytes)), units.BytesSize(float64(b.LimitBytes)), units.BytesSize(float64(b.FreeBytes)), asleepPart(b), source)
}

// asleepPart is the budget line's note of asleep stacks.
func asleepPart(b stack.Budget) string {
	switch b.AsleepStacks {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; 1 stack asleep (%s when it wakes)", units.BytesSize(float64(b.AsleepBytes)))
	default:
		return fmt.Sprintf("; %d stacks asleep (%s when they wake)", b.AsleepStacks, units.BytesSize(float64(b.AsleepBytes)))
	}
}

// printAdmission says what admission did for the call: the wake and the
// stacks put to sleep to make room.
func printAdmission(w io.Writer, a *stack.Admission) {
	for _, line := range a.Lines() {
		fmt.Fprintln(w, line)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
