package envs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// Three idle stacks fill the budget; three `wtenv up` processes start at
// once, each needing one stack's room. Each is admitted by putting idle
// stacks to sleep, no stack is put to sleep twice, and the stacks left
// running fit the budget.
func TestEvictionIsAtomicAcrossProcesses(t *testing.T) {
	enginetest.Full(t)
	branches := make([]string, 5)
	for i := range branches {
		branches[i] = fmt.Sprintf("agent/%d", i+1)
	}
	roots := enginetest.ImageWorktrees(t, branches...)
	for _, r := range roots {
		estimate(t, r, 30*tib)
	}
	limit := 100 * tib
	t.Setenv(budget.EnvVar, fmt.Sprint(limit))
	t.Setenv(budget.IdleEnvVar, "1ms")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	idle := roots[:3]
	for _, r := range idle {
		if _, err := open(ctx, t, r).Up(ctx, envs.UpOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond)

	bin := enginetest.Build(t, "cmd/wtenv", false)
	results := make([]stack.Stack, 3)
	var wg sync.WaitGroup
	for i, root := range roots[3:] {
		wg.Go(func() {
			cmd := exec.Command(bin, "up", "--json", "--worktree", root)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Errorf("up in %s: %v\n%s", root, err, stderr.String())
				return
			}
			if err := json.Unmarshal(stdout.Bytes(), &results[i]); err != nil {
				t.Errorf("up --json: %v\n%s", err, stdout.String())
			}
		})
	}
	wg.Wait()
	evicted := map[string]int{}
	for _, st := range results {
		if st.Admission == nil {
			continue
		}
		for _, ev := range st.Admission.Evicted {
			evicted[ev.Project]++
		}
	}
	for name, n := range evicted {
		if n > 1 {
			t.Errorf("%s was put to sleep by %d admissions", name, n)
		}
	}
	if len(evicted) < 2 {
		t.Errorf("stacks put to sleep: %v; three new stacks needing 90 TiB beside 90 TiB of idle ones in 100 TiB need at least two", evicted)
	}
	running, asleep := 0, 0
	for _, r := range roots {
		st, err := open(ctx, t, r).Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch st.State {
		case stack.StateRunning:
			running++
		case stack.StateAsleep:
			asleep++
			if evicted[st.Project] != 1 {
				t.Errorf("%s is asleep but no admission reported putting it to sleep", st.Project)
			}
		}
	}
	if running != 3 || asleep != 3 {
		t.Errorf("%d running and %d asleep, want 3 and 3 (room for three)", running, asleep)
	}
}
