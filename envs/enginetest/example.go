package enginetest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ExampleWorktrees is Worktrees for the bundled example product
// (examples/shop): a repository of it on main plus one linked worktree per
// branch, with the local images selected when no registry is reachable.
func ExampleWorktrees(t testing.TB, branches ...string) []string {
	t.Helper()
	Isolate(t)
	LocalImages(t)
	_, self, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(self), "..", "..", "examples", "shop")
	files := map[string][]byte{}
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && d.Name() == ".wtenv" {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(src, path)
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	roots := []string{Repo(t, "shop", files)}
	for _, b := range branches {
		roots = append(roots, Worktree(t, roots[0], b))
	}
	Cleanup(t, roots...)
	return roots
}
