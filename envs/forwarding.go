package envs

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/wtenv/wtenv/envs/forward"
)

// forwardEvery is how often Forward looks at the stack's ports again.
const forwardEvery = 2 * time.Second

// Forward makes each port the worktree's stack publishes on a remote
// engine also answer on 127.0.0.1 at the same port, until ctx ends; it
// follows the stack as it comes up, changes or goes. On a local engine
// there is nothing to forward and it only waits. It reads the engine
// without touching the stack, so forwarding never keeps a stack from
// being put to sleep.
func (e *Env) Forward(ctx context.Context, logf func(string, ...any)) error {
	f := &forward.Forwarder{Logf: logf}
	defer f.Close()
	for {
		if err := f.Set(e.forwardTargets(ctx)); err != nil && logf != nil {
			logf("%v", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(forwardEvery):
		}
	}
}

// forwardTargets maps each port the stack publishes on a remote engine
// to its address there; nil on a local engine or when the engine does not
// answer. It lists containers only: no stats, no inspection, so a look
// every few seconds costs the engine little.
func (e *Env) forwardTargets(ctx context.Context) map[int]string {
	eng := e.engine()
	if eng == nil || eng.Host().Local {
		return nil
	}
	published, err := eng.PublishedPorts(ctx)
	if err != nil {
		return nil
	}
	out := map[int]string{}
	for port, owner := range published {
		if owner == e.scope() {
			out[port] = net.JoinHostPort(eng.Host().Address, strconv.Itoa(port))
		}
	}
	return out
}

// Local reports whether the stack's engine runs on this machine.
func (e *Env) Local() bool {
	eng := e.engine()
	return eng == nil || eng.Host().Local
}
