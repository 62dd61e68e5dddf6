package envs_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// gc removes the stack of a worktree deleted from disk, and only that one.
func TestGCRemovesStacksOfDeletedWorktrees(t *testing.T) {
	roots := enginetest.Worktrees(t, "feature/gone")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	keep, gone := open(ctx, t, roots[0]), open(ctx, t, roots[1])
	upBoth(ctx, t, keep, gone)
	if err := os.RemoveAll(roots[1]); err != nil {
		t.Fatal(err)
	}

	dry, err := envs.GC(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Stacks) != 1 || dry.Stacks[0].Project != gone.Project || resources(ctx, t, gone.Project) == 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	r, err := envs.GC(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stacks) != 1 || !contains(r.Forgotten, gone.Project) {
		t.Errorf("gc: %+v", r)
	}
	if n := resources(ctx, t, gone.Project); n != 0 {
		t.Errorf("gc left %d resources of the deleted worktree", n)
	}
	if st, err := keep.Status(ctx); err != nil || st.State != "running" {
		t.Errorf("gc touched a live worktree's stack: %s %v", st.State, err)
	}
}
