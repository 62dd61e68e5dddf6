package worktree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateDir is the worktree-local folder where wtenv keeps its logs. It
// ignores itself in git, so it never shows up in the worktree's changes.
const StateDir = ".wtenv"

// LogDir returns root's .wtenv/logs, created with the .gitignore that
// keeps .wtenv out of git.
func LogDir(root string) (string, error) {
	dir := filepath.Join(root, StateDir, "logs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	ignore := filepath.Join(root, StateDir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("# wtenv's logs: never committed\n*\n"), 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}
