package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wtenv/wtenv/runner"
)

// agentsConfig is the "Ten agents, one laptop" scenario (-agents): N
// worktrees of the shop, a memory budget measured to fit a few running
// shops, and N agent loops over MCP, each with its own `wtenv serve`:
// env_up, run_e2e_tests, idle, run_e2e_tests again. Then the same loops
// with an unlimited budget, for comparison.
type agentsConfig struct {
	on               bool
	n, fit           int
	seed             uint64
	margin           float64
	idleAfter        time.Duration
	spacing          time.Duration // mean gap between two agents' starts
	idleMin, idleMax time.Duration // an agent's idle time is drawn between these
	unlimited        bool          // also run the comparison with an unlimited budget
}

// unlimitedBudget is the comparison run's WTENV_MEMORY_BUDGET: far above
// anything the run can hold, so admission never evicts nor refuses.
const unlimitedBudget = "1TiB"

func agentFlags(c *agentsConfig) {
	flag.BoolVar(&c.on, "agents", false, "run only the scenario \"Ten agents, one laptop\" and replace its section of results.md (the rest of the file is kept)")
	flag.IntVar(&c.n, "agents-n", 10, "agents (and worktrees) in the -agents scenario")
	flag.IntVar(&c.fit, "agents-fit", 4, "the -agents budget fits this many running shops, measured")
	flag.Float64Var(&c.margin, "agents-margin", 0.10, "the -agents budget's margin over fit × the largest measured shop (0.10: 10%)")
	flag.DurationVar(&c.idleAfter, "agents-idle-after", 20*time.Second, "WTENV_IDLE_AFTER of the -agents runs: how soon an untouched stack may be put to sleep")
	flag.DurationVar(&c.spacing, "agents-spacing", 25*time.Second, "mean gap between two agents' starts (each drawn from ±50%)")
	flag.DurationVar(&c.idleMin, "agents-idle-min", 90*time.Second, "shortest idle time an agent draws between its two e2e runs")
	flag.DurationVar(&c.idleMax, "agents-idle-max", 180*time.Second, "longest idle time an agent draws")
	flag.Uint64Var(&c.seed, "agents-seed", 1, "seed of the agents' start and idle times (the same for both runs)")
	flag.BoolVar(&c.unlimited, "agents-unlimited", true, "after the budgeted run, run the same agents with an unlimited budget")
}

func (c agentsConfig) check() error {
	switch {
	case c.n < 1 || c.fit < 1:
		return errors.New("-agents-n and -agents-fit must be at least 1")
	case c.idleMin < 0 || c.idleMax < c.idleMin:
		return errors.New("-agents-idle-min must be at most -agents-idle-max")
	case c.idleAfter <= 0:
		return errors.New("-agents-idle-after must be positive: with 0 no stack is ever idle")
	}
	return nil
}

// plan is one agent's drawn schedule, the same in both runs.
type plan struct {
	start, idle time.Duration
}

// drawPlans draws each agent's start (agent i near i × spacing, ±50%) and
// idle time (uniform between idleMin and idleMax) from the fixed seed.
func (c agentsConfig) drawPlans() []plan {
	rng := rand.New(rand.NewPCG(c.seed, 0x5eed))
	out := make([]plan, c.n)
	for i := range out {
		jitter := time.Duration((rng.Float64() - 0.5) * float64(c.spacing))
		out[i].start = max(0, time.Duration(i)*c.spacing+jitter)
		out[i].idle = c.idleMin + time.Duration(rng.Float64()*float64(c.idleMax-c.idleMin))
	}
	if c.n > 0 {
		out[0].start = 0
	}
	return out
}

// agentsResult is the whole scenario, for the report.
type agentsResult struct {
	machine         machine
	plans           []plan
	prewarm         []prewarmRun
	prewarmWall     time.Duration
	shopMemory      int64            // env_status memory of the first shop after its e2e run, alone
	peaks           map[string]int64 // state file's measured peak per project after the prewarm
	largestPeak     int64
	budget          int64
	budgeted, unlim *scenarioRun
	unlimErr        string
	elapsed         time.Duration
}

// runAgents is the -agents mode: setup as the main harness does, the
// prewarm and budget measurement, the budgeted run, the unlimited run,
// and the report section. (after prepared's setup).
func (b *bench) runAgents(ctx context.Context) (string, error) {
	ac := b.cfg.agents
	r := &agentsResult{machine: b.machineFacts(ctx), plans: ac.drawPlans()}
	var err error
	b.awaitQuiet(ctx)
	if err = b.prewarm(ctx, r); err != nil {
		return "", fmt.Errorf("prewarm: %w", err)
	}
	r.budget = int64(float64(ac.fit) * float64(r.largestPeak) * (1 + ac.margin))
	r.budget = (r.budget + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB
	b.logf("agents: budget %s = %d × largest shop %s + %.0f%%", mib(r.budget), ac.fit, mib(r.largestPeak), ac.margin*100)
	b.awaitQuiet(ctx)
	if r.budgeted, err = b.scenario(ctx, "budgeted", fmt.Sprintf("%dMiB", r.budget>>20), r.budget, r.plans); err != nil {
		return "", fmt.Errorf("budgeted run: %w", err)
	}
	if ac.unlimited && ctx.Err() == nil {
		if err := b.resetStacks(ctx); err != nil {
			return "", err
		}
		b.awaitQuiet(ctx)
		if r.unlim, err = b.scenario(ctx, "unlimited", unlimitedBudget, 0, r.plans); err != nil {
			r.unlimErr = err.Error()
			b.logf("unlimited run: %v", err)
		}
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	r.machine.loadEnd = loadAvg()
	r.elapsed = time.Since(b.start)
	path := filepath.Join(b.repo, b.cfg.out)
	old, _ := os.ReadFile(path)
	return path, os.WriteFile(path, []byte(replaceSection(string(old), r.markdown(b.cfg, b.base))), 0o644)
}

// prewarmRun is one worktree's first up (its images built) and e2e run,
// before anything is measured.
type prewarmRun struct {
	up, e2e time.Duration
	passed  bool
}

// prewarm brings each worktree's stack up once with --build and runs its
// e2e suite (which builds the test image), then takes it down and removes
// its volume: the timed runs then build nothing, and the state file holds
// each shop's measured peak, which admission uses as its need. The first
// worktree goes alone, on a quiet machine, and its memory is read after
// the run; the others go two at a time.
func (b *bench) prewarm(ctx context.Context, r *agentsResult) error {
	b.logf("agents: prewarm: up --build and e2e in %d worktrees (first alone, then two at a time)", len(b.trees))
	t0 := time.Now()
	r.prewarm = make([]prewarmRun, len(b.trees))
	if err := b.prewarmOne(ctx, 0, r); err != nil {
		return err
	}
	out, err := runQuiet(ctx, b.trees[0], b.wtenvCmd(b.trees[0], "status")...)
	if err != nil {
		return err
	}
	var st struct {
		MemoryBytes int64 `json:"memory_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return fmt.Errorf("wtenv status --json: %w", err)
	}
	r.shopMemory = st.MemoryBytes
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	slots := make(chan struct{}, 2)
	for i := 1; i < len(b.trees); i++ {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if err := b.prewarmOne(ctx, i, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := b.resetStacks(ctx); err != nil {
		return err
	}
	r.prewarmWall = time.Since(t0)
	if r.peaks, err = b.statePeaks(); err != nil {
		return err
	}
	for _, p := range r.peaks {
		r.largestPeak = max(r.largestPeak, p)
	}
	if r.largestPeak == 0 {
		return errors.New("the state file records no measured peak after the prewarm")
	}
	return nil
}

// prewarmOne is one worktree's up --build and e2e run. The first
// worktree's stack stays up, for its memory reading.
func (b *bench) prewarmOne(ctx context.Context, i int, r *agentsResult) error {
	root := b.trees[i]
	up := runTimed(ctx, time.Now(), root, append(b.wtenvCmd(root, "up"), "--build"))
	if up.err != nil {
		return up.err
	}
	e2e := runTimed(ctx, time.Now(), root, b.wtenvCmd(root, "test", "e2e"))
	var tr runner.TestRun
	if err := json.Unmarshal(e2e.stdout, &tr); err != nil {
		return fmt.Errorf("%s: wtenv test e2e: %w\n%s", root, err, tail(e2e.lines, 10))
	}
	r.prewarm[i] = prewarmRun{up: up.wall, e2e: e2e.wall, passed: tr.Passed}
	b.logf("agents: prewarm %s: up %s, e2e %s (passed %t)", filepath.Base(root), dur(up.wall), dur(e2e.wall), tr.Passed)
	if i == 0 {
		return nil
	}
	_, err := runQuiet(ctx, root, b.wtenvCmd(root, "down")...)
	return err
}

// resetStacks takes every worktree's stack down and removes its volume, so
// the next run starts from no stack at all, images present.
func (b *bench) resetStacks(ctx context.Context) error {
	projects, err := b.projects(ctx)
	if err != nil {
		return err
	}
	b.logf("agents: taking the %d stacks down, volumes removed", len(projects))
	return b.downAll(ctx, projects, nil)
}

// statePeaks reads each project's measured peak from the run's state file
// (read only; it is replaced atomically on every write).
func (b *bench) statePeaks() (map[string]int64, error) {
	raw, err := os.ReadFile(filepath.Join(os.Getenv("WTENV_STATE_DIR"), "state.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Projects map[string]struct {
			Worktree string `json:"worktree"`
			Peak     int64  `json:"peak_memory_bytes"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for name, p := range f.Projects {
		if strings.HasPrefix(p.Worktree, b.base+string(filepath.Separator)+"shop-c") {
			out[name] = p.Peak
		}
	}
	return out, nil
}
