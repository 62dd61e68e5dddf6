package engine

import (
	"os"
	"syscall"
)

// CrashEnv names the environment variable the fault tests set to make a
// wtenv process kill itself with SIGKILL at one point of Up or Stop, the way an
// agent's process dies mid-operation: nothing deferred runs, no lock is
// released by hand, nothing is cleaned. The next Up and Down must converge
// from whatever is left. Unset, the points cost one getenv each.
const CrashEnv = "WTENV_TEST_CRASH_AT"

// The points of Up at which a fault test can crash the process.
const (
	CrashNetworkCreated   = "network-created"   // after the first network is created
	CrashContainerCreated = "container-created" // after a container is created, before it starts
	CrashBuild            = "build"             // while the engine is building an image
	CrashHealthWait       = "health-wait"       // while waiting for a service to be healthy
	CrashOneOffStarted    = "one-off-started"   // a test run's container has started
	CrashRestarted        = "restarted"         // a kept container has started again (a wake), others not yet
	CrashStopped          = "stopped-one"       // Stop (a sleep) has stopped its first containers, others still run
)

// crashPoint kills the process when the fault tests ask for this point.
func crashPoint(name string) {
	if os.Getenv(CrashEnv) == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; never run past the point
	}
}
