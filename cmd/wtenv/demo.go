package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
)

var demoCmd = command{
	anyWorktree: true,
	name:        "demo",
	summary:     "run two isolated copies of the bundled example shop side by side, then remove them",
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, []string) error {
		keep := fs.Bool("keep", false, "leave both stacks running and print how to look at them and remove them")
		example := fs.String("example", "", "the example product's folder (default: examples/shop of this repository)")
		skipTests := fs.Bool("skip-tests", false, "do not run the example's test suites")
		layout := fs.String("layout", "both", "separate (a Postgres per worktree), shared (one Postgres for both, share: [db], a database each), or both, one after the other, with their memory compared")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: demo takes no arguments", errUsage)
			}
			layouts, ok := demoLayouts[*layout]
			if !ok {
				return fmt.Errorf("%w: -layout %q: use separate, shared or both", errUsage, *layout)
			}
			d := &demo{out: g.stdout, log: g.stderr, view: newProgressView(g.stderr), keep: *keep, tests: !*skipTests, layouts: layouts, start: time.Now()}
			return d.run(ctx, *example)
		}
	},
}

// demo is the scripted tour: prepare images, make a repository of the
// example with two linked worktrees, bring both stacks up at once through
// the same core the MCP tools use, prove isolation, run the suites, tear
// down, and print the timings.
type demo struct {
	out, log io.Writer
	keep     bool
	tests    bool
	layouts  []string
	start    time.Time
	timings  []string
	mu       sync.Mutex
	view     *progressView // the steps, on log
}

func (d *demo) run(ctx context.Context, exampleDir string) error {
	src, repoRoot, err := findExample(exampleDir)
	if err != nil {
		return err
	}
	d.say("wtenv demo: two isolated copies of the example shop (%s), side by side", src)

	step := time.Now()
	source, err := prepareImages(ctx, repoRoot, d.progress("images"))
	if err != nil {
		return err
	}
	d.say("images: %s", source)
	d.timed("images", step)

	step = time.Now()
	tmp, err := os.MkdirTemp("", "wtenv-demo-")
	if err != nil {
		return err
	}
	roots, err := makeWorktrees(src, tmp, "feature/checkout")
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	d.say("worktrees: %s (main), %s (feature/checkout)", roots[0], roots[1])
	d.timed("repository", step)

	envsList := make([]*envs.Env, len(roots))
	for i, r := range roots {
		if envsList[i], err = envs.Open(ctx, r); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		defer envsList[i].Close()
	}
	cleanup := func() {
		if d.keep {
			return
		}
		step := time.Now()
		cctx := context.WithoutCancel(ctx)
		for _, e := range envsList {
			if r, err := e.Down(cctx, true); err != nil {
				d.say("down %s: %v", e.Project, err)
			} else {
				d.say("down %s: removed %d containers, %d networks, %d volumes, %d images", r.Project, r.Removed.Containers, r.Removed.Networks, r.Removed.Volumes, r.Removed.Images)
			}
		}
		os.RemoveAll(tmp)
		d.timed("down", step)
	}
	defer func() {
		cleanup()
		d.printTimings()
	}()

	memory := map[string]int64{}
	for i, layout := range d.layouts {
		if i > 0 {
			// The worktrees' stacks go down (their data kept) to come up
			// in the other layout.
			for _, e := range envsList {
				if _, err := e.Down(ctx, false); err != nil {
					return err
				}
			}
		}
		if layout == layoutShared {
			if err := shareDatabase(roots); err != nil {
				return err
			}
			d.say("layout: shared — one Postgres for both worktrees (share: [db] in wtenv.yaml), a database each")
		} else {
			d.say("layout: separate — a Postgres in each worktree's stack")
		}
		if memory[layout], err = d.layout(ctx, layout, envsList); err != nil {
			return err
		}
	}
	if len(memory) == 2 {
		d.say("memory of the two stacks: %s with a Postgres each, %s sharing one (%.1f× less)",
			units.BytesSize(float64(memory[layoutSeparate])), units.BytesSize(float64(memory[layoutShared])),
			float64(memory[layoutSeparate])/float64(max(memory[layoutShared], 1)))
	}

	if d.tests {
		step = time.Now()
		if err := d.runSuites(ctx, envsList); err != nil {
			return err
		}
		d.timed("test suites", step)
	}
	if d.keep {
		d.printKeep(envsList, tmp)
	}
	return nil
}

// layout brings both stacks up at once in the layout their wtenv.yaml
// says, shows them, checks their ports and isolation, and returns what
// they hold in all, a shared service counted once.
func (d *demo) layout(ctx context.Context, layout string, es []*envs.Env) (int64, error) {
	step := time.Now()
	stacks, err := d.upAll(ctx, es)
	if err != nil {
		return 0, err
	}
	d.timed("up, "+layout, step)
	for _, st := range stacks {
		d.printStack(st)
	}
	if err := distinctPorts(stacks); err != nil {
		return 0, err
	}
	d.say("ports: distinct")
	step = time.Now()
	if err := d.proveIsolation(ctx, stacks); err != nil {
		return 0, err
	}
	d.timed("isolation, "+layout, step)
	stacks, err = each(es, func(e *envs.Env) (stack.Stack, error) { return e.Status(ctx) })
	if err != nil {
		return 0, err
	}
	return layoutMemory(stacks), nil
}

// upAll brings every stack up at the same time.
func (d *demo) upAll(ctx context.Context, es []*envs.Env) ([]stack.Stack, error) {
	return each(es, func(e *envs.Env) (stack.Stack, error) {
		return e.Up(ctx, envs.UpOptions{Progress: d.progress(e.Project)})
	})
}

// each runs fn on every environment at the same time and collects the
// results in order.
func each[T any](es []*envs.Env, fn func(*envs.Env) (T, error)) ([]T, error) {
	out := make([]T, len(es))
	errs := make([]error, len(es))
	var wg sync.WaitGroup
	for i, e := range es {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = fn(e)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func (d *demo) runSuites(ctx context.Context, es []*envs.Env) error {
	var failed []string
	for _, suite := range []string{"unit", "e2e"} {
		runs, err := each(es, func(e *envs.Env) (runner.TestRun, error) {
			return runner.Run(ctx, e, suite, runner.Options{Progress: d.progress(e.Project)})
		})
		if err != nil {
			return err
		}
		for i, r := range runs {
			verdict := "passed"
			if !r.Passed {
				verdict = "FAILED"
				failed = append(failed, es[i].Project+" "+suite)
			}
			d.say("tests %s in %s: %s, %s (%s)", suite, es[i].Project, verdict, r.Counts, time.Duration(r.DurationMS)*time.Millisecond)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("test suites failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func (d *demo) printStack(st stack.Stack) {
	d.say("stack %s (branch %s): %s, %s", st.Project, st.Branch, st.State, units.BytesSize(float64(st.MemoryBytes)))
	for _, s := range st.Services {
		d.say("  %-7s %-8s %-9s %9s  %s", s.Name, s.State, dash(s.Health), units.BytesSize(float64(s.MemoryBytes)), s.Mappings())
	}
	for _, s := range st.Services {
		if sh := s.Shared; sh != nil {
			d.say("  %s is shared by %d worktrees (%s); this worktree's database: %s", s.Name, sh.Worktrees, sh.Project, strings.Join(sh.Databases, ", "))
		}
	}
	for _, w := range st.Warnings {
		d.say("  note: %s", w)
	}
}

func (d *demo) printKeep(es []*envs.Env, tmp string) {
	d.say("both stacks keep running (--keep). To look at them:")
	for _, e := range es {
		d.say("  wtenv status --worktree %s", e.Worktree.Root)
	}
	d.say("To remove them:")
	for _, e := range es {
		d.say("  wtenv down --purge --worktree %s", e.Worktree.Root)
	}
	d.say("  rm -rf %s", tmp)
	d.say("(wtenv not on your PATH? go install ./cmd/wtenv, or use go run ./cmd/wtenv from this clone.)")
}

func (d *demo) timed(what string, since time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timings = append(d.timings, fmt.Sprintf("%-18s %s", what, time.Since(since).Round(100*time.Millisecond)))
}

func (d *demo) printTimings() {
	d.say("timings:")
	for _, t := range d.timings {
		d.say("  %s", t)
	}
	d.say("  %-18s %s", "total", time.Since(d.start).Round(100*time.Millisecond))
}

// say prints a result line on stdout (above the live view of the steps,
// when both are on a terminal).
func (d *demo) say(format string, a ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	line := fmt.Sprintf(format+"\n", a...)
	d.view.above(d.out, line)
}

// progress shows step messages on stderr, prefixed with who is working,
// as the other commands show theirs.
func (d *demo) progress(who string) func(string) {
	return func(msg string) { d.view.showAs(who, msg) }
}

func findExample(dir string) (src, repoRoot string, err error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		return abs, filepath.Dir(filepath.Dir(abs)), err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	for d := cwd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "examples", "shop", "compose.yaml")); err == nil {
			return filepath.Join(d, "examples", "shop"), d, nil
		}
		if filepath.Dir(d) == d {
			return "", "", errors.New("the example product is not here: run the demo from a clone of the wtenv repository (go run ./cmd/wtenv demo), or pass --example DIR")
		}
	}
}
