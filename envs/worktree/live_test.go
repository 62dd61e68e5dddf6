package worktree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOrphaned(t *testing.T) {
	base := tempDir(t)
	repo := newRepo(t, base, "shop")
	linked := filepath.Join(base, "feature")
	runGit(t, repo, "worktree", "add", "-q", "-b", "feature", linked)
	moved := filepath.Join(base, "moved")
	runGit(t, repo, "worktree", "add", "-q", "-b", "moved", moved)
	removed := filepath.Join(base, "removed")
	runGit(t, repo, "worktree", "add", "-q", "-b", "removed", removed)
	plain := mkdir(t, base, "plain")

	// A worktree whose entry the repository dropped, its directory left
	// behind (git worktree remove of a copy, or prune after a move).
	runGit(t, repo, "worktree", "remove", "--force", removed)
	if err := os.MkdirAll(removed, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(removed, ".git"), []byte("gitdir: "+filepath.Join(repo, ".git", "worktrees", "removed")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A worktree moved away by hand, with a copy left at the old place:
	// the repository's entry now points at the new place.
	runGit(t, repo, "worktree", "move", moved, filepath.Join(base, "elsewhere"))
	if err := os.MkdirAll(moved, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(moved, ".git"), []byte("gitdir: "+filepath.Join(repo, ".git", "worktrees", "moved")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		dir, want string
	}{
		{repo, ""},
		{linked, ""},
		{filepath.Join(base, "elsewhere"), ""},
		{filepath.Join(base, "never-existed"), "directory is gone"},
		{plain, "no longer a git worktree"},
		{removed, "no longer lists it"},
		{moved, "now belongs to"},
	} {
		got := Orphaned(tc.dir)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Orphaned(%s) = %q, want %q", filepath.Base(tc.dir), got, tc.want)
		}
	}
}
