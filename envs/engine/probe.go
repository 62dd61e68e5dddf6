package engine

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/container"
)

// An engine runs a container's first health probe one whole interval after
// the container starts (engines before API 1.44 ignore start_interval), so
// a chain of dependencies waits an interval per link before anything runs
// the test. While Docker still reports a container's health as starting,
// the waits run the container's own healthcheck test themselves, as the
// engine runs it (same command, user and timeout), and a pass counts as
// healthy: one passing probe is what turns Docker's health to healthy too.
// A dependent then starts as soon as its dependency answers, not up to an
// interval later.

// probeTimeout is Docker's default healthcheck timeout.
const probeTimeout = 30 * time.Second

// probeCommand is the command that the healthcheck test runs, or nil when
// the test is not one wtenv can run (NONE, or inherited and unknown).
func probeCommand(cfg *container.Config) []string {
	if cfg == nil || cfg.Healthcheck == nil || len(cfg.Healthcheck.Test) < 2 {
		return nil
	}
	test := cfg.Healthcheck.Test
	switch test[0] {
	case "CMD":
		return test[1:]
	case "CMD-SHELL":
		shell := cfg.Shell
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		return append(append([]string{}, shell...), test[1])
	}
	return nil
}

// probe runs the container's healthcheck test once and reports whether it
// exited 0. An error means the probe could not be run at all (not that the
// test failed); the caller then leaves health to the engine.
func (e *Docker) probe(ctx context.Context, id string, cfg *container.Config) (bool, error) {
	cmd := probeCommand(cfg)
	if cmd == nil {
		return false, errNoProbe
	}
	timeout := probeTimeout
	if t := cfg.Healthcheck.Timeout; t > 0 {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, _, code, err := e.Exec(ctx, id, cfg.User, cmd)
	switch {
	case ctx.Err() != nil:
		// The API cannot kill an exec: a test that hangs is left to the
		// engine, which kills its own probes at their timeout.
		return false, errProbeHung
	case err != nil:
		return false, err
	}
	return code == 0, nil
}

type probeError string

func (e probeError) Error() string { return string(e) }

const (
	errNoProbe   = probeError("no healthcheck test to run")
	errProbeHung = probeError("the healthcheck test ran past its timeout")
)

// passedThisRun reports whether wtenv's own probe of the container passed
// since it last started.
func (e *Docker) passedThisRun(id string, st *container.State) bool {
	at, ok := e.passed.Load(id)
	return ok && at == st.StartedAt
}

// statusProbeTimeout bounds a probe that a status look runs.
const statusProbeTimeout = 2 * time.Second

// health is the container's health as the engine reports it, except while
// the engine has not probed it since it started: then it is healthy when
// the container's own healthcheck test passes, run by wtenv (once in this
// process; a failed run leaves it starting), as a wait would have found
// it. Every process then reports a stack that up found healthy as
// healthy, not as starting for up to an interval.
func (e *Docker) health(ctx context.Context, id string, st *container.State, cfg *container.Config) string {
	h := st.Health
	if h.Status != container.Starting || !st.Running {
		return string(h.Status)
	}
	started, err := time.Parse(time.RFC3339Nano, st.StartedAt)
	if err != nil {
		return string(h.Status)
	}
	for _, r := range h.Log { // it keeps the probes of earlier runs too
		if r.Start.After(started) {
			e.passed.Delete(id)
			return string(h.Status) // the engine has probed: its word stands
		}
	}
	if e.passedThisRun(id, st) {
		return string(container.Healthy)
	}
	pctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	if ok, err := e.probe(pctx, id, cfg); err == nil && ok {
		e.passed.Store(id, st.StartedAt)
		return string(container.Healthy)
	}
	return string(h.Status)
}
