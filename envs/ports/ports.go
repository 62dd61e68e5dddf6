// Package ports gives each project a block of host ports. A project's
// preferred block comes from its worktree hash so it rarely moves; taken or
// busy blocks push it to the next free one, and a block it already holds
// stays its own across down and up.
package ports

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultRange is used when WTENV_PORT_RANGE is not set. It lies above the
// ports development servers usually take; where it meets the system's
// ephemeral ports, HostFree finds the few that are in use.
const DefaultRange = "20000-39999"

// BlockSize is the number of ports in a block. A project publishing more
// ports than this gets several contiguous blocks.
const BlockSize = 32

// ErrInvalidRange reports a malformed WTENV_PORT_RANGE.
var ErrInvalidRange = errors.New("invalid WTENV_PORT_RANGE")

// Range is an inclusive range of host ports.
type Range struct{ Lo, Hi int }

// blocks is how many whole blocks fit in r, counted from r.Lo.
func (r Range) blocks() int {
	return (r.Hi - r.Lo + 1) / BlockSize
}

func (r Range) String() string {
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// ParseRange parses "LO-HI".
func ParseRange(s string) (Range, error) {
	bad := func(why string) (Range, error) {
		return Range{}, fmt.Errorf("%w %q: %s; want LO-HI with 1024 <= LO <= HI <= 65535 and room for %d ports, e.g. %s",
			ErrInvalidRange, s, why, BlockSize, DefaultRange)
	}
	loS, hiS, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return bad("no dash")
	}
	lo, err := strconv.Atoi(strings.TrimSpace(loS))
	if err != nil {
		return bad("LO is not a number")
	}
	hi, err := strconv.Atoi(strings.TrimSpace(hiS))
	if err != nil {
		return bad("HI is not a number")
	}
	switch {
	case lo < 1024:
		return bad("LO is a privileged port")
	case hi > 65535:
		return bad("HI is above 65535")
	case lo > hi:
		return bad("LO is above HI")
	case hi-lo+1 < BlockSize:
		return bad("smaller than one block")
	}
	return Range{Lo: lo, Hi: hi}, nil
}

// RangeFromEnv returns WTENV_PORT_RANGE, or DefaultRange when it is unset.
func RangeFromEnv() (Range, error) {
	if s := os.Getenv("WTENV_PORT_RANGE"); s != "" {
		return ParseRange(s)
	}
	return ParseRange(DefaultRange)
}
