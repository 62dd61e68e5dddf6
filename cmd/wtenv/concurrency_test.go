package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// SoakEnv sets how many rounds TestTenConcurrentUps runs: 3 by default (CI),
// 50 for the soak in docs/reliability.md.
const soakEnv = "WTENV_SOAK_ROUNDS"

// The fixture as an image service, so the rounds measure up, not builds.
const concurrentCompose = `services:
  store:
    image: %[1]s
    pull_policy: never
    container_name: store
    ports: ["8080:8080"]
    volumes: [data:/data]
    healthcheck: {test: ["CMD", "/kv", "health"], interval: 1s, timeout: 2s, retries: 30}
  front:
    image: %[1]s
    pull_policy: never
    ports: ["3000:8080"]
    environment: {UPSTREAM_URL: "http://store:8080"}
    depends_on: {store: {condition: service_healthy}}
    healthcheck: {test: ["CMD", "/kv", "health"], interval: 1s, timeout: 2s, retries: 30}
volumes:
  data:
`

// Ten `wtenv up` processes on ten new worktrees at once, round after round:
// every one succeeds, no two stacks share a project, container name or host
// port, each answers on its own ports, and ten concurrent downs leave no
// object, port block or reservation.
func TestTenConcurrentUps(t *testing.T) {
	rounds := 3
	if v := os.Getenv(soakEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of rounds", soakEnv, v)
		}
		rounds = n
	}
	enginetest.Full(t)
	enginetest.Isolate(t)
	t.Setenv(budget.EnvVar, "20GiB")
	image := enginetest.KVImage(t)
	repo := enginetest.Repo(t, "soak", map[string][]byte{"compose.yaml": []byte(fmt.Sprintf(concurrentCompose, image))})
	var ups, failures, collisions, leaks int
	var slowest time.Duration
	for r := range rounds {
		// Generous: on a loaded two-core machine ten stacks' healthchecks
		// alone keep the engine busy. A round that times out is a failure.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		wts := make([]string, 10)
		for i := range wts {
			wts[i] = enginetest.Worktree(t, repo, fmt.Sprintf("round-%d/agent-%d", r, i))
		}
		enginetest.Cleanup(t, wts...)
		start := time.Now()
		results := concurrently(ctx, t, wts, "up", "--json")
		wall := time.Since(start)
		slowest = max(slowest, wall)
		ups += len(wts)
		seen := map[string]string{}
		claim := func(what, wt string) {
			if other, ok := seen[what]; ok && other != wt {
				collisions++
				t.Errorf("round %d: %s used by %s and %s", r, what, other, wt)
			}
			seen[what] = wt
		}
		for i, p := range results {
			var st stack.Stack
			if p.code != 0 || json.Unmarshal([]byte(p.stdout), &st) != nil || st.State != stack.StateRunning {
				failures++
				t.Errorf("round %d: up in %s: exit %d %s\n%s", r, wts[i], p.code, st.State, p.stderr)
				continue
			}
			claim("project "+st.Project, wts[i])
			for _, s := range st.Services {
				claim("container "+s.Container, wts[i])
				for _, port := range s.Ports {
					claim("port "+strconv.Itoa(port.HostPort), wts[i])
					if port.HostIP != "127.0.0.1" {
						t.Errorf("round %d: %s publishes on %s", r, s.Name, port.HostIP)
					}
				}
			}
			if s := serviceOf(st, "front"); s == nil || len(s.Ports) != 1 || get(t, s.Ports[0].URL+"/health") != "ok\n" {
				failures++
				t.Errorf("round %d: front of %s does not answer on its own port", r, wts[i])
			}
		}
		for i, p := range concurrently(ctx, t, wts, "down", "--purge") {
			if p.code != 0 {
				failures++
				t.Errorf("round %d: down in %s: exit %d\n%s", r, wts[i], p.code, p.stderr)
			}
			if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wts[i]); len(left) > 0 {
				leaks += len(left)
				t.Errorf("round %d: %s left %v", r, wts[i], left)
			}
		}
		for name, p := range stateOf(ctx, t) {
			if p.Ports != nil || p.Reserved != 0 || p.Starting {
				leaks++
				t.Errorf("round %d: state of %s after down --purge: %+v", r, name, p)
			}
		}
		for _, wt := range wts {
			enginetest.Git(t, repo, "worktree", "remove", "--force", wt)
		}
		cancel()
		// Cumulative figures every round, so a soak stopped early still
		// reports what it saw.
		t.Logf("round %d: 10 ups in %s; so far ups=%d failures=%d collisions=%d leaked=%d", r+1, wall.Round(time.Millisecond), ups, failures, collisions, leaks)
	}
	t.Logf("soak: rounds=%d ups=%d failures=%d collisions=%d leaked=%d slowest-round=%s", rounds, ups, failures, collisions, leaks, slowest.Round(time.Millisecond))
}

// concurrently runs `wtenv <args> --worktree wt` for every worktree at once.
func concurrently(ctx context.Context, t *testing.T, wts []string, args ...string) []proc {
	out := make([]proc, len(wts))
	var wg sync.WaitGroup
	for i, wt := range wts {
		wg.Go(func() { out[i] = wtenvBin(ctx, t, nil, append(args, "--worktree", wt)...) })
	}
	wg.Wait()
	return out
}

func serviceOf(st stack.Stack, name string) *stack.Service {
	for i := range st.Services {
		if st.Services[i].Name == name {
			return &st.Services[i]
		}
	}
	return nil
}
