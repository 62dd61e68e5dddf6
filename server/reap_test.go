package server_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// A server starting up removes, unasked, the stack of a worktree whose
// directory was deleted while it ran, and says so in its log.
func TestServeReapsStacksOfDeletedWorktrees(t *testing.T) {
	roots := enginetest.ImageWorktrees(t, "feature/deleted")
	gone := connect(t, roots[1], nil)
	var st stack.Stack
	gone.call(t, "env_up", nil, &st)
	gone.Close()
	if err := os.RemoveAll(roots[1]); err != nil {
		t.Fatal(err)
	}

	s := connect(t, roots[0], nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	label := "dev.wtenv.worktree=" + roots[1]
	// The server logs what it removed once the removal is done.
	for {
		log, err := os.ReadFile(s.logPath)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(log), "removed the stack of a deleted worktree") && strings.Contains(string(log), st.Project) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the server did not reap the deleted worktree's stack; its log:\n%s", log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if left := enginetest.Leftovers(ctx, t, label); len(left) > 0 {
		t.Errorf("the deleted worktree's stack is still there: %v", left)
	}
}
