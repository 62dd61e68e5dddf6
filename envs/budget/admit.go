package budget

import (
	"cmp"
	"slices"
	"time"
)

// Holder is a stack holding memory: running on the engine, or reserved in
// the state file by an admission whose stack is still starting.
type Holder struct {
	Project  string
	Branch   string
	Worktree string
	State    string
	// Reserved is the need recorded when the stack was admitted.
	Reserved int64
	// Measured is the stack's current memory use; 0 when it is not running.
	Measured int64
	// IdleSince is the last time wtenv did anything with the stack; the
	// zero time means unknown.
	IdleSince time.Time
	// Policy tells that IdleAfter and InUse are known (admission looked):
	// IdleAfter is how long the stack must be idle before admission may
	// put it to sleep (0: never), InUse that an up, a test run or a sleep
	// of it is under way.
	Policy    bool
	IdleAfter time.Duration
	InUse     bool
}

// Holds is what the stack counts against the budget: the larger of its
// reservation and its measured use. The reservation covers a stack that is
// still starting or momentarily quiet; the measurement covers one that grew
// past its estimate.
func (h Holder) Holds() int64 {
	return max(h.Reserved, h.Measured, 0)
}

// Decision is the outcome of Admit, with everything Refusal needs to explain
// it.
type Decision struct {
	Limit int64
	Used  int64
	Need  int64
	Admit bool
	// Holders is a copy of Admit's holders, largest first.
	Holders []Holder
	// IdlePolicy, when set, says where the machine's idle policy comes
	// from, for a refusal after admission found no stack idle enough to
	// put to sleep.
	IdlePolicy string
	// Wait is the longest admission waits for stacks about to turn idle
	// (WTENV_ADMIT_WAIT), Waited how long it did before it refused.
	Wait, Waited time.Duration
}

// Admit decides whether a stack needing need bytes fits: Used is the sum of
// the holders' Holds, and the stack is admitted when Used+need <= limit.
// limit <= 0 means no budget, and every stack is admitted.
//
// holders must be the other stacks only: the caller leaves out the project
// being admitted, whose old reservation or current use its new need
// replaces. Stopped stacks that hold nothing may be passed; they add 0.
func Admit(limit, need int64, holders []Holder) Decision {
	need = max(need, 0)
	sorted := slices.Clone(holders)
	slices.SortStableFunc(sorted, func(a, b Holder) int {
		if c := cmp.Compare(b.Holds(), a.Holds()); c != 0 {
			return c
		}
		return cmp.Compare(a.Project, b.Project)
	})
	used := sumHolds(sorted)
	return Decision{
		Limit:   limit,
		Used:    used,
		Need:    need,
		Admit:   limit <= 0 || used+need <= limit,
		Holders: sorted,
	}
}

func sumHolds(holders []Holder) int64 {
	var used int64
	for _, h := range holders {
		used += h.Holds()
	}
	return used
}

// Budget is the budget object of the Stack and List results. LimitBytes 0
// means no budget is enforced, and then FreeBytes is 0 too.
type Budget struct {
	LimitBytes int64 `json:"limit_bytes"`
	UsedBytes  int64 `json:"used_bytes"`
	FreeBytes  int64 `json:"free_bytes"`
}

// Summarize reports the budget with every holder counted. Free is never
// negative, although Used can exceed the limit when running stacks grow
// past their reservations.
func Summarize(limit int64, holders []Holder) Budget {
	used := sumHolds(holders)
	if limit <= 0 {
		return Budget{UsedBytes: used}
	}
	return Budget{LimitBytes: limit, UsedBytes: used, FreeBytes: max(limit-used, 0)}
}
