package envs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/stack"
)

// gc removes the stacks of a worktree deleted from disk and of one that is
// no longer a worktree of its repository, frees their state, and leaves a
// live worktree's stack alone. The serve-time pass takes only the deleted
// one.
func TestGCRemovesStacksOfDeadWorktrees(t *testing.T) {
	roots := enginetest.ImageWorktrees(t, "feature/gone", "feature/unlinked")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	keep, gone, unlinked := open(ctx, t, roots[0]), open(ctx, t, roots[1]), open(ctx, t, roots[2])
	upBoth(ctx, t, keep, gone, unlinked)
	if err := os.RemoveAll(roots[1]); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(roots[2], ".git")); err != nil {
		t.Fatal(err)
	}

	cheap, err := envs.GC(ctx, envs.GCOptions{DryRun: true, GoneOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := projects(cheap.Stacks); len(got) != 1 || got[0] != gone.Project {
		t.Errorf("serve-time pass would collect %v, want only %s", got, gone.Project)
	}
	dry, err := envs.GC(ctx, envs.GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := projects(dry.Stacks); len(got) != 2 || !contains(got, gone.Project) || !contains(got, unlinked.Project) {
		t.Fatalf("dry run collects %v", got)
	}
	if resources(ctx, t, gone.Project) == 0 || resources(ctx, t, unlinked.Project) == 0 {
		t.Fatal("dry run removed something")
	}
	r, err := envs.GC(ctx, envs.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !contains(r.Forgotten, gone.Project) || !contains(r.Forgotten, unlinked.Project) || contains(r.Forgotten, keep.Project) {
		t.Errorf("forgotten: %v", r.Forgotten)
	}
	for _, root := range roots[1:] {
		if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+root); len(left) > 0 {
			t.Errorf("gc left %v of %s", left, root)
		}
	}
	for _, s := range r.Stacks {
		if s.Reason == "" {
			t.Errorf("no reason given for %s", s.Project)
		}
	}
	if st, err := keep.Status(ctx); err != nil || st.State != stack.StateRunning {
		t.Errorf("gc touched a live worktree's stack: %s %v", st.State, err)
	}
	again, err := envs.GC(ctx, envs.GCOptions{})
	if err != nil || len(again.Stacks)+len(again.Forgotten) != 0 {
		t.Errorf("second gc is not a no-op: %+v %v", again, err)
	}
}

// A stack made for another machine's worktree (another dev.wtenv.host on a
// shared engine) is never judged here, though its worktree path does not
// exist on this machine; its own machine's gc removes it.
func TestGCLeavesAnotherMachinesStack(t *testing.T) {
	roots := enginetest.ImageWorktrees(t, "feature/elsewhere")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	here := os.Getenv(identity.MachineEnv)
	t.Setenv(identity.MachineEnv, here+"-other-machine")
	theirs := open(ctx, t, roots[1])
	upBoth(ctx, t, theirs)
	t.Setenv(identity.MachineEnv, here)
	if err := os.RemoveAll(roots[1]); err != nil {
		t.Fatal(err)
	}
	r, err := envs.GC(ctx, envs.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stacks) != 0 || resources(ctx, t, theirs.Project) == 0 {
		t.Fatalf("gc removed another machine's stack: %+v", r.Stacks)
	}
	t.Setenv(identity.MachineEnv, here+"-other-machine")
	r, err = envs.GC(ctx, envs.GCOptions{})
	if err != nil || len(r.Stacks) != 1 || r.Stacks[0].Project != theirs.Project {
		t.Fatalf("its own machine's gc: %+v %v", r.Stacks, err)
	}
	if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+roots[1]); len(left) > 0 {
		t.Errorf("gc left %v", left)
	}
}

func projects(ss []stack.GCStack) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Project)
	}
	return out
}
