package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/stack"
)

// sideResult holds one side's samples over the counted rounds.
type sideResult struct {
	cold, coldObserved, coldWall samples
	warm, status, down           samples
	cpu                          map[string]samples // by operation: the command's own CPU time
	coldRuns, warmRuns           []cmdRun           // stamped stderr, for timelines
	foot                         footprint
	idle                         idleCPU
}

// abResult is everything the interleaved rounds measure.
type abResult struct {
	wtenv, compose sideResult
	project        string  // the A/B worktree's wtenv project
	mcpStatus      samples // env_status over one long-lived wtenv serve
	mcpFirst       time.Duration
	mcpWarmUp      samples // env_up on the running stack, same session
	inproc         inProcess
	breakdown      []step
	breakdownWhole samples
	help           samples // `wtenv help`: a process's start and exit
	prof           profiles
	firstCalls     map[string]samples // a fresh process's first and second calls
	serveCPU       time.Duration      // wtenv serve's CPU time over the counted env_status calls
	loads          []string           // load average at each round's start
	failures       []string           // attempts that failed and were retried
}

// record keeps one counted command's wall and CPU time.
func (s *sideResult) record(op string, into *samples, c cmdRun, wall time.Duration) {
	*into = append(*into, wall)
	if s.cpu == nil {
		s.cpu = map[string]samples{}
	}
	s.cpu[op] = append(s.cpu[op], c.cpu)
}

// abRounds runs round 0 (warm-up, not counted: wtenv builds its images
// with --build, caches warm up) and then cfg.rounds counted rounds. Each
// round runs the whole sequence — cold up, warm ups, status, down — on one
// side, then on the other; who goes first alternates, so a drift in the
// machine's load (another engineer's tests) hits both sides alike. Only one
// side's stack runs at any time.
func (b *bench) abRounds(ctx context.Context) (*abResult, error) {
	r := &abResult{}
	env, err := envs.Open(ctx, b.shop)
	if err != nil {
		return nil, err
	}
	r.project = env.Project
	env.Close()
	if err := b.composePortsFree(ctx); err != nil {
		return nil, err
	}
	b.logf("compose: %s (untimed; its up then runs with --no-build)", b.compose.build()[len(b.compose.argv):])
	if _, err := runQuiet(ctx, b.shop, b.compose.build()...); err != nil {
		return nil, err
	}
	sess, err := b.startServe(ctx, b.shop, "serve-status.log", false)
	if err != nil {
		return nil, err
	}
	defer sess.close()
	for round := 0; round <= b.cfg.rounds; round++ {
		b.awaitQuiet(ctx)
		r.loads = append(r.loads, fmt.Sprintf("%s (%.0f runnable)", loadAvg(), runnable(ctx)))
		sides := []struct {
			wtenv bool
			run   func(context.Context, int, *abResult, *serveSession) error
		}{{true, b.wtenvRound}, {false, b.composeRound}}
		if round%2 == 0 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := b.retry(ctx, round, side.wtenv, r, func() error { return side.run(ctx, round, r, sess) }); err != nil {
				return r, fmt.Errorf("round %d: %w", round, err)
			}
		}
	}
	return r, nil
}

// retry runs one side's round, and on failure (a healthcheck that gave up
// on an overloaded machine, an engine restarted under the run) removes
// that side's stack, drops the attempt's samples and tries again, twice at
// most. Every failure is reported.
func (b *bench) retry(ctx context.Context, round int, wtenvSide bool, r *abResult, fn func() error) error {
	name := b.compose.variant
	if wtenvSide {
		name = "wtenv"
	}
	var err error
	for attempt := range 3 {
		before := r.snapshot()
		if err = fn(); err == nil || ctx.Err() != nil {
			return err
		}
		*r = before
		first, _, _ := strings.Cut(err.Error(), "\n")
		r.failures = append(r.failures, fmt.Sprintf("round %d, %s, attempt %d: %s", round, name, attempt+1, first))
		b.logf("round %d: %s failed, removing its stack and retrying: %v", round, name, err)
		b.resetSide(ctx, wtenvSide)
		b.awaitQuiet(ctx)
	}
	return err
}

// snapshot copies the result so a failed attempt's samples can be dropped:
// slices are cut back to their length, the CPU maps copied.
func (r *abResult) snapshot() abResult {
	c := *r
	c.wtenv.cpu, c.compose.cpu = maps.Clone(r.wtenv.cpu), maps.Clone(r.compose.cpu)
	return c
}

// resetSide removes one side's stack and volume after a failed attempt.
func (b *bench) resetSide(ctx context.Context, wtenvSide bool) {
	if wtenvSide {
		_, err := runQuiet(ctx, b.shop, b.wtenvCmd(b.shop, "down")...)
		b.warn(err)
		b.warn(b.removeVolumes(ctx, "dev.wtenv.worktree="+b.shop))
		return
	}
	_, err := runQuiet(ctx, b.shop, b.compose.cmd("down", "-v")...)
	b.warn(err)
}

func (b *bench) wtenvRound(ctx context.Context, round int, r *abResult, sess *serveSession) error {
	counted, s := round > 0, &r.wtenv
	up := b.wtenvCmd(b.shop, "up")
	if round == 0 {
		up = b.wtenvCmd(b.shop, "up", "--build") // images current with examples/shop
	}
	b.logf("round %d: wtenv cold up", round)
	u := timedUp(ctx, b.api, r.project, len(b.services), b.shop, up)
	if err := checkUp(u); err != nil {
		return err
	}
	if counted {
		s.record("cold", &s.cold, u.cmdRun, u.ready)
		s.coldObserved, s.coldWall = append(s.coldObserved, u.observed), append(s.coldWall, u.wall)
		s.coldRuns = append(s.coldRuns, u.cmdRun)
	}
	for range b.cfg.warm {
		u := timedUp(ctx, b.api, r.project, len(b.services), b.shop, b.wtenvCmd(b.shop, "up"))
		if err := checkUp(u); err != nil {
			return err
		}
		if counted {
			s.record("warm", &s.warm, u.cmdRun, u.ready)
			s.warmRuns = append(s.warmRuns, u.cmdRun)
		}
	}
	for range b.cfg.statusCalls {
		c := runTimed(ctx, time.Now(), b.shop, b.wtenvCmd(b.shop, "status"))
		if c.err != nil {
			return c.err
		}
		if counted {
			s.record("status", &s.status, c, c.wall)
		}
	}
	cpu0 := procCPU(sess.pid())
	for i := range b.cfg.mcpCalls {
		d, st, err := sess.call(ctx, "env_status", nil)
		if err != nil {
			return err
		}
		if st.State != stack.StateRunning || len(st.Services) != len(b.services) {
			return fmt.Errorf("env_status: %s with %d services", st.State, len(st.Services))
		}
		switch {
		case round == 0 && i == 0:
			r.mcpFirst = d // the session's first call opens the worktree and the engine
		case counted:
			r.mcpStatus = append(r.mcpStatus, d)
		}
	}
	if counted {
		r.serveCPU += procCPU(sess.pid()) - cpu0
	}
	if d, _, err := sess.call(ctx, "env_up", nil); err != nil {
		return err
	} else if counted {
		r.mcpWarmUp = append(r.mcpWarmUp, d)
	}
	if err := b.wtenvExtras(ctx, round, r); err != nil {
		return err
	}
	b.logf("round %d: wtenv down", round)
	c := runTimed(ctx, time.Now(), b.shop, b.wtenvCmd(b.shop, "down"))
	if c.err != nil {
		return c.err
	}
	if counted {
		s.record("down", &s.down, c, c.wall)
	}
	if err := waitGone(ctx, b.api, r.project); err != nil {
		return err
	}
	return b.removeVolumes(ctx, "dev.wtenv.worktree="+b.shop)
}

// wtenvExtras are the measurements taken once, while the wtenv stack runs:
// its footprint (first counted round), and the in-process figures and
// status breakdown (last round).
func (b *bench) wtenvExtras(ctx context.Context, round int, r *abResult) error {
	var err error
	if round == 1 {
		if r.wtenv.foot, err = measureStack(ctx, b.api, r.project); err != nil {
			return err
		}
		r.wtenv.idle = measureIdleCPU(ctx, r.wtenv.foot, idleWindow)
	}
	if round != b.cfg.rounds {
		return nil
	}
	b.logf("round %d: in-process status and warm up, status breakdown, CPU profiles", round)
	if r.inproc, err = measureInProcess(ctx, b.shop, b.cfg.mcpCalls); err != nil {
		return err
	}
	if r.breakdown, r.breakdownWhole, err = statusBreakdown(ctx, b.shop, b.cfg.mcpCalls); err != nil {
		return err
	}
	if r.prof, err = profileInProcess(ctx, b.base, b.shop, 4*b.cfg.mcpCalls); err != nil {
		return err
	}
	if err := b.initTrace(ctx, &r.prof); err != nil {
		return err
	}
	if r.firstCalls, err = b.firstCalls(ctx, b.shop, 5); err != nil {
		return err
	}
	for range 5 {
		c := runTimed(ctx, time.Now(), b.shop, []string{b.wtenv, "help"})
		if c.err != nil {
			return c.err
		}
		r.help = append(r.help, c.wall)
	}
	return nil
}

func (b *bench) composeRound(ctx context.Context, round int, r *abResult, _ *serveSession) error {
	counted, s, c := round > 0, &r.compose, b.compose
	b.logf("round %d: compose cold up", round)
	u := timedUp(ctx, b.api, composeProject, len(b.services), b.shop, c.up())
	if u.err != nil {
		return u.err
	}
	if counted {
		s.record("cold", &s.cold, u.cmdRun, u.ready)
		s.coldObserved, s.coldWall = append(s.coldObserved, u.observed), append(s.coldWall, u.wall)
		s.coldRuns = append(s.coldRuns, u.cmdRun)
	}
	for range b.cfg.warm {
		u := timedUp(ctx, b.api, composeProject, len(b.services), b.shop, c.up())
		if u.err != nil {
			return u.err
		}
		if counted {
			s.record("warm", &s.warm, u.cmdRun, u.ready)
			s.warmRuns = append(s.warmRuns, u.cmdRun)
		}
	}
	for range b.cfg.statusCalls {
		run := runTimed(ctx, time.Now(), b.shop, c.status())
		if run.err != nil {
			return run.err
		}
		if counted {
			s.record("status", &s.status, run, run.wall)
		}
	}
	var err error
	if round == 1 {
		if s.foot, err = measureStack(ctx, b.api, composeProject); err != nil {
			return err
		}
		s.idle = measureIdleCPU(ctx, s.foot, idleWindow)
	}
	b.logf("round %d: compose down", round)
	anon, err := b.mountedVolumes(ctx, "com.docker.compose.project="+composeProject)
	if err != nil {
		return err
	}
	run := runTimed(ctx, time.Now(), b.shop, c.down())
	if run.err != nil {
		return run.err
	}
	if counted {
		s.record("down", &s.down, run, run.wall)
	}
	if err := waitGone(ctx, b.api, composeProject); err != nil {
		return err
	}
	if err := b.removeVolumes(ctx, "com.docker.compose.project="+composeProject); err != nil {
		return err
	}
	// Compose's down keeps the anonymous volumes of image VOLUMEs (Redis's
	// /data); they carry no label, so they are removed by name.
	for _, name := range anon {
		if _, err := b.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// checkUp fails an up that failed or did not report a running stack.
func checkUp(u upRun) error {
	if u.err != nil {
		return u.err
	}
	var st stack.Stack
	if err := json.Unmarshal(u.stdout, &st); err != nil {
		return fmt.Errorf("wtenv up --json: %w", err)
	}
	if st.State != stack.StateRunning {
		return fmt.Errorf("wtenv up: stack is %s", st.State)
	}
	return nil
}

// composePortsFree checks the host ports the unchanged compose file
// publishes: Compose binds them as written, so something else holding
// one would fail its up midway.
func (b *bench) composePortsFree(ctx context.Context) error {
	cfg, err := compose.LoadConfig(b.shop)
	if err != nil {
		return err
	}
	p, err := compose.Load(ctx, b.shop, cfg, composeProject)
	if err != nil {
		return err
	}
	for _, ref := range compose.Published(p) {
		port := p.Services[ref.Service].Ports[ref.Indexes[0]].Published
		l, err := net.Listen("tcp", ":"+port)
		if err != nil {
			return fmt.Errorf("the compose side publishes host port %s (service %s) as the file says, and it is taken: %v", port, ref.Service, err)
		}
		l.Close()
	}
	for _, s := range p.Services {
		if s.ContainerName == "" {
			continue
		}
		if _, err := b.api.ContainerInspect(ctx, s.ContainerName, client.ContainerInspectOptions{}); err == nil {
			return fmt.Errorf("a container named %s exists; the compose side needs that name (container_name of %s, as the file fixes it)", s.ContainerName, s.Name)
		}
	}
	return nil
}
