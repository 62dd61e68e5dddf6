package envs

import (
	"context"
	"os"
	"slices"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/ports"
	"github.com/wtenv/wtenv/envs/state"
)

// assignPorts gives the project its block of host ports under the state
// file's lock, so concurrent wtenv processes never hand out the same ports,
// and returns one host port per published container port, in order.
func (e *Env) assignPorts(ctx context.Context, refs []compose.PortRef) ([]int, error) {
	r, err := ports.RangeFromEnv()
	if err != nil {
		return nil, err
	}
	udp := false
	for _, ref := range refs {
		udp = udp || slices.Contains(ref.Protocols, "udp")
	}
	published, err := e.engine.PublishedPorts(ctx)
	if err != nil {
		return nil, err
	}
	free := portFree(e.engine.Host(), e.scope(), published, func(port int) bool { return ports.HostFree(port, udp) })
	var block *state.PortBlock
	err = e.store.Update(ctx, func(f *state.File) error {
		cur := project(f, e)
		var taken []state.PortBlock
		for name, p := range f.Projects {
			if name == e.Project || p.Ports == nil {
				continue
			}
			// A worktree deleted from disk no longer holds its block; if its
			// stack still runs, its published ports keep them out.
			if _, err := os.Stat(p.Worktree); err != nil {
				continue
			}
			taken = append(taken, *p.Ports)
		}
		b, err := ports.Assign(r, identity.RootHash(e.Worktree.Root), cur.Ports, taken, len(refs), free)
		if err != nil {
			return err
		}
		block = b
		if b != nil {
			cur.Ports = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]int, len(refs))
	for i := range out {
		out[i] = block.Start + i
	}
	return out, nil
}

// portFree decides whether a host port can go to scope's stack: a port its
// own containers publish is free for it; one any other container on the
// engine publishes is not; any other port is free when the engine is this
// machine and probe finds nothing listening, and on a remote engine, where
// this machine cannot probe, when no container there publishes it.
func portFree(host engine.Host, scope engine.Scope, published map[int]engine.Scope, probe func(port int) bool) func(int) bool {
	return func(port int) bool {
		if owner, ok := published[port]; ok {
			return owner == scope
		}
		return !host.Local || probe(port)
	}
}

// releasePorts forgets the project's port block after a purge.
func (e *Env) releasePorts(ctx context.Context) error {
	return e.store.Update(ctx, func(f *state.File) error {
		delete(f.Projects, e.Project)
		return nil
	})
}
