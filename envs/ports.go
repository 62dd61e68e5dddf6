package envs

import (
	"context"
	"fmt"
	"maps"
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
// Where the ports came from is dropped: see assignPortsNoted.
func (e *Env) assignPorts(ctx context.Context, refs []compose.PortRef) ([]int, error) {
	hostPorts, _, err := e.assignPortsNoted(ctx, refs)
	return hostPorts, err
}

// assignPortsNoted is assignPorts that also says where the ports came
// from, for a caller that reports warnings with the stack.
func (e *Env) assignPortsNoted(ctx context.Context, refs []compose.PortRef) ([]int, portNote, error) {
	free, err := e.portProbe(ctx, refs)
	if err != nil {
		return nil, portNote{}, err
	}
	var block *state.PortBlock
	var note portNote
	err = e.store.Update(ctx, func(f *state.File) error {
		cur := project(f, e)
		b, n, err := e.pickBlock(f, len(refs), free)
		if err != nil {
			return err
		}
		if block, note = b, n; b != nil {
			cur.Ports = b
			cur.PortsMoved = n.Moved
		}
		return nil
	})
	if err != nil {
		return nil, portNote{}, err
	}
	return blockPorts(block, len(refs)), note, nil
}

// previewPorts is assignPorts without recording the block: the ports up
// would use now, for config. Without an engine it probes this machine
// only.
func (e *Env) previewPorts(ctx context.Context, refs []compose.PortRef) ([]int, portNote, error) {
	free, err := e.portProbe(ctx, refs)
	if err != nil {
		return nil, portNote{}, err
	}
	f, err := e.store.Read(ctx)
	if err != nil {
		return nil, portNote{}, err
	}
	block, note, err := e.pickBlock(f, len(refs), free)
	if err != nil {
		return nil, portNote{}, err
	}
	return blockPorts(block, len(refs)), note, nil
}

// portProbe is the test of whether a host port can go to this stack.
func (e *Env) portProbe(ctx context.Context, refs []compose.PortRef) (func(int) bool, error) {
	udp := false
	for _, ref := range refs {
		udp = udp || slices.Contains(ref.Protocols, "udp")
	}
	probe := func(port int) bool { return ports.HostFree(port, udp) }
	eng := e.engine()
	if eng == nil {
		return probe, nil
	}
	published, err := eng.PublishedPorts(ctx)
	if err != nil {
		return nil, err
	}
	return portFree(e.scope(), published, probe), nil
}

// pickBlock chooses the project's block for n ports given the state file:
// the ports Conductor reserved for the workspace when CONDUCTOR_PORT is set
// and they fit, else its current block when it still fits, else the first
// free one from where its hash points.
func (e *Env) pickBlock(f *state.File, n int, free func(int) bool) (*state.PortBlock, portNote, error) {
	r, err := ports.RangeFromEnv()
	if err != nil {
		return nil, portNote{}, err
	}
	b, note, err := e.conductorBlock(f, n, free)
	if err != nil || b != nil {
		return b, note, err
	}
	taken := slices.Collect(maps.Values(e.otherBlocks(f)))
	cur := currentBlock(f, e.Project)
	b, err = ports.Assign(r, identity.RootHash(e.Worktree.Root), cur, taken, n, free)
	if err == nil && b != nil && cur != nil && b.Start != cur.Start {
		note.Moved = fmt.Sprintf("this stack's host ports moved from %d-%d to %d-%d: %s", cur.Start, cur.Start+cur.Size-1, b.Start, b.Start+b.Size-1, whyMoved(r, *cur, taken, n, free))
		note.Warning = joinNotes(note.Warning, note.Moved)
	}
	return b, note, err
}

// whyMoved says why a stack could not keep its block.
func whyMoved(r ports.Range, cur state.PortBlock, taken []state.PortBlock, n int, free func(int) bool) string {
	switch {
	case n > cur.Size:
		return fmt.Sprintf("it now publishes %d ports, more than its block's %d", n, cur.Size)
	case cur.Start < r.Lo || cur.Start+cur.Size-1 > r.Hi:
		return fmt.Sprintf("its block is outside WTENV_PORT_RANGE %s", r)
	}
	for _, t := range taken {
		if cur.Start < t.Start+t.Size && t.Start < cur.Start+cur.Size {
			return fmt.Sprintf("another stack holds ports %d-%d", t.Start, t.Start+t.Size-1)
		}
	}
	for p := cur.Start; p < cur.Start+n; p++ {
		if !free(p) {
			return fmt.Sprintf("port %d is in use (by a process on this machine or another container); free it and run up again to get the old ports back", p)
		}
	}
	return "its block was not free"
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// blockPorts are the first n ports of block.
func blockPorts(block *state.PortBlock, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = block.Start + i
	}
	return out
}

// portFree decides whether a host port can go to scope's stack: a port its
// own containers publish is free for it; one any other container on the
// engine publishes is not; any other port is free when probe finds nothing
// listening on this machine. On a remote engine, too, the port must be
// free here: forwarding answers on it at 127.0.0.1 (wtenv forward, serve).
func portFree(scope engine.Scope, published map[int]engine.Scope, probe func(port int) bool) func(int) bool {
	return func(port int) bool {
		if owner, ok := published[port]; ok {
			return owner == scope
		}
		return probe(port)
	}
}

// releasePorts forgets the project's port block after a purge.
func (e *Env) releasePorts(ctx context.Context) error {
	return e.store.Update(ctx, func(f *state.File) error {
		delete(f.Projects, e.Project)
		return nil
	})
}
