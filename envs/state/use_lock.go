package state

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/gofrs/flock"
)

// LockUse marks the project as in use for the length of a test run: a
// shared lock on its use file, which many runs can hold at once and which
// keeps admission from putting the stack to sleep under them. It waits,
// honouring ctx, while an eviction of the stack holds the lock, and
// returns the unlock. The OS drops it when the process dies.
func (s *Store) LockUse(ctx context.Context, project string) (func(), error) {
	unlock, err := waitLock(ctx, s.useLockPath(project), true)
	if err != nil {
		return nil, fmt.Errorf("waiting for wtenv to finish putting %s to sleep: %w", project, err)
	}
	return unlock, nil
}

// TryLockIdle takes, without waiting, both of the project's locks: its
// project lock (no up, down or sleep under way) and its use lock (no test
// run under way). It returns ok false, holding nothing, when either is
// held: the stack is in use and must not be put to sleep. Held, the locks
// keep every other wtenv from using the stack until unlock.
func (s *Store) TryLockIdle(project string) (unlock func(), ok bool) {
	use := flock.New(s.useLockPath(project), flock.SetPermissions(0o600))
	if ok, err := use.TryLock(); err != nil || !ok {
		return nil, false
	}
	proj := flock.New(s.projectLockPath(project), flock.SetPermissions(0o600))
	if ok, err := proj.TryLock(); err != nil || !ok {
		_ = use.Unlock()
		return nil, false
	}
	return func() {
		_ = proj.Unlock()
		_ = use.Unlock()
	}, true
}

// TryLockUnused takes the project's use lock exclusively without waiting:
// ok false when a test run holds it.
func (s *Store) TryLockUnused(project string) (unlock func(), ok bool) {
	use := flock.New(s.useLockPath(project), flock.SetPermissions(0o600))
	if ok, err := use.TryLock(); err != nil || !ok {
		return nil, false
	}
	return func() { _ = use.Unlock() }, true
}

func (s *Store) useLockPath(project string) string {
	return filepath.Join(s.Dir, project+".use.lock")
}
