package engine

import (
	"fmt"
	"runtime"

	"github.com/shirou/gopsutil/v4/load"
)

// overloadHint explains a health wait that ran out on a local engine whose
// machine is overloaded: healthchecks then exceed their own timeouts and
// services look unhealthy although nothing is wrong with them. It is "" on
// a remote engine, where this machine's load says nothing, or when the load
// is normal.
func (e *Docker) overloadHint() string {
	if !e.host.Local {
		return ""
	}
	avg, err := load.Avg()
	if err != nil {
		return ""
	}
	return overloaded(avg.Load1, runtime.NumCPU())
}

// overloaded words the hint for a one-minute load average on cores CPUs:
// more than twice as many runnable tasks as cores counts as overloaded.
func overloaded(load1 float64, cores int) string {
	if cores < 1 || load1 <= 2*float64(cores) {
		return ""
	}
	return fmt.Sprintf("; the machine is overloaded (load average %.0f on %d cores), so healthchecks run late and time out: take down stacks no one uses (`wtenv ls` shows them), then run up again", load1, cores)
}
