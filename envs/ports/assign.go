package ports

import (
	"errors"
	"fmt"

	"github.com/wtenv/wtenv/envs/state"
)

// ErrExhausted reports that no block of the range is free for a project.
var ErrExhausted = errors.New("port range exhausted: stop stacks with `wtenv down`, or widen WTENV_PORT_RANGE")

// Assign picks the host port block for a project that publishes n ports.
//
// taken holds the blocks of other projects from the state file; current is
// the block this project already holds, or nil. free reports whether a host
// port can be used; the caller counts ports held by the project's own
// running stack as free, so a running stack keeps its block.
//
// The current block is kept when it still fits, so URLs survive down and
// up. Otherwise the search starts at the block the hash prefers and walks
// forward, wrapping at the end of the range, over block-aligned starts; the
// first run of ceil(n/BlockSize) blocks that is untaken and free wins. A
// project publishing nothing gets no block.
func Assign(r Range, hash uint32, current *state.PortBlock, taken []state.PortBlock, n int, free func(port int) bool) (*state.PortBlock, error) {
	if n <= 0 {
		return nil, nil
	}
	if current != nil && current.Size >= n && inside(r, *current) &&
		!overlapsAny(*current, taken) && allFree(current.Start, n, free) {
		return current, nil
	}
	need := (n + BlockSize - 1) / BlockSize
	total := r.blocks()
	if need > total {
		return nil, fmt.Errorf("%d ports do not fit in WTENV_PORT_RANGE %s: %w", n, r, ErrExhausted)
	}
	preferred := int(hash % uint32(total))
	for k := range total {
		i := (preferred + k) % total
		// A run of blocks must not wrap: its ports would not be contiguous.
		if i+need > total {
			continue
		}
		b := state.PortBlock{Start: r.Lo + i*BlockSize, Size: need * BlockSize}
		if overlapsAny(b, taken) || !allFree(b.Start, n, free) {
			continue
		}
		return &b, nil
	}
	return nil, fmt.Errorf("no %d free contiguous ports in WTENV_PORT_RANGE %s: %w", need*BlockSize, r, ErrExhausted)
}

func inside(r Range, b state.PortBlock) bool {
	return b.Size > 0 && b.Start >= r.Lo && b.Start+b.Size-1 <= r.Hi
}

func overlapsAny(b state.PortBlock, taken []state.PortBlock) bool {
	for _, t := range taken {
		if b.Start < t.Start+t.Size && t.Start < b.Start+b.Size {
			return true
		}
	}
	return false
}

// allFree probes only the ports the project will publish, not the whole
// block: a busy port at the end of a block the project does not use is no
// reason to move.
func allFree(start, n int, free func(int) bool) bool {
	for p := start; p < start+n; p++ {
		if !free(p) {
			return false
		}
	}
	return true
}
