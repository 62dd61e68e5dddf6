package envs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// With room for one stack, a second up puts the idle first to sleep
// (stopping it before starting itself) and says so; the first wakes on its
// next up, putting the second to sleep in turn.
func TestAdmissionPutsIdleStacksToSleep(t *testing.T) {
	t.Setenv(budget.EnvVar, "768MiB") // one two-service stack at 256 MiB a service
	t.Setenv(budget.IdleEnvVar, "1ms")
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	a := fakeWorktree(t, eng, store, "main", "api", "db")
	b := fakeWorktree(t, eng, store, "feature/b", "api", "db")
	if _, err := a.Up(ctx, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	var steps []string
	sb, err := b.Up(ctx, UpOptions{Progress: func(s string) { steps = append(steps, s) }})
	if err != nil {
		t.Fatalf("second up: %v, want a's stack put to sleep to make room", err)
	}
	if sb.Admission == nil || len(sb.Admission.Evicted) != 1 || sb.Admission.Woke {
		t.Fatalf("admission report %+v, want one eviction and no wake", sb.Admission)
	}
	ev := sb.Admission.Evicted[0]
	if ev.Project != a.Project || ev.Worktree != a.Worktree.Root || ev.FreedBytes != 512<<20 {
		t.Errorf("eviction %+v, want %s freeing 512 MiB", ev, a.Project)
	}
	if !slices.ContainsFunc(steps, func(s string) bool { return strings.Contains(s, "putting "+a.Project+" to sleep") }) {
		t.Errorf("progress %q does not say a was put to sleep", steps)
	}
	if want := []string{"up " + a.Project, "stop " + a.Project, "up " + b.Project}; !slices.Equal(eng.calls, want) {
		t.Errorf("engine calls %v, want %v: the room is made before the new stack starts", eng.calls, want)
	}
	sa, err := a.Status(ctx)
	if err != nil || sa.State != stack.StateAsleep {
		t.Fatalf("a after eviction: %s %v, want asleep", sa.State, err)
	}
	if sa.Budget.UsedBytes != 512<<20 || sa.Budget.AsleepStacks != 1 || sa.Budget.AsleepBytes != 512<<20 {
		t.Errorf("budget %+v, want b's 512 MiB used and a's 512 MiB asleep", sa.Budget)
	}
	f, _ := store.Read(ctx)
	if p := f.Projects[a.Project]; !p.Asleep || p.SleptBy != b.Project || p.Reserved != 0 {
		t.Errorf("a's state entry %+v, want asleep, put to sleep by b, no reservation", p)
	}

	// a's need is now its measured peak, 20 MiB: a budget without room
	// for it beside b's 512 MiB makes its wake put b to sleep.
	t.Setenv(budget.EnvVar, "520MiB")
	time.Sleep(5 * time.Millisecond)
	sa, err = a.Up(ctx, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sa.State != stack.StateRunning || sa.Admission == nil || !sa.Admission.Woke || len(sa.Admission.Evicted) != 1 || sa.Admission.Evicted[0].Project != b.Project {
		t.Errorf("a's wake: %s %+v, want running, woken, b put to sleep", sa.State, sa.Admission)
	}
	f, _ = store.Read(ctx)
	if p := f.Projects[a.Project]; p.Asleep || p.Reserved != 20<<20 {
		t.Errorf("a after its wake: %+v, want awake with its reservation", p)
	}
}

// Admission never puts to sleep a stack that is in use, nor one whose
// worktree says idle_after: 0, nor one idle for less than its policy; the
// refusal says which is which.
func TestAdmissionSparesStacksInUse(t *testing.T) {
	for _, c := range []struct {
		name, machine, yaml, want string
		use                       bool
	}{
		{name: "test run", machine: "1ms", use: true, want: "in use"},
		{name: "idle_after 0", machine: "1ms", yaml: "idle_after: 0\n", want: "never put to sleep (idle_after: 0)"},
		{name: "not idle yet", machine: "1h", want: "put to sleep once idle 1h"},
		{name: "machine never", machine: "0", want: "(never, set by " + budget.IdleEnvVar},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(budget.EnvVar, "768MiB")
			t.Setenv(budget.IdleEnvVar, c.machine)
			t.Setenv(budget.WaitEnvVar, "300ms")
			ctx := context.Background()
			eng, store := newFake(), tempStore(t)
			a := fakeWorktree(t, eng, store, "main", "api", "db")
			b := fakeWorktree(t, eng, store, "feature/b", "api", "db")
			if c.yaml != "" {
				if err := os.WriteFile(filepath.Join(a.Worktree.Root, "wtenv.yaml"), []byte(c.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := a.Up(ctx, UpOptions{}); err != nil {
				t.Fatal(err)
			}
			if c.use {
				release, err := a.Use(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer release()
			}
			time.Sleep(5 * time.Millisecond)
			_, err := b.Up(ctx, UpOptions{})
			if !errors.Is(err, budget.ErrRefused) {
				t.Fatalf("second up: %v, want a refusal", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("refusal lacks %q:\n%v", c.want, err)
			}
			if slices.Contains(eng.calls, "stop "+a.Project) {
				t.Errorf("a was put to sleep: %v", eng.calls)
			}
		})
	}
}

// With no stack idle yet but one that turns idle within WTENV_ADMIT_WAIT,
// admission waits for it, says so, and then puts it to sleep; one that
// turns idle only after the wait is refused at once, without waiting.
func TestAdmissionWaitsForAStackAboutToTurnIdle(t *testing.T) {
	t.Setenv(budget.EnvVar, "768MiB")
	t.Setenv(budget.IdleEnvVar, "700ms")
	t.Setenv(budget.WaitEnvVar, "1m")
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	a := fakeWorktree(t, eng, store, "main", "api", "db")
	b := fakeWorktree(t, eng, store, "feature/b", "api", "db")
	if _, err := a.Up(ctx, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	var steps []string
	sb, err := b.Up(ctx, UpOptions{Progress: func(s string) { steps = append(steps, s) }})
	if err != nil {
		t.Fatalf("second up: %v, want it to wait for a to turn idle", err)
	}
	if sb.Admission == nil || len(sb.Admission.Evicted) != 1 || sb.Admission.Evicted[0].Project != a.Project {
		t.Errorf("admission report %+v, want a put to sleep", sb.Admission)
	}
	if !slices.ContainsFunc(steps, func(s string) bool { return strings.Contains(s, "waiting for stacks to turn idle") }) {
		t.Errorf("progress %q does not say it waited", steps)
	}

	// The refusal's text says whether admission waited.
	t.Setenv(budget.EnvVar, "520MiB")
	t.Setenv(budget.IdleEnvVar, "1h")
	if _, err := a.Up(ctx, UpOptions{}); !errors.Is(err, budget.ErrRefused) || !strings.Contains(err.Error(), "admission waits up to 1m") {
		t.Fatalf("wake with b idle only in an hour: %v, want a refusal at once", err)
	}
}

// Concurrent admissions that each must evict never evict one stack twice
// and never admit more than the budget holds.
func TestEvictionIsAtomic(t *testing.T) {
	const room = 3
	t.Setenv(budget.EnvVar, fmt.Sprint(room*256<<20+100<<20))
	t.Setenv(budget.IdleEnvVar, "1ms")
	t.Setenv(budget.WaitEnvVar, "0") // decisions at once: the wait has its own test
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	var idle []*Env
	for i := range room {
		e := fakeWorktree(t, eng, store, fmt.Sprintf("idle/%d", i), "api")
		if _, err := e.Up(ctx, UpOptions{}); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, e)
	}
	time.Sleep(5 * time.Millisecond)
	const n = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range n {
		e := fakeWorktree(t, eng, store, fmt.Sprintf("agent/%d", i), "api")
		wg.Go(func() {
			unlock, err := e.lockProject(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			p, _, _, err := e.load(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			adm, err := e.admit(ctx, p, nil)
			if errors.Is(err, budget.ErrRefused) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := e.evict(ctx, adm.victims, func(string) {}); err != nil {
				t.Error(err)
			}
			mu.Lock()
			admitted++
			mu.Unlock()
			time.Sleep(200 * time.Millisecond) // still starting while the others decide
		})
	}
	wg.Wait()
	stops := map[string]int{}
	for _, c := range eng.calls {
		if name, ok := strings.CutPrefix(c, "stop "); ok {
			stops[name]++
		}
	}
	for name, k := range stops {
		if k > 1 {
			t.Errorf("%s was put to sleep %d times", name, k)
		}
	}
	if admitted < room || admitted > n {
		t.Errorf("%d admitted, want at least the %d the idle stacks made room for", admitted, room)
	}
	f, _ := store.Read(ctx)
	var reserved int64
	for _, p := range f.Projects {
		if !p.Asleep {
			reserved += p.Reserved
		}
	}
	if limit := int64(room*256<<20 + 100<<20); reserved > limit {
		t.Errorf("%d bytes reserved by awake stacks, over the %d budget", reserved, limit)
	}
	for _, e := range idle {
		if p := f.Projects[e.Project]; !p.Asleep {
			t.Errorf("idle stack %s was not put to sleep: %+v", e.Project, p)
		}
	}
}

// A stack marked asleep is reported asleep once its containers have
// stopped; with containers still running and no process on it, the
// report says which interrupted step finishes and how.
func TestSleepState(t *testing.T) {
	asleep := &state.Project{Asleep: true}
	waking := &state.Project{Asleep: true, Starting: true}
	for _, c := range []struct {
		in    string
		p     *state.Project
		busy  bool
		want  string
		quote string
	}{
		{stack.StateStopped, nil, false, stack.StateStopped, ""},
		{stack.StateStopped, asleep, false, stack.StateAsleep, ""},
		{stack.StateRunning, &state.Project{}, false, stack.StateRunning, ""},
		{stack.StatePartial, asleep, true, stack.StatePartial, ""},
		{stack.StatePartial, asleep, false, stack.StatePartial, "`wtenv sleep` (env_sleep) finishes it"},
		{stack.StatePartial, waking, false, stack.StatePartial, "`wtenv up` (env_up) finishes it"},
		{stack.StateAbsent, asleep, false, stack.StateAbsent, ""},
	} {
		got, note := sleepState(c.in, c.p, c.busy)
		if got != c.want || (c.quote == "") != (note == "") || !strings.Contains(note, c.quote) {
			t.Errorf("sleepState(%s, %+v, busy %v) = %s %q, want %s with %q", c.in, c.p, c.busy, got, note, c.want, c.quote)
		}
	}
}
