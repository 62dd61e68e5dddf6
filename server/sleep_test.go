package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// Over stdio, two agents with room for one stack: the second env_up puts
// the idle first to sleep and says so in its structured result, its text
// and its progress; env_status shows the first asleep; env_sleep is
// idempotent; the first's env_up wakes it and reports the wake. Full tier:
// envs and runner run the same steps on the engine in the default one.
func TestSleepAndEvictionOverStdio(t *testing.T) {
	enginetest.Full(t) // the default tier runs the same on the engine in envs and runner
	roots := enginetest.ImageWorktrees(t, "feature/sleepy")
	const tib = int64(1) << 40
	t.Setenv(budget.EnvVar, fmt.Sprint(100*tib))
	t.Setenv(budget.IdleEnvVar, "1ms")
	for _, r := range roots {
		if err := os.WriteFile(filepath.Join(r, "wtenv.yaml"), []byte(fmt.Sprintf("memory:\n  estimate: %d\n", 60*tib)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := connect(t, roots[0], nil), connect(t, roots[1], nil)

	var sa, sb stack.Stack
	a.call(t, "env_up", nil, &sa)
	time.Sleep(10 * time.Millisecond)
	res := b.call(t, "env_up", nil, &sb)
	if sb.Admission == nil || len(sb.Admission.Evicted) != 1 || sb.Admission.Evicted[0].Project != sa.Project {
		t.Fatalf("b's env_up admission: %+v, want a put to sleep", sb.Admission)
	}
	if !strings.Contains(text(res), "Put "+sa.Project) || !strings.Contains(text(res), "to sleep to make room") {
		t.Errorf("env_up text does not name the stack put to sleep:\n%s", text(res))
	}
	b.mu.Lock()
	progress := strings.Join(b.progress, "\n")
	b.mu.Unlock()
	if !strings.Contains(progress, "putting "+sa.Project+" to sleep") {
		t.Errorf("progress does not say a was put to sleep:\n%s", progress)
	}

	var st stack.Stack
	a.call(t, "env_status", nil, &st)
	if st.State != stack.StateAsleep || st.Budget.AsleepStacks < 1 {
		t.Errorf("a's env_status: %s, budget %+v; want asleep", st.State, st.Budget)
	}
	a.call(t, "env_sleep", nil, &st)
	if st.State != stack.StateAsleep {
		t.Errorf("env_sleep on an asleep stack: %s", st.State)
	}
	b.call(t, "env_sleep", nil, &st)
	if st.State != stack.StateAsleep {
		t.Errorf("b's env_sleep: %s", st.State)
	}
	res = a.call(t, "env_up", nil, &sa)
	if sa.State != stack.StateRunning || sa.Admission == nil || !sa.Admission.Woke || sa.Admission.WakeMS <= 0 {
		t.Errorf("a's env_up after sleep: %s %+v, want running and a wake reported", sa.State, sa.Admission)
	}
	if !strings.Contains(text(res), "Woke the stack from sleep") {
		t.Errorf("env_up text does not report the wake:\n%s", text(res))
	}
}
