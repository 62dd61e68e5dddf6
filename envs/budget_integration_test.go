package envs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// The fixture's two services have no memory limits, so before a first
// measurement each stack needs 2 × budget.DefaultPerService = 512 MiB.
const fixtureNeed = 2 * budget.DefaultPerService

// With room for one stack, the second is refused before anything of it is
// created, with a message naming the holder; after down it is admitted;
// a stack whose containers were removed by hand stops counting.
func TestBudgetRefusesAdmitsAndReleases(t *testing.T) {
	roots := enginetest.Worktrees(t, "feature/second")
	base := heldByOthers(t)
	t.Setenv(budget.EnvVar, fmt.Sprint(base+fixtureNeed+fixtureNeed/2))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, b := open(ctx, t, roots[0]), open(ctx, t, roots[1])

	if _, err := a.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Up(ctx, envs.UpOptions{})
	if !errors.Is(err, budget.ErrRefused) {
		t.Fatalf("second stack: %v, want a refusal", err)
	}
	for _, want := range []string{"memory budget full", a.Project, roots[0], "env_down", "wtenv down --worktree", budget.EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	if n := resources(ctx, t, b.Project); n != 0 {
		t.Errorf("a refused stack left %d resources", n)
	}
	st, err := a.Status(ctx)
	if err != nil || st.Budget.LimitBytes != base+fixtureNeed+fixtureNeed/2 || st.Budget.UsedBytes < base+fixtureNeed {
		t.Errorf("budget in status: %+v %v", st.Budget, err)
	}

	// Once measured, a's need is its peak, far below the default; shrink
	// the budget so that b's reservation and a's peak no longer fit
	// together.
	peak := peakOf(ctx, t, a.Project)
	t.Setenv(budget.EnvVar, fmt.Sprint(base+fixtureNeed+peak/2))
	if _, err := a.Down(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatalf("after down the next stack is refused: %v", err)
	}
	if _, err := a.Up(ctx, envs.UpOptions{}); !errors.Is(err, budget.ErrRefused) {
		t.Fatalf("a while b holds the budget: %v", err)
	}
	removeContainers(ctx, t, b.Project) // as docker rm -f would
	if _, err := a.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatalf("a stack whose containers vanished still counts: %v", err)
	}
}

// Ten `wtenv up` processes on ten worktrees at once, with room for three:
// exactly three are admitted, seven refused with the message, and the
// memory held never exceeds the budget.
func TestBudgetIsAtomicAcrossProcesses(t *testing.T) {
	branches := make([]string, 9)
	for i := range branches {
		branches[i] = fmt.Sprintf("agent/%d", i+1)
	}
	roots := enginetest.Worktrees(t, branches...)
	base := heldByOthers(t)
	limit := base + 3*fixtureNeed + fixtureNeed/2
	t.Setenv(budget.EnvVar, fmt.Sprint(limit))
	bin := enginetest.Build(t, "cmd/wtenv", false)

	type outcome struct {
		code   int
		stderr string
	}
	results := make([]outcome, len(roots))
	var wg sync.WaitGroup
	for i, root := range roots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "up", "--worktree", root)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			results[i] = outcome{cmd.ProcessState.ExitCode(), stderr.String()}
			if err != nil && cmd.ProcessState == nil {
				t.Errorf("running wtenv: %v", err)
			}
		}()
	}
	wg.Wait()
	admitted, refused := 0, 0
	for i, r := range results {
		switch {
		case r.code == 0:
			admitted++
		case r.code == 1 && strings.Contains(r.stderr, "memory budget full"):
			refused++
		default:
			t.Errorf("worktree %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	if admitted != 3 || refused != 7 {
		t.Fatalf("%d admitted and %d refused, want 3 and 7", admitted, refused)
	}
	l, err := envs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var measured int64
	running := 0
	for _, s := range l.Stacks {
		for _, r := range roots {
			if s.Worktree == r && s.State == stack.StateRunning {
				running++
				measured += s.MemoryBytes
			}
		}
	}
	if running != 3 {
		t.Errorf("%d stacks running, want 3", running)
	}
	if measured > limit || l.Budget.UsedBytes > limit {
		t.Errorf("measured %d, budget used %d, over the limit %d", measured, l.Budget.UsedBytes, limit)
	}
}

// heldByOthers is the memory that stacks already on the engine hold (other
// tests', other worktrees'): the budgets here are set on top of it. The
// engine tests run one package at a time (go test -p 1) so it holds still.
func heldByOthers(t *testing.T) int64 {
	t.Helper()
	l, err := envs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l.Budget.UsedBytes
}

// peakOf reads the measured peak the state file keeps for project.
func peakOf(ctx context.Context, t *testing.T, project string) int64 {
	t.Helper()
	dir, err := state.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := store.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Projects[project]
	if p == nil || p.PeakMemory <= 0 {
		t.Fatalf("no measured peak for %s: %+v", project, p)
	}
	return p.PeakMemory
}

// resources counts the containers, networks and volumes of project.
func resources(ctx context.Context, t *testing.T, project string) int {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	f := client.Filters{}.Add("label", "com.docker.compose.project="+project)
	cs, err1 := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	ns, err2 := api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	vs, err3 := api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	return len(cs.Items) + len(ns.Items) + len(vs.Items)
}

func removeContainers(ctx context.Context, t *testing.T, project string) {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	for _, id := range containerIDs(ctx, t, project) {
		if _, err := api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
}
