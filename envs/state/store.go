package state

import (
	"context"
	"fmt"
	"time"

	"github.com/gofrs/flock"
)

// retryDelay is how often a waiting caller retries the lock. Holders keep
// it for a read and one small write, so a short poll keeps waits short.
const retryDelay = 5 * time.Millisecond

// Update runs fn on the current state under an exclusive lock and writes
// the result atomically if fn returns nil. fn's error is returned as is and
// nothing is written. Update waits for other holders until ctx is done.
func (s *Store) Update(ctx context.Context, fn func(*File) error) error {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	return s.save(f)
}

// Read returns a snapshot of the state under a shared lock. Changing the
// snapshot does not change the file; use Update for that.
func (s *Store) Read(ctx context.Context) (*File, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.load()
}

// lock takes the OS lock on the lock file. A fresh Flock per call matters:
// one Flock value reports itself locked to every goroutine sharing it,
// while separate open files contend as separate processes do. The lock
// lives on its own file because save replaces state.json by rename.
func (s *Store) lock(ctx context.Context, exclusive bool) (unlock func(), err error) {
	fl := flock.New(s.lockPath(), flock.SetPermissions(0o600))
	try := fl.TryRLockContext
	if exclusive {
		try = fl.TryLockContext
	}
	ok, err := try(ctx, retryDelay)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: not acquired", s.lockPath())
	}
	// Unlock also closes the file; an error here leaves nothing to undo,
	// since the OS drops the lock when the descriptor closes.
	return func() { _ = fl.Unlock() }, nil
}
