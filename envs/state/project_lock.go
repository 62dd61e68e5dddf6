package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockProject takes the project's own lock, held for the whole of an Up or
// Down so that two wtenv processes never change one stack at once. It waits,
// honouring ctx, and returns the unlock. The OS drops the lock when the
// process dies, however it dies, which is what Busy relies on.
func (s *Store) LockProject(ctx context.Context, project string) (func(), error) {
	unlock, err := waitLock(ctx, s.projectLockPath(project), false)
	if err != nil {
		return nil, fmt.Errorf("waiting for another wtenv working on %s: %w", project, err)
	}
	return unlock, nil
}

// waitLock takes the lock on path, shared or exclusive, waiting and
// honouring ctx, and returns the unlock.
func waitLock(ctx context.Context, path string, shared bool) (func(), error) {
	fl := flock.New(path, flock.SetPermissions(0o600))
	try := fl.TryLockContext
	if shared {
		try = fl.TryRLockContext
	}
	ok, err := try(ctx, 50*time.Millisecond)
	if err != nil || !ok {
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	return func() { _ = fl.Unlock() }, nil
}

// Busy reports whether some process (this one included) holds the
// project's lock now, that is, whether an Up or Down of it is under way.
func (s *Store) Busy(project string) bool {
	// Whoever holds the lock created its file first: no file, no holder,
	// and no lock file made for a project this store never ran.
	if _, err := os.Stat(s.projectLockPath(project)); errors.Is(err, os.ErrNotExist) {
		return false
	}
	fl := flock.New(s.projectLockPath(project), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return true // cannot tell: count it, the safe side for a budget
	}
	if ok {
		_ = fl.Unlock()
	}
	return !ok
}

// ForgetProject removes the lock file of a project whose worktree is gone,
// unless some process holds it. It removes the file while holding the lock,
// so no one is left holding a lock on a file another process no longer
// sees.
func (s *Store) ForgetProject(project string) {
	fl := flock.New(s.projectLockPath(project), flock.SetPermissions(0o600))
	if ok, err := fl.TryLock(); err != nil || !ok {
		return
	}
	if use, ok := s.TryLockUnused(project); ok {
		_ = os.Remove(s.useLockPath(project))
		use()
	}
	_ = os.Remove(s.projectLockPath(project))
	_ = fl.Unlock()
}

func (s *Store) projectLockPath(project string) string {
	return filepath.Join(s.Dir, project+".lock")
}
