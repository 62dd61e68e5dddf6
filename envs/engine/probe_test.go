package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// slowProbes has a dependency whose engine probes run a minute apart: the
// engine's first probe comes a whole interval after the start.
const slowProbes = `services:
  store:
    image: %[1]s
    ports: ["8080"]
    healthcheck: {test: ["CMD", "/kv", %[2]s], interval: 60s, timeout: 5s, retries: 3}
  front:
    image: %[1]s
    environment: {UPSTREAM_URL: "http://store:8080"}
    depends_on: {store: {condition: service_healthy}}
`

// A dependent starts as soon as its dependency's own healthcheck test
// passes when wtenv runs it, not an interval later when the engine first
// runs it; the stack reports the dependency healthy although the engine
// has not probed it yet.
func TestUpRunsTheHealthcheckItselfBeforeTheEnginesFirstProbe(t *testing.T) {
	ctx, eng, sb := testEngine(t)
	p, meta := loadStack(t, sb, fmt.Sprintf(slowProbes, enginetest.KVImage(t), `"health"`))
	if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	insp, err := api.ContainerInspect(ctx, meta.Project+"-store-1", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The engine's first probe is a minute away: if it had run, up would
	// have waited for it.
	if h := insp.Container.State.Health; h == nil || h.Status != "starting" || len(h.Log) != 0 {
		t.Fatalf("store's health by the engine: %+v; want starting and not probed yet", h)
	}
	snap, err := eng.Snapshot(ctx, meta.Scope())
	if err != nil {
		t.Fatal(err)
	}
	check := func(who string, snap engine.Snapshot) {
		if n := len(ids(snap, meta.Scope())); n != 2 {
			t.Errorf("%s: %d containers in the stack, want store and front", who, n)
		}
		for _, c := range snap.Containers {
			switch {
			case !c.In(meta.Scope()):
			case c.Service == "store" && (c.State != "running" || c.Health != "healthy"):
				t.Errorf("%s: store: %+v; want running and healthy (its test passed)", who, c)
			case c.Service == "front" && c.State != "running":
				t.Errorf("%s: front: %+v; want running", who, c)
			}
		}
	}
	check("the process that waited", snap)
	// Another process, which has not probed store, says the same.
	other, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if snap, err = other.Snapshot(ctx, meta.Scope()); err != nil {
		t.Fatal(err)
	}
	check("another process", snap)
}

// A healthcheck test that fails when wtenv runs it never counts as
// healthy: the wait goes on until the timeout, naming the service.
func TestUpNeverCountsAFailingProbeAsHealthy(t *testing.T) {
	ctx, eng, sb := testEngine(t)
	p, meta := loadStack(t, sb, fmt.Sprintf(slowProbes, enginetest.KVImage(t), `"exit", "1"`))
	err := eng.Up(ctx, p, meta, engine.UpOptions{Timeout: 3 * time.Second})
	if !errors.Is(err, engine.ErrUnhealthy) || !errors.Is(err, engine.ErrTimedOut) {
		t.Fatalf("up with a failing healthcheck: %v; want a timeout waiting for store", err)
	}
	snap, err := eng.Snapshot(ctx, meta.Scope())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Containers {
		if !c.In(meta.Scope()) {
			continue // another test's
		}
		if c.Service == "front" {
			t.Errorf("front was created although store never passed its healthcheck: %+v", c)
		}
		if c.Service == "store" && c.Health == "healthy" {
			t.Errorf("store reported healthy: %+v", c)
		}
	}
}

// testEngine is the start of an engine test: a sandbox, a context bounded
// to three minutes and a client of the engine, closed when the test ends.
func testEngine(t *testing.T) (context.Context, *engine.Docker, *enginetest.Sandbox) {
	t.Helper()
	sb := enginetest.NewSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return ctx, eng, sb
}
