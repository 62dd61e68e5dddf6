package envs

import (
	"context"
	"os"
	"time"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/ports"
	"github.com/wtenv/wtenv/envs/state"
)

// assignPorts gives the project its block of host ports under the state
// file's lock, so concurrent wtenv processes never hand out the same ports,
// and returns one host port per published container port, in order. Ports
// this project's own containers hold count as free; every other port is
// probed on the host.
func (e *Env) assignPorts(ctx context.Context, refs []compose.PortRef) ([]int, error) {
	r, err := ports.RangeFromEnv()
	if err != nil {
		return nil, err
	}
	udp := false
	for _, ref := range refs {
		udp = udp || ref.Protocol == "udp"
	}
	own, err := e.engine.HostPorts(ctx, e.scope())
	if err != nil {
		return nil, err
	}
	free := func(port int) bool { return own[port] || ports.HostFree(port, udp) }
	var block *state.PortBlock
	err = e.store.Update(ctx, func(f *state.File) error {
		cur := project(f, e)
		var taken []state.PortBlock
		for name, p := range f.Projects {
			if name == e.Project || p.Ports == nil {
				continue
			}
			// A worktree deleted from disk no longer holds its block; if its
			// stack still runs, the host probe keeps its ports out.
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
		cur.UpdatedAt = time.Now().UTC()
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

// releasePorts forgets the project's port block after a purge.
func (e *Env) releasePorts(ctx context.Context) error {
	return e.store.Update(ctx, func(f *state.File) error {
		delete(f.Projects, e.Project)
		return nil
	})
}
