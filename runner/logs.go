package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wtenv/wtenv/envs/worktree"
)

// openLog creates .wtenv/logs/<suite>-<time>.log in the worktree.
func openLog(root, suite string) (*os.File, string, error) {
	dir, err := worktree.LogDir(root)
	if err != nil {
		return nil, "", err
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
