package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// `wtenv sleep` killed after stopping front but not store, and `wtenv up`
// killed while waking after starting store but not front: each time the
// next status tells the truth (partial, the running container's memory
// counted, a note naming the interrupted step and what finishes it), and
// the next sleep or up finishes the job.
func TestCrashMidSleepAndMidWake(t *testing.T) {
	enginetest.Full(t)
	wt := enginetest.ImageWorktrees(t)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if up := wtenvBin(ctx, t, nil, "up", "--worktree", wt); up.code != 0 {
		t.Fatalf("up: exit %d\n%s", up.code, up.stderr)
	}

	if p := wtenvBin(ctx, t, []string{engine.CrashEnv + "=" + engine.CrashStopped}, "sleep", "--worktree", wt); !p.killed {
		t.Fatalf("sleep never reached %s: exit %d\n%s", engine.CrashStopped, p.code, p.stderr)
	}
	st := statusOf(ctx, t, wt)
	if st.State != stack.StatePartial || !noted(st, "a sleep of this stack was interrupted") {
		t.Errorf("after a killed sleep: %s %q, want partial with a note", st.State, st.Warnings)
	}
	if s := svc(st, "store"); s.State != "running" || s.MemoryBytes <= 0 || st.Budget.UsedBytes < s.MemoryBytes {
		t.Errorf("store %+v, budget %+v: the running store's memory must count", s, st.Budget)
	}
	if svc(st, "front").State == "running" {
		t.Errorf("front still runs: the crash point is after the dependents stop")
	}
	if p := wtenvBin(ctx, t, nil, "sleep", "--worktree", wt, "--json"); p.code != 0 || !strings.Contains(p.stdout, `"state": "asleep"`) {
		t.Fatalf("sleep after the crash: exit %d\n%s%s", p.code, p.stdout, p.stderr)
	}

	if p := wtenvBin(ctx, t, []string{engine.CrashEnv + "=" + engine.CrashRestarted}, "up", "--worktree", wt); !p.killed {
		t.Fatalf("wake never reached %s: exit %d\n%s", engine.CrashRestarted, p.code, p.stderr)
	}
	st = statusOf(ctx, t, wt)
	if st.State != stack.StatePartial || !noted(st, "a wake of this stack was interrupted") || svc(st, "store").State != "running" {
		t.Errorf("after a killed wake: %s %q %+v, want partial with store running and a note", st.State, st.Warnings, st.Services)
	}
	up := wtenvBin(ctx, t, nil, "up", "--worktree", wt, "--json")
	var woke stack.Stack
	if up.code != 0 || json.Unmarshal([]byte(up.stdout), &woke) != nil {
		t.Fatalf("up after the killed wake: exit %d\n%s", up.code, up.stderr)
	}
	if woke.State != stack.StateRunning || woke.Admission == nil || !woke.Admission.Woke || len(woke.Warnings) > 1 {
		t.Errorf("after recovery: %s %+v %q, want running, reported as a wake, no note", woke.State, woke.Admission, woke.Warnings)
	}
	if e := stateOf(ctx, t)[woke.Project]; e.Asleep || e.Starting {
		t.Errorf("state after recovery: %+v", e)
	}
}

func noted(st stack.Stack, prefix string) bool {
	for _, w := range st.Warnings {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

func svc(st stack.Stack, name string) stack.Service {
	for _, s := range st.Services {
		if s.Name == name {
			return s
		}
	}
	return stack.Service{}
}
