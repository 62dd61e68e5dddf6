package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
)

// concResult is the concurrent phase: N worktrees of one repository, each
// brought up by its own `wtenv up` process, all started at once.
type concResult struct {
	n                int
	prepWall         time.Duration // first ups of the worktrees that needed images, two at a time
	prep             samples       // each of those first ups, its image builds included
	prepBuilt        int           // worktrees whose images were (re)built
	upWall, downWall time.Duration
	up, down         samples // per process
	foot             footprint
	statusOne        samples // in-process Status of one stack while all N run
	stacksOnEngine   int
	load             string        // at the start of the timed ups
	solo             time.Duration // one such up alone, for comparison
	// Per process: until it creates its network, creating the network,
	// and the rest (containers, health).
	before, network, after samples
	slowest                cmdRun // the slowest up, for its timeline
	idle                   idleCPU
}

// concurrentUps makes sure every worktree has its images (timed apart,
// reported), then times N concurrent cold ups, measures the N stacks, and
// times N concurrent downs.
func (b *bench) concurrentUps(ctx context.Context) (*concResult, error) {
	r := &concResult{n: len(b.trees)}
	projects, err := b.projects(ctx)
	if err != nil {
		return r, err
	}
	stale, err := b.staleImages(ctx, projects)
	if err != nil {
		return r, err
	}
	b.logf("concurrent: first up of %d new worktrees (builds their images), two at a time", len(stale))
	r.prepBuilt = len(stale)
	if r.prepWall, r.prep, err = b.firstUps(ctx, stale, projects); err != nil {
		return r, err
	}
	b.awaitQuiet(ctx)
	if r.solo, err = b.soloUp(ctx, projects[0]); err != nil {
		return r, err
	}
	r.load = fmt.Sprintf("%s (%.0f runnable)", loadAvg(), runnable(ctx))
	b.logf("concurrent: %d cold ups at once", r.n)
	wall, runs, err := b.allRuns(ctx, func(i int) []string { return b.concUp(b.trees[i]) })
	if err != nil {
		return r, err
	}
	r.upWall = wall
	for _, c := range runs {
		r.up = append(r.up, c.wall)
		before, network := networkStep(c.lines)
		r.before, r.network = append(r.before, before), append(r.network, network)
		r.after = append(r.after, c.wall-before-network)
		if c.wall > r.slowest.wall {
			r.slowest = c
		}
	}
	for _, p := range projects {
		f, err := measureStack(ctx, b.api, p)
		if err != nil {
			return r, err
		}
		r.foot.add(f)
	}
	r.idle = measureIdleCPU(ctx, r.foot, idleWindow)
	if r.statusOne, r.stacksOnEngine, err = statusAmongMany(ctx, b.trees[0], 20); err != nil {
		return r, err
	}
	b.logf("concurrent: %d downs at once", r.n)
	return r, b.downAll(ctx, projects, r)
}

// all runs one wtenv process per worktree at once and returns the wall time
// until the last exited and each process's own time. An up must report a
// running stack.
func (b *bench) all(ctx context.Context, argv func(i int) []string) (time.Duration, samples, error) {
	wall, runs, err := b.allRuns(ctx, argv)
	per := make(samples, len(runs))
	for i, c := range runs {
		per[i] = c.wall
	}
	return wall, per, err
}

// allRuns is all with each process's run, stamped stderr included.
func (b *bench) allRuns(ctx context.Context, argv func(i int) []string) (time.Duration, []cmdRun, error) {
	runs := make([]cmdRun, len(b.trees))
	errs := make([]error, len(b.trees))
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, root := range b.trees {
		wg.Go(func() {
			c := runTimed(ctx, time.Now(), root, argv(i))
			runs[i], errs[i] = c, c.err
			if c.err == nil && argv(i)[1] == "up" {
				errs[i] = servicesUp(c.stdout, b.concServices)
			}
		})
	}
	wg.Wait()
	return time.Since(t0), runs, errors.Join(errs...)
}

// firstUps brings up, then down, each worktree whose images are missing or
// stale, with --build, two at a time: wtenv tags the images it builds per
// worktree, so a new worktree's first up builds them (from the layer cache
// here). Ten at once would time ten builds and ten Postgres initialisations
// fighting over two cores, not the ups that follow.
func (b *bench) firstUps(ctx context.Context, stale map[string]bool, projects []string) (time.Duration, samples, error) {
	var (
		mu   sync.Mutex
		per  samples
		errs []error
		wg   sync.WaitGroup
	)
	slots := make(chan struct{}, 2)
	t0 := time.Now()
	for i, root := range b.trees {
		if !stale[root] {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			c := runTimed(ctx, time.Now(), root, append(b.concUp(root), "--build"))
			err := c.err
			if err == nil {
				_, err = runQuiet(ctx, root, b.wtenvCmd(root, "down")...)
			}
			if err == nil {
				err = waitGone(ctx, b.api, projects[i])
			}
			if err == nil {
				err = b.removeVolumes(ctx, "dev.wtenv.worktree="+root)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			per = append(per, c.wall)
		})
	}
	wg.Wait()
	return time.Since(t0), per, errors.Join(errs...)
}

// soloUp times one stack's up with nothing else starting, the baseline
// for the concurrent ups, and takes it down again.
func (b *bench) soloUp(ctx context.Context, project string) (time.Duration, error) {
	root := b.trees[0]
	c := runTimed(ctx, time.Now(), root, b.concUp(root))
	if c.err == nil {
		c.err = servicesUp(c.stdout, b.concServices)
	}
	if c.err != nil {
		return 0, c.err
	}
	if _, err := runQuiet(ctx, root, b.wtenvCmd(root, "down")...); err != nil {
		return 0, err
	}
	if err := waitGone(ctx, b.api, project); err != nil {
		return 0, err
	}
	return c.wall, b.removeVolumes(ctx, "dev.wtenv.worktree="+root)
}

// servicesUp checks an up's Stack: the services it was to start run and
// are healthy. With only some services started the stack is "partial" (the
// others show as missing), so each service is checked, not the state.
func servicesUp(out []byte, names []string) error {
	var st stack.Stack
	if err := json.Unmarshal(out, &st); err != nil {
		return fmt.Errorf("wtenv up --json: %w", err)
	}
	up := map[string]bool{}
	for _, s := range st.Services {
		up[s.Name] = s.State == "running" && (s.Health == "" || s.Health == "healthy")
	}
	for _, n := range names {
		if !up[n] {
			return fmt.Errorf("%s: service %s is not running and healthy after up", st.Project, n)
		}
	}
	return nil
}

// downAll takes every stack down at once (timed into r when given) and
// removes their volumes, so the next ups are cold.
func (b *bench) downAll(ctx context.Context, projects []string, r *concResult) error {
	wall, per, err := b.all(ctx, func(i int) []string { return b.wtenvCmd(b.trees[i], "down") })
	if err != nil {
		return err
	}
	if r != nil {
		r.downWall, r.down = wall, per
	}
	for i, root := range b.trees {
		if err := waitGone(ctx, b.api, projects[i]); err != nil {
			return err
		}
		if err := b.removeVolumes(ctx, "dev.wtenv.worktree="+root); err != nil {
			return err
		}
	}
	return nil
}

// concUp is the up command of a concurrent stack: the selected services
// only, unless every service is.
func (b *bench) concUp(root string) []string {
	if b.cfg.concServices == "all" {
		return b.wtenvCmd(root, "up")
	}
	return b.wtenvCmd(root, append([]string{"up"}, strings.Split(b.cfg.concServices, ",")...)...)
}

// projects are the worktrees' wtenv project names.
func (b *bench) projects(ctx context.Context) ([]string, error) {
	var out []string
	for _, root := range b.trees {
		env, err := envs.Open(ctx, root)
		if err != nil {
			return nil, err
		}
		out = append(out, env.Project)
		env.Close()
	}
	return out, nil
}

// staleImages names the worktrees whose built images are missing or differ
// from the A/B worktree's, which round 0 rebuilt from the current example.
// The builder's cache gives an unchanged context the same image ID, so equal IDs mean current images; wtenv itself only checks the tag.
func (b *bench) staleImages(ctx context.Context, projects []string) (map[string]bool, error) {
	main, err := envs.Open(ctx, b.shop)
	if err != nil {
		return nil, err
	}
	defer main.Close()
	want := map[string]string{}
	for _, svc := range b.concBuilds {
		res, err := b.api.ImageInspect(ctx, engine.BuiltImage(main.Project, svc))
		if err != nil {
			return nil, fmt.Errorf("image of %s in the A/B worktree: %w", svc, err)
		}
		want[svc] = res.ID
	}
	stale := map[string]bool{}
	for i, root := range b.trees {
		for _, svc := range b.concBuilds {
			res, err := b.api.ImageInspect(ctx, engine.BuiltImage(projects[i], svc))
			if err != nil || res.ID != want[svc] {
				stale[root] = true
			}
		}
	}
	return stale, nil
}

// statusAmongMany times in-process Status of one stack while every
// concurrent stack runs: a status lists and measures every wtenv container
// on the engine, so its cost grows with the number of stacks.
func statusAmongMany(ctx context.Context, root string, n int) (samples, int, error) {
	env, err := envs.Open(ctx, root)
	if err != nil {
		return nil, 0, err
	}
	defer env.Close()
	var s samples
	for range n {
		t0 := time.Now()
		if _, err := env.Status(ctx); err != nil {
			return nil, 0, err
		}
		s = append(s, time.Since(t0))
	}
	l, err := envs.List(ctx)
	return s, len(l.Stacks), err
}

// networkStep splits an up's timeline at its "creating network" message:
// the time before it (process start, worktree, compose file, port block,
// budget admission, image checks) and the network's creation, which lasts
// until the next message. Without that message the network existed; the
// time before is then until the first message.
func networkStep(lines []stamped) (before, network time.Duration) {
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimPrefix(l.text, "wtenv: "), "creating network ") {
			next := l.at
			if i+1 < len(lines) {
				next = lines[i+1].at
			}
			return l.at, next - l.at
		}
	}
	return first(lines), 0
}
