package budget

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// WaitEnvVar is how long admission may wait for room when the budget is
// full and no stack is idle yet, but enough stacks will be idle soon:
// rather than refuse at once, it waits for them to turn idle and puts
// them to sleep then. 0 refuses at once.
const WaitEnvVar = "WTENV_ADMIT_WAIT"

// DefaultWait is the wait when WTENV_ADMIT_WAIT is not set.
const DefaultWait = 2 * time.Minute

// MachineWait is the wait of WTENV_ADMIT_WAIT, else the default.
func MachineWait() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(WaitEnvVar))
	if v == "" {
		return DefaultWait, nil
	}
	if v == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, idleError(fmt.Sprintf("%s %q is not a duration; write it like 2m or 30s, or 0 to refuse at once when the budget is full", WaitEnvVar, v))
	}
	return d, nil
}

// RoomAt is the earliest time at which stacks among hs, annotated with
// their idle policy (Policy), could together free short bytes by turning
// idle: each at its last use plus its idle_after (now for one idle
// already), one in use no sooner than idle_after from now (its use has not
// ended yet). It returns false when even all of them could not: none may
// ever be put to sleep (idle_after 0, or last use unknown) or they hold
// too little.
func RoomAt(hs []Holder, short int64, now time.Time) (time.Time, bool) {
	type soon struct {
		at    time.Time
		holds int64
	}
	var all []soon
	for _, h := range hs {
		// A stack whose last use is unknown is never put to sleep.
		if !h.Policy || h.IdleAfter <= 0 || h.Holds() <= 0 || h.IdleSince.IsZero() {
			continue
		}
		at := h.IdleSince.Add(h.IdleAfter)
		switch {
		case h.InUse:
			at = now.Add(h.IdleAfter) // idle no sooner than idle_after after its use ends
		case at.Before(now):
			at = now // idle already
		}
		all = append(all, soon{at, h.Holds()})
	}
	slices.SortFunc(all, func(a, b soon) int { return a.at.Compare(b.at) })
	for _, s := range all {
		short -= s.holds
		if short <= 0 {
			return s.at, true
		}
	}
	return time.Time{}, false
}
