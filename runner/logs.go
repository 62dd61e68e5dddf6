package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stateDir is the worktree-local folder where wtenv keeps run logs. It
// ignores itself in git, so it never shows up in the worktree's changes.
const stateDir = ".wtenv"

// openLog creates .wtenv/logs/<suite>-<time>.log in the worktree.
func openLog(root, suite string) (*os.File, string, error) {
	dir := filepath.Join(root, stateDir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("creating %s: %w", dir, err)
	}
	ignore := filepath.Join(root, stateDir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("# wtenv's run logs: never committed\n*\n"), 0o644); err != nil {
			return nil, "", err
		}
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.log", suite, time.Now().UTC().Format("20060102T150405.000")))
	f, err := os.Create(path)
	if err != nil {
		return nil, "", err
	}
	return f, path, nil
}
