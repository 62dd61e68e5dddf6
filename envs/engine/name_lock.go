package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// nameLocks serializes, within this process, the work that names guard;
// lock files in the temporary folder do across this machine's processes.
var nameLocks sync.Mutex

// lockNames takes the machine-wide lock of each name (a cache volume, a
// network), in order, and returns the unlock: for a check and create that
// two runs must not do at once. A lock file this user cannot open
// (another user's) is passed over: this process's own turns still hold.
func lockNames(ctx context.Context, kind string, names []string) (func(), error) {
	if len(names) == 0 {
		return func() {}, nil
	}
	nameLocks.Lock()
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	var held []*flock.Flock
	unlock := func() {
		for _, fl := range held {
			_ = fl.Unlock()
		}
		nameLocks.Unlock()
	}
	for _, name := range sorted {
		fl := flock.New(filepath.Join(os.TempDir(), "wtenv-"+kind+"-"+name+".lock"), flock.SetPermissions(0o666))
		ok, _ := fl.TryLockContext(ctx, 50*time.Millisecond)
		switch {
		case ok:
			held = append(held, fl)
		case ctx.Err() != nil:
			unlock()
			return nil, fmt.Errorf("waiting for another wtenv to set up %s %s: %w", kind, name, ctx.Err())
		}
	}
	return unlock, nil
}

// lockCaches is lockNames for the cache volumes a container mounts, from
// its create to its start: a new one takes the image's content when the
// first container that mounts it is created or started.
func lockCaches(ctx context.Context, caches []Cache) (func(), error) {
	names := make([]string, len(caches))
	for i, c := range caches {
		names[i] = c.Volume
	}
	return lockNames(ctx, "cache", names)
}
