package envs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// The budget tests must not depend on what other stacks on the engine hold
// (other tests', other worktrees'): the stacks here declare needs so large
// (memory.estimate, in tebibytes) that everything else on the engine is
// lost in the rounding, and the budget is set in the same unit. The
// arithmetic of every case is tested without Docker (admit_test.go); these
// run the same path on the real engine.
const tib = int64(1) << 40

// estimate writes a wtenv.yaml declaring the stack's need.
func estimate(t *testing.T, root string, need int64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, "wtenv.yaml"), []byte(fmt.Sprintf("memory:\n  estimate: %d\n", need)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// With room for one stack, the second is refused before anything of it is
// created, with a message naming the holder; after down it is admitted.
func TestBudgetRefusesAdmitsAndReleases(t *testing.T) {
	roots := enginetest.ImageWorktrees(t, "feature/second")
	t.Setenv(budget.EnvVar, fmt.Sprint(100*tib))
	for _, r := range roots {
		estimate(t, r, 60*tib)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, b := open(ctx, t, roots[0]), open(ctx, t, roots[1])

	if _, err := a.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Up(ctx, envs.UpOptions{})
	if !errors.Is(err, budget.ErrRefused) || envs.KindOf(err) != envs.KindBudgetRefused {
		t.Fatalf("second stack: %v, want a refusal", err)
	}
	for _, want := range []string{"memory budget full", a.Project, roots[0], "env_down", "wtenv sleep --worktree", budget.EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	if n := resources(ctx, t, b.Project); n != 0 {
		t.Errorf("a refused stack left %d resources", n)
	}
	st, err := a.Status(ctx)
	if err != nil || st.Budget.LimitBytes != 100*tib || st.Budget.UsedBytes < 60*tib || st.Budget.UsedBytes > 61*tib {
		t.Errorf("budget in status: %+v %v", st.Budget, err)
	}
	if e := entryOf(ctx, t, a.Project); e.PeakMemory <= 0 || e.Reserved != 60*tib {
		t.Errorf("state of the admitted stack: %+v, want a measured peak and its reservation", e)
	}
	if _, err := a.Down(ctx, false); err != nil {
		t.Fatal(err)
	}
	if e := entryOf(ctx, t, a.Project); e.Reserved != 0 {
		t.Errorf("down kept the reservation: %+v", e)
	}
	if _, err := b.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatalf("after down the next stack is refused: %v", err)
	}
}

// Ten `wtenv up` processes on ten worktrees at once, with room for three:
// exactly three are admitted, seven refused with the message, and the
// reservations held never exceed the budget.
func TestBudgetIsAtomicAcrossProcesses(t *testing.T) {
	branches := make([]string, 9)
	for i := range branches {
		branches[i] = fmt.Sprintf("agent/%d", i+1)
	}
	roots := enginetest.ImageWorktrees(t, branches...)
	for _, r := range roots {
		estimate(t, r, 30*tib)
	}
	limit := 100 * tib
	t.Setenv(budget.EnvVar, fmt.Sprint(limit))
	bin := enginetest.Build(t, "cmd/wtenv", false)

	type outcome struct {
		code   int
		stderr string
	}
	results := make([]outcome, len(roots))
	var wg sync.WaitGroup
	for i, root := range roots {
		wg.Go(func() {
			cmd := exec.Command(bin, "up", "--worktree", root)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = cmd.Run()
			results[i] = outcome{cmd.ProcessState.ExitCode(), stderr.String()}
		})
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
	ctx := context.Background()
	running := 0
	var reserved int64
	for _, r := range roots {
		st, err := open(ctx, t, r).Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == stack.StateRunning {
			running++
			reserved += entryOf(ctx, t, st.Project).Reserved
		}
	}
	if running != 3 || reserved > limit {
		t.Errorf("%d stacks running holding %d reserved; want 3 within %d", running, reserved, limit)
	}
}

// entryOf reads project's state entry in the test's own state directory.
func entryOf(ctx context.Context, t *testing.T, project string) state.Project {
	t.Helper()
	f, err := enginetest.Store(t).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Projects[project]
	if p == nil {
		t.Fatalf("no state entry for %s", project)
	}
	return *p
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
