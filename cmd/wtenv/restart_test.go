package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// restartEnv names the command that restarts the engine. Restarting stops
// every container on the engine, other users' too, so the test runs only
// when it is set: .ci/run sets it to .ci/restart-engine.
const restartEnv = "WTENV_TEST_ENGINE_RESTART"

// With a stack running, the engine restarts: status tells the truth (the
// service with a restart policy is back, the one without has exited, so
// the stack is partial) and the next up brings the stack back to healthy.
func TestEngineRestart(t *testing.T) {
	enginetest.Full(t)
	restart := os.Getenv(restartEnv)
	if restart == "" {
		t.Skipf("set %s to a command that restarts the engine (.ci/run uses .ci/restart-engine); it stops every container on the engine", restartEnv)
	}
	roots := enginetest.Worktrees(t)
	wt := roots[0]
	compose := strings.Replace(enginetest.FixtureCompose, "    container_name: store\n", "    container_name: store\n    restart: unless-stopped\n", 1)
	writeFile(t, wt+"/compose.yaml", []byte(compose))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if p := wtenvBin(ctx, t, nil, "up", "--worktree", wt); p.code != 0 {
		t.Fatalf("up: exit %d\n%s", p.code, p.stderr)
	}

	out, err := exec.CommandContext(ctx, "bash", "-c", restart).CombinedOutput()
	if err != nil {
		t.Fatalf("restarting the engine (%s): %v\n%s", restart, err, out)
	}
	var st stack.Stack
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st = statusOf(ctx, t, wt)
		if s := serviceOf(st, "store"); s != nil && s.Health == "healthy" || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	store, front := serviceOf(st, "store"), serviceOf(st, "front")
	if store == nil || store.State != "running" || store.Health != "healthy" {
		t.Errorf("store (restart: unless-stopped) after the restart: %+v", store)
	}
	if front == nil || front.State != "exited" {
		t.Errorf("front (no restart policy) after the restart: %+v", front)
	}
	if st.State != stack.StatePartial {
		t.Errorf("stack after the restart: %s, want %s", st.State, stack.StatePartial)
	}

	if p := wtenvBin(ctx, t, nil, "up", "--worktree", wt); p.code != 0 {
		t.Fatalf("up after the restart: exit %d\n%s", p.code, p.stderr)
	}
	st = statusOf(ctx, t, wt)
	if st.State != stack.StateRunning {
		t.Errorf("after up: %s", st.State)
	}
	for _, s := range st.Services {
		if s.Health != "healthy" {
			t.Errorf("after up: %s is %s/%s", s.Name, s.State, s.Health)
		}
	}
	if p := wtenvBin(ctx, t, nil, "down", "--purge", "--worktree", wt); p.code != 0 {
		t.Fatalf("down: exit %d\n%s", p.code, p.stderr)
	}
	if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wt); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}
