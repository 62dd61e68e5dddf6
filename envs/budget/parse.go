// Package budget decides whether one more stack fits in the machine's memory
// and, when it does not, explains who holds the memory and what to do next.
//
// It is pure logic: the caller gathers the facts (engine and host memory,
// the stacks on the engine with their measured use, the reservations in the
// state file) and holds the state file's lock while it calls Admit and
// records the new reservation, so admission is atomic across processes.
package budget

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
)

// DefaultPercent is the budget when WTENV_MEMORY_BUDGET is unset: 80% of
// memory leaves room for the engine, the editor and the agents themselves.
const DefaultPercent = 80

// EnvVar is the environment variable that sets the budget.
const EnvVar = "WTENV_MEMORY_BUDGET"

// ErrInvalidBudget is wrapped by every error ParseBudget returns.
var ErrInvalidBudget = errors.New("invalid " + EnvVar)

// acceptedForms ends every parse error so the reader can fix the value
// without looking anything up.
const acceptedForms = "want a size such as 12GiB, 512MiB, 1.5GiB, 12000MB or 1073741824 (bytes), " +
	"or a percentage of memory in (0,100] such as 75%"

// Spec is a parsed budget: exactly one of Bytes and Percent is set. The zero
// Spec means the variable is unset and DefaultPercent applies.
type Spec struct {
	Bytes   int64
	Percent float64
}

// unitBytes maps a lower-cased unit to its size in bytes. KB, MB, GB and TB
// are decimal and KiB, MiB, GiB and TiB binary, as their names say. The
// one-letter shorthands k, m, g and t are binary because that is what
// `docker run --memory 2g` and a compose file's mem_limit mean, and a budget
// is most often copied from there.
var unitBytes = map[string]int64{
	"": 1, "b": 1,
	"k": units.KiB, "kb": units.KB, "kib": units.KiB,
	"m": units.MiB, "mb": units.MB, "mib": units.MiB,
	"g": units.GiB, "gb": units.GB, "gib": units.GiB,
	"t": units.TiB, "tb": units.TB, "tib": units.TiB,
}

// ParseBudget parses WTENV_MEMORY_BUDGET. It accepts a size ("12GiB",
// "12000MB", "1.5GiB", "12 GiB", plain bytes "1073741824"; units are
// case-insensitive, see unitBytes) or a percentage of total memory ("75%").
// Empty, zero, negative and out-of-range values are errors: an unset
// variable is the caller's zero Spec, never an empty string passed here.
// Sizes are truncated to whole bytes.
func ParseBudget(s string) (Spec, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return Spec{}, invalid(s, "it is empty")
	}
	if num, ok := strings.CutSuffix(v, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return Spec{}, invalid(s, "the percentage is not a number")
		}
		if p <= 0 || p > 100 {
			return Spec{}, invalid(s, "a percentage must be above 0 and at most 100")
		}
		return Spec{Percent: p}, nil
	}
	i := strings.IndexFunc(v, func(r rune) bool {
		return !strings.ContainsRune("+-0123456789.", r)
	})
	if i < 0 {
		i = len(v)
	}
	num, unit := v[:i], strings.TrimSpace(v[i:])
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return Spec{}, invalid(s, "it does not start with a number")
	}
	mul, ok := unitBytes[strings.ToLower(unit)]
	if !ok {
		return Spec{}, invalid(s, fmt.Sprintf("unknown unit %q", unit))
	}
	if n < 0 {
		return Spec{}, invalid(s, "it is negative")
	}
	b := n * float64(mul)
	if b >= math.MaxInt64 {
		return Spec{}, invalid(s, "it is too large")
	}
	if int64(b) <= 0 {
		return Spec{}, invalid(s, "it must be above zero")
	}
	return Spec{Bytes: int64(b)}, nil
}

func invalid(s, why string) error {
	return fmt.Errorf("%w %q: %s; %s", ErrInvalidBudget, s, why, acceptedForms)
}

// Limit resolves spec to bytes. A percentage, including the default for the
// zero Spec, applies to total memory: the smaller of engineTotal (what the
// engine reports, e.g. a Docker Desktop VM) and hostTotal (the machine this
// process runs on). hostTotal 0 means unknown, as for a remote engine, and
// only engineTotal counts; engineTotal 0 likewise. With both unknown a
// percentage cannot be resolved and Limit returns 0, which means no budget.
//
// A size in bytes is returned as given, even above total memory: an
// explicit number is the user's decision.
func Limit(spec Spec, engineTotal, hostTotal int64) int64 {
	if spec.Bytes > 0 {
		return spec.Bytes
	}
	p := spec.Percent
	if p <= 0 {
		p = DefaultPercent
	}
	total := engineTotal
	if total <= 0 || (hostTotal > 0 && hostTotal < total) {
		total = hostTotal
	}
	if total <= 0 {
		return 0
	}
	return int64(float64(total) * min(p, 100) / 100)
}
