package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// ErrUnhealthy means a service failed to become healthy or exited when it
// should not have.
var ErrUnhealthy = errors.New("service not ready")

// ErrTimedOut means a wait ran past its deadline; the error wraps
// ErrUnhealthy too when what it waited for was a service.
var ErrTimedOut = errors.New("timed out")

const pollInterval = 300 * time.Millisecond

// waitSay is how often a long wait says what it waits on.
const waitSay = 5 * time.Second

// restartLoop is how many restarts during one wait make a restart loop.
const restartLoop = 3

// probeInterval is the first pause between two of wtenv's own probes of a
// container whose health is still starting (see probe.go); the pauses grow
// by half each time up to maxProbeInterval.
const (
	probeInterval    = 100 * time.Millisecond
	maxProbeInterval = time.Second
)

// awaitDependencies blocks until each of the service's dependencies meets
// its depends_on condition.
func (e *Docker) awaitDependencies(ctx context.Context, p *types.Project, s types.ServiceConfig, started map[string]chan struct{}, deadline waitTime, progress func(string)) error {
	for dep, d := range s.DependsOn {
		ch, ok := started[dep]
		if !ok {
			if d.Required {
				return fmt.Errorf("service %q depends on %q, which is not enabled (check its profiles, or the services you asked for)", s.Name, dep)
			}
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		name := containerName(p.Name, p.Services[dep])
		switch d.Condition {
		case types.ServiceConditionHealthy:
			if hc := p.Services[dep].HealthCheck; hc == nil || hc.Disable {
				return fmt.Errorf("%w: service %q depends on %q being healthy, but %q has no healthcheck; add one, or use condition: service_started", ErrUnhealthy, s.Name, dep, dep)
			}
			progress(fmt.Sprintf("waiting for %s: healthy (needed by %s)", dep, s.Name))
			if err := e.waitFor(ctx, dep, name, deadline, wantReady, progress); err != nil {
				return err
			}
		case types.ServiceConditionCompletedSuccessfully:
			progress(fmt.Sprintf("waiting for %s to complete (needed by %s)", dep, s.Name))
			if err := e.waitFor(ctx, dep, name, deadline, wantCompleted, progress); err != nil {
				return err
			}
		}
	}
	return nil
}

// awaitHealthy waits until every service with a healthcheck is healthy,
// reporting how many are, and checks that no service without one has
// already failed.
func (e *Docker) awaitHealthy(ctx context.Context, p *types.Project, deadline waitTime, progress func(string)) error {
	var names []string
	for name, s := range p.Services {
		if s.HealthCheck != nil && !s.HealthCheck.Disable {
			names = append(names, name)
		} else if err := e.checkNotFailed(ctx, name, containerName(p.Name, s)); err != nil {
			return err
		}
	}
	sort.Strings(names)
	for i, name := range names {
		progress(fmt.Sprintf("waiting for %s: healthy %d/%d", name, i, len(names)))
		if err := e.waitFor(ctx, name, containerName(p.Name, p.Services[name]), deadline, wantReady, progress); err != nil {
			return err
		}
	}
	if len(names) > 0 {
		progress(fmt.Sprintf("healthy %d/%d", len(names), len(names)))
	}
	return nil
}

// waitTime is when waiting ends, and the flag or argument of the front
// end that sets it, for the message that suggests raising it.
type waitTime struct {
	deadline time.Time
	flag     string
}

type want int

const (
	wantReady     want = iota // healthy, or its healthcheck test passes when wtenv runs it
	wantCompleted             // exited 0
)

// waitFor polls the container until it reaches the wanted state, fails, or
// the deadline passes. A container without a healthcheck counts as healthy
// once it runs; for wantReady, one whose healthcheck test passes when wtenv
// runs it counts as healthy before the engine's first probe. It fails as
// soon as the service cannot get there: it exited, the engine judged it
// unhealthy (its healthcheck's retries ran out, as Compose fails a
// service_healthy dependency), or it restarts in a loop. A long wait says
// every few seconds what it waits on and for how long.
func (e *Docker) waitFor(ctx context.Context, service, name string, wt waitTime, w want, progress func(string)) error {
	deadline := wt.deadline
	if w == wantReady {
		crashPoint(CrashHealthWait)
	}
	probing := w == wantReady
	pause := probeInterval // between two of wtenv's own probes, growing
	start, said := time.Now(), time.Now()
	restarts := -1
	for {
		res, err := e.api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("service %q: %w", service, err)
		}
		st := res.Container.State
		switch {
		case w == wantCompleted && st.Status == container.StateExited && st.ExitCode == 0:
			return nil
		case w == wantCompleted && st.Status == container.StateExited:
			return fmt.Errorf("%w: service %q exited with code %d%s", ErrUnhealthy, service, st.ExitCode, e.logTail(ctx, name, 20))
		case st.Status == container.StateExited || st.Status == container.StateDead:
			return fmt.Errorf("%w: service %q exited with code %d%s", ErrUnhealthy, service, st.ExitCode, e.logTail(ctx, name, 20))
		case w == wantReady && st.Running && (st.Health == nil || st.Health.Status == container.Healthy):
			return nil
		case w == wantReady && st.Running && st.Health.Status == container.Unhealthy && !e.passedThisRun(res.Container.ID, st):
			return fmt.Errorf("%w: service %q is unhealthy: its healthcheck failed %d times in a row, so the engine gave up on it after %s%s; fix the service or its healthcheck, then run up again%s",
				ErrUnhealthy, service, st.Health.FailingStreak, time.Since(start).Round(time.Second), lastProbe(st.Health), e.logTail(ctx, name, 20))
		case w == wantReady && st.Running && e.passedThisRun(res.Container.ID, st):
			return nil // wtenv's own probe passed already (another wait's)
		case probing && st.Running && st.Health.Status == container.Starting:
			pctx, cancel := context.WithDeadline(ctx, deadline)
			ok, err := e.probe(pctx, res.Container.ID, res.Container.Config)
			cancel()
			if err != nil {
				probing = false // leave it to the engine's probes
			} else if ok {
				e.passed.Store(res.Container.ID, st.StartedAt)
				return nil
			}
		}
		if restarts < 0 {
			restarts = res.Container.RestartCount
		}
		if n := res.Container.RestartCount - restarts; n >= restartLoop {
			return fmt.Errorf("%w: service %q restarts in a loop: %d restarts while up waited %s, last exit code %d; fix the service, then run up again%s",
				ErrUnhealthy, service, n, time.Since(start).Round(time.Second), st.ExitCode, e.logTail(ctx, name, 20))
		}
		if time.Now().After(deadline) {
			why := "not healthy"
			if st.Health != nil {
				why = "health is " + string(st.Health.Status) + lastProbe(st.Health)
			}
			return fmt.Errorf("%w (%w): service %q: %s after the timeout (%s); raise %s if it is only slow, or fix the service%s%s", ErrUnhealthy, ErrTimedOut, service, why, time.Since(start).Round(time.Second), wt.flag, e.overloadHint(), e.logTail(ctx, name, 20))
		}
		if time.Since(said) >= waitSay && progress != nil {
			said = time.Now()
			what := "healthy"
			if w == wantCompleted {
				what = "to complete"
			}
			detail := ""
			if st.Health != nil {
				detail = ", health " + string(st.Health.Status) + lastProbe(st.Health)
			}
			progress(fmt.Sprintf("waiting for %s: %s, for %s%s", service, what, time.Since(start).Round(time.Second), detail))
		}
		every := pollInterval
		if probing {
			// A service slow to start is not probed ten times a second
			// for its whole start: each probe costs the engine an exec.
			every, pause = pause, min(pause*3/2, maxProbeInterval)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// checkNotFailed reports a container that exited with a non-zero code.
func (e *Docker) checkNotFailed(ctx context.Context, service, name string) error {
	res, err := e.api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("service %q: %w", service, err)
	}
	if st := res.Container.State; st != nil && st.Status == container.StateExited && st.ExitCode != 0 {
		return fmt.Errorf("%w: service %q exited with code %d%s", ErrUnhealthy, service, st.ExitCode, e.logTail(ctx, name, 20))
	}
	return nil
}

func lastProbe(h *container.Health) string {
	if len(h.Log) == 0 {
		return ""
	}
	last := h.Log[len(h.Log)-1]
	return fmt.Sprintf(" (last probe exit %d: %s)", last.ExitCode, strings.TrimSpace(last.Output))
}
