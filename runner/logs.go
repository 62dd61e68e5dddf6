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
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("creating %s: %w", dir, err)
	}
	ignore := filepath.Join(root, stateDir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("# wtenv's run logs: never committed\n*\n"), 0o600); err != nil {
			return nil, "", err
		}
	}
	stamp := time.Now().UTC().Format("20060102T150405")
	for i := 1; ; i++ {
		name := fmt.Sprintf("%s-%s.log", suite, stamp)
		if i > 1 {
			name = fmt.Sprintf("%s-%s-%d.log", suite, stamp, i) // two runs in one second
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return f, path, nil
	}
}
