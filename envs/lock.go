package envs

import (
	"context"
)

// lockProject serializes Up and Down of this project across every wtenv
// process (a CLI up while an MCP server's up runs would otherwise race to
// create the same containers), and within this one. It waits, honouring
// ctx, and returns the unlock.
func (e *Env) lockProject(ctx context.Context) (func(), error) {
	e.changing.Lock()
	unlock, err := e.store.LockProject(ctx, e.Project)
	if err != nil {
		e.changing.Unlock()
		return nil, err
	}
	return func() {
		unlock()
		e.changing.Unlock()
	}, nil
}
