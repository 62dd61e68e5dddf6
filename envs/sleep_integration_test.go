package envs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// On the real engine: with room for one stack, the second's up puts the
// idle first to sleep (containers kept and stopped, data, names and ports
// kept, no memory counted), and a call that needs the first wakes it with
// its data. A stack a test run uses is never put to sleep; once the run
// ends it is. Sleep is idempotent.
func TestSleepWakeAndEviction(t *testing.T) {
	roots := enginetest.ImageWorktrees(t, "feature/second")
	t.Setenv(budget.EnvVar, fmt.Sprint(100*tib))
	t.Setenv(budget.IdleEnvVar, "1ms")
	for _, r := range roots {
		estimate(t, r, 60*tib)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, b := open(ctx, t, roots[0]), open(ctx, t, roots[1])

	sa, err := a.Up(ctx, envs.UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, url(t, sa, "front")+"/kv/order", "kept")
	ids := containerIDs(ctx, t, a.Project)
	time.Sleep(10 * time.Millisecond)

	// b does not fit beside a: a is put to sleep first.
	sb, err := b.Up(ctx, envs.UpOptions{})
	if err != nil {
		t.Fatalf("second up: %v, want the idle stack put to sleep to make room", err)
	}
	if sb.Admission == nil || len(sb.Admission.Evicted) != 1 || sb.Admission.Evicted[0].Project != a.Project || sb.Admission.Evicted[0].FreedBytes < 60*tib {
		t.Fatalf("b's admission: %+v, want a put to sleep freeing its 60 TiB", sb.Admission)
	}
	asleep, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if asleep.State != stack.StateAsleep || asleep.MemoryBytes != 0 {
		t.Errorf("a after eviction: %s holding %d bytes, want asleep holding nothing", asleep.State, asleep.MemoryBytes)
	}
	if asleep.Budget.AsleepStacks != 1 || asleep.Budget.UsedBytes > 61*tib {
		t.Errorf("budget %+v: want one stack asleep and only b's memory used", asleep.Budget)
	}
	if got := containerIDs(ctx, t, a.Project); !slices.Equal(got, ids) || running(ctx, t, a.Project) != 0 {
		t.Errorf("a's containers after sleep: %v (was %v), %d running; want the same, stopped", got, ids, running(ctx, t, a.Project))
	}
	l, err := envs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := summaryOf(l, a.Project); s.State != stack.StateAsleep {
		t.Errorf("ls shows a as %q, want asleep", s.State)
	}

	// A call that needs a running wakes it: the wake fits (a's need is now
	// its measured peak), and its data and ports are as they were.
	adm, err := a.WakeIfAsleep(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if adm == nil || !adm.Woke || adm.WakeMS <= 0 || len(adm.Evicted) != 0 {
		t.Errorf("wake: %+v, want woken with its time and nothing put to sleep", adm)
	}
	woke, err := a.Status(ctx)
	if err != nil || woke.State != stack.StateRunning {
		t.Fatalf("a after its wake: %s %v", woke.State, err)
	}
	if got := get(t, url(t, woke, "store")+"/kv/order"); got != "kept" {
		t.Errorf("a's data after sleep and wake: %q, want kept", got)
	}
	if url(t, woke, "front") != url(t, sa, "front") || !slices.Equal(containerIDs(ctx, t, a.Project), ids) {
		t.Errorf("a's wake changed its ports or containers")
	}
	if e := entryOf(ctx, t, a.Project); e.Asleep {
		t.Errorf("state still says asleep after the wake: %+v", e)
	}

	// a grows (as if it measured 60 TiB) and sleeps; b is in use by a test
	// run, so a's wake waits for b's run to end, then puts b to sleep; with
	// a wait shorter than the run, it is refused, saying so.
	if err := enginetest.Store(t).Update(ctx, func(f *state.File) error {
		f.Projects[a.Project].PeakMemory = 60 * tib
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if st, err := a.Sleep(ctx, nil); err != nil || st.State != stack.StateAsleep {
			t.Fatalf("sleep: %s %v", st.State, err)
		}
	}
	release, err := b.Use(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	t.Setenv(budget.WaitEnvVar, "1s")
	_, err = a.Up(ctx, envs.UpOptions{})
	if !errors.Is(err, budget.ErrRefused) || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "admission waited") {
		t.Fatalf("wake while b's tests run: %v, want a refusal after a wait, naming b in use", err)
	}
	if _, err := b.Sleep(ctx, nil); !errors.Is(err, envs.ErrInUse) {
		t.Errorf("sleep during a test run: %v, want ErrInUse", err)
	}
	t.Setenv(budget.WaitEnvVar, "2m")
	go func() {
		time.Sleep(1500 * time.Millisecond)
		release()
	}()
	var steps []string
	sa, err = a.Up(ctx, envs.UpOptions{Progress: func(m string) { steps = append(steps, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(steps, func(m string) bool { return strings.Contains(m, "waiting for stacks to turn idle") }) {
		t.Errorf("a's wake did not say it waited for b: %q", steps)
	}
	if sa.Admission == nil || !sa.Admission.Woke || len(sa.Admission.Evicted) != 1 || sa.Admission.Evicted[0].Project != b.Project {
		t.Errorf("a's wake after the run: %+v, want woken with b put to sleep", sa.Admission)
	}
	if st, _ := b.Status(ctx); st.State != stack.StateAsleep {
		t.Errorf("b after eviction: %s", st.State)
	}
}

// running counts project's running containers.
func running(ctx context.Context, t *testing.T, project string) int {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	cs, err := api.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs.Items)
}

func summaryOf(l stack.List, project string) stack.Summary {
	for _, s := range l.Stacks {
		if s.Project == project {
			return s
		}
	}
	return stack.Summary{}
}
