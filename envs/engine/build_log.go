package engine

import (
	"io"
	"os"
	"path/filepath"

	"github.com/wtenv/wtenv/envs/worktree"
)

// openBuildLog opens the worktree's log of a service's builds,
// .wtenv/logs/build-<service>.log, which each build replaces: a failed
// build's error names it, as the whole output behind the lines it quotes.
// Without a worktree, or when the file cannot be made, the output goes
// nowhere and the path is "".
func openBuildLog(root, service string) (io.WriteCloser, string) {
	if root == "" {
		return nopCloser{io.Discard}, ""
	}
	dir, err := worktree.LogDir(root)
	if err != nil {
		return nopCloser{io.Discard}, ""
	}
	path := filepath.Join(dir, "build-"+service+".log")
	// Only the worktree's user reads it, as the run logs: a build's output
	// may show what its secrets made.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nopCloser{io.Discard}, ""
	}
	_ = f.Chmod(0o600)
	return f, path
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
