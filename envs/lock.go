package envs

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// lockProject serializes Up and Down of this project across every wtenv
// process (a CLI up while an MCP server's up runs would otherwise race to
// create the same containers), and within this one. It waits, honouring
// ctx, and returns the unlock.
func (e *Env) lockProject(ctx context.Context) (func(), error) {
	e.changing.Lock()
	lock := flock.New(filepath.Join(e.store.Dir, e.Project+".lock"))
	ok, err := lock.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil || !ok {
		e.changing.Unlock()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("waiting for another wtenv working on %s: %w", e.Project, err)
	}
	return func() {
		lock.Unlock()
		e.changing.Unlock()
	}, nil
}
