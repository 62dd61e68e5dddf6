package worktree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Orphaned says why dir is no longer a live worktree — its directory is
// gone, it is no longer a git checkout, or its repository no longer lists
// it — or returns "" when it still is one. It reads the files git itself
// keeps (the .git file of a linked worktree and the gitdir file its
// repository keeps for it), the same evidence `git worktree prune` uses, so
// a worktree that git still knows is never called orphaned. When it cannot
// tell (a permission error), it says "": gc must only remove what is
// certainly dead.
func Orphaned(dir string) string {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return "its worktree directory is gone"
	} else if err != nil {
		return ""
	}
	dotgit := filepath.Join(dir, ".git")
	fi, err := os.Lstat(dotgit)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "its directory is no longer a git worktree (no .git)"
	case err != nil:
		return ""
	case fi.IsDir():
		return "" // a repository's main worktree
	}
	body, err := os.ReadFile(dotgit)
	if err != nil {
		return ""
	}
	gitdir, ok := strings.CutPrefix(strings.TrimSpace(string(body)), "gitdir:")
	if !ok {
		return "its .git file names no repository"
	}
	gitdir = strings.TrimSpace(gitdir)
	if !filepath.IsAbs(gitdir) {
		gitdir = filepath.Join(dir, gitdir)
	}
	if _, err := os.Stat(gitdir); errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("its repository no longer lists it (%s is gone)", gitdir)
	}
	back, err := os.ReadFile(filepath.Join(gitdir, "gitdir"))
	if err != nil {
		// A submodule's .git file points into the superproject's modules
		// directory, which has no back link: still a checkout.
		return ""
	}
	want := filepath.Clean(strings.TrimSpace(string(back)))
	if !filepath.IsAbs(want) {
		want = filepath.Join(gitdir, want)
	}
	if !sameFile(want, dotgit) {
		return fmt.Sprintf("its repository's entry %s now belongs to %s", filepath.Base(gitdir), filepath.Dir(want))
	}
	return ""
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(fa, fb)
}
