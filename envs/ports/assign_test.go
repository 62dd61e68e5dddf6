package ports

import (
	"errors"
	"strings"
	"testing"

	"github.com/wtenv/wtenv/envs/state"
)

// r10 is a range of ten blocks: 30000-30319.
var r10 = Range{Lo: 30000, Hi: 30000 + 10*BlockSize - 1}

func block(i, blocks int) *state.PortBlock {
	return &state.PortBlock{Start: r10.Lo + i*BlockSize, Size: blocks * BlockSize}
}

func allPortsFree(int) bool { return true }

// busy reports the given ports as in use on the host.
func busy(ports ...int) func(int) bool {
	set := map[int]bool{}
	for _, p := range ports {
		set[p] = true
	}
	return func(p int) bool { return !set[p] }
}

func TestAssign(t *testing.T) {
	tests := []struct {
		name    string
		r       Range
		hash    uint32
		current *state.PortBlock
		taken   []state.PortBlock
		n       int
		free    func(int) bool
		want    *state.PortBlock
		wantErr error
	}{
		{name: "no published ports, no block", r: r10, hash: 3, n: 0, free: allPortsFree, want: nil},
		{name: "hash picks the preferred block", r: r10, hash: 3, n: 5, free: allPortsFree, want: block(3, 1)},
		{name: "hash wraps modulo the block count", r: r10, hash: 13, n: 5, free: allPortsFree, want: block(3, 1)},
		{name: "exactly one block", r: r10, hash: 7, n: BlockSize, free: allPortsFree, want: block(7, 1)},
		{name: "current block is kept", r: r10, hash: 3, current: block(8, 1), n: 5, free: allPortsFree, want: block(8, 1)},
		{name: "larger current block is kept unchanged", r: r10, hash: 3, current: block(8, 2), n: 5, free: allPortsFree, want: block(8, 2)},
		{name: "unaligned current block inside the range is kept", r: r10,
			current: &state.PortBlock{Start: 30010, Size: BlockSize}, n: 3, free: allPortsFree,
			want: &state.PortBlock{Start: 30010, Size: BlockSize}},
		{name: "current too small moves", r: r10, hash: 3, current: block(8, 1), n: 40, free: allPortsFree, want: block(3, 2)},
		{name: "current outside the range moves", r: r10, hash: 3,
			current: &state.PortBlock{Start: 20000, Size: BlockSize}, n: 5, free: allPortsFree, want: block(3, 1)},
		{name: "current taken by another project moves", r: r10, hash: 3, current: block(8, 1),
			taken: []state.PortBlock{*block(8, 1)}, n: 5, free: allPortsFree, want: block(3, 1)},
		{name: "current with a busy port moves", r: r10, hash: 3, current: block(8, 1),
			n: 5, free: busy(block(8, 1).Start + 4), want: block(3, 1)},
		{name: "busy port beyond n does not move current", r: r10, hash: 3, current: block(8, 1),
			n: 5, free: busy(block(8, 1).Start + 5), want: block(8, 1)},
		{name: "taken preferred block is skipped", r: r10, hash: 3,
			taken: []state.PortBlock{*block(3, 1), *block(4, 1)}, n: 5, free: allPortsFree, want: block(5, 1)},
		{name: "partly overlapping taken block is skipped", r: r10, hash: 3,
			taken: []state.PortBlock{{Start: block(3, 1).Start + 31, Size: 2}}, n: 5, free: allPortsFree, want: block(5, 1)},
		{name: "busy preferred block is skipped", r: r10, hash: 3, n: 5,
			free: busy(block(3, 1).Start + 2), want: block(4, 1)},
		{name: "busy port outside the first n is ignored", r: r10, hash: 3, n: 5,
			free: busy(block(3, 1).Start + 20), want: block(3, 1)},
		{name: "multiple blocks are contiguous", r: r10, hash: 2, n: 70, free: allPortsFree, want: block(2, 3)},
		{name: "multi-block run skips a taken block inside it", r: r10, hash: 2,
			taken: []state.PortBlock{*block(3, 1)}, n: 70, free: allPortsFree, want: block(4, 3)},
		{name: "search wraps to the start", r: r10, hash: 8,
			taken: []state.PortBlock{*block(8, 1), *block(9, 1)}, n: 5, free: allPortsFree, want: block(0, 1)},
		{name: "multi-block run never wraps", r: r10, hash: 9, n: 40, free: allPortsFree, want: block(0, 2)},
		{name: "partial trailing block is not used", r: Range{Lo: 30000, Hi: 30000 + 2*BlockSize + 10}, hash: 1,
			taken: []state.PortBlock{{Start: 30000 + BlockSize, Size: BlockSize}},
			n:     5, free: allPortsFree, want: &state.PortBlock{Start: 30000, Size: BlockSize}},
		{name: "partial trailing block does not count as room", r: Range{Lo: 30000, Hi: 30000 + 2*BlockSize + 10}, hash: 1,
			taken: []state.PortBlock{{Start: 30000, Size: 2 * BlockSize}},
			n:     5, free: allPortsFree, wantErr: ErrExhausted},
		{name: "all taken", r: r10, hash: 0, taken: []state.PortBlock{*block(0, 10)}, n: 1,
			free: allPortsFree, wantErr: ErrExhausted},
		{name: "all busy", r: r10, hash: 0, n: 1, free: func(int) bool { return false }, wantErr: ErrExhausted},
		{name: "no contiguous run long enough", r: r10, hash: 0,
			taken: []state.PortBlock{*block(2, 1), *block(5, 1), *block(8, 1)}, n: 3 * BlockSize,
			free: allPortsFree, wantErr: ErrExhausted},
		{name: "more ports than the range holds", r: r10, hash: 0, n: 10*BlockSize + 1,
			free: allPortsFree, wantErr: ErrExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Assign(tt.r, tt.hash, tt.current, tt.taken, tt.n, tt.free)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Assign = %v, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Assign: %v", err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Fatalf("Assign = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAssignKeepsCurrentPointer pins that a kept block is returned as is,
// so callers can tell "unchanged" by identity as well as by value.
func TestAssignKeepsCurrentPointer(t *testing.T) {
	cur := block(6, 1)
	got, err := Assign(r10, 0, cur, nil, 3, allPortsFree)
	if err != nil || got != cur {
		t.Fatalf("Assign = %v, %v; want the current block itself", got, err)
	}
}

// TestAssignSpreadsProjects fills a range one project at a time, as
// successive `up`s would, and checks every block is handed out once.
func TestAssignSpreadsProjects(t *testing.T) {
	var taken []state.PortBlock
	for i := range 10 {
		b, err := Assign(r10, uint32(i*7), nil, taken, 10, allPortsFree)
		if err != nil {
			t.Fatalf("project %d: %v", i, err)
		}
		if overlapsAny(*b, taken) || !inside(r10, *b) {
			t.Fatalf("project %d got %v, overlapping %v or outside the range", i, b, taken)
		}
		taken = append(taken, *b)
	}
	if _, err := Assign(r10, 0, nil, taken, 1, allPortsFree); !errors.Is(err, ErrExhausted) {
		t.Fatalf("eleventh project: %v, want ErrExhausted", err)
	}
}

func TestErrExhaustedNamesTheNextAction(t *testing.T) {
	_, err := Assign(r10, 0, nil, []state.PortBlock{*block(0, 10)}, 1, allPortsFree)
	for _, frag := range []string{"wtenv down", "WTENV_PORT_RANGE", r10.String()} {
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("error %v lacks %q", err, frag)
		}
	}
}
