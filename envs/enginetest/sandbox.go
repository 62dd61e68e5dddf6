package enginetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/gofrs/flock"
	"github.com/wtenv/wtenv/envs/state"
)

// Sandbox is what keeps one engine test apart from every other test and
// process on the machine, so tests can run side by side on one engine:
// its own state directory (port blocks, reservations), its own machine
// identity (so its gc judges only the stacks it made) and a range of host
// ports no other test process holds at the same time.
type Sandbox struct {
	StateDir  string
	HostID    string
	PortRange string
}

// Environ is the sandbox as environment variables, for wtenv processes a
// test starts.
func (s *Sandbox) Environ() []string {
	return []string{"WTENV_STATE_DIR=" + s.StateDir, "WTENV_HOST_ID=" + s.HostID, "WTENV_PORT_RANGE=" + s.PortRange}
}

// NewSandbox requires Docker and makes a sandbox without touching the
// process environment, for tests that run in parallel and start wtenv
// processes with Environ.
func NewSandbox(t testing.TB) *Sandbox {
	t.Helper()
	RequireDocker(t)
	return &Sandbox{StateDir: t.TempDir(), HostID: "test-" + randomHex(6), PortRange: portSlot(t)}
}

// Isolate is NewSandbox set into the process environment, for tests that
// call the core in process; like t.Setenv, it cannot be used in parallel
// tests.
func Isolate(t testing.TB) *Sandbox {
	t.Helper()
	s := NewSandbox(t)
	t.Setenv("WTENV_STATE_DIR", s.StateDir)
	t.Setenv("WTENV_HOST_ID", s.HostID)
	t.Setenv("WTENV_PORT_RANGE", s.PortRange)
	t.Setenv("CONDUCTOR_PORT", "") // a Conductor workspace's range is not the test's
	return s
}

// Host port slots for tests: below the kernel's ephemeral ports (32768 and
// up), so no outgoing connection takes one between a probe and a bind.
// A slot holds 20 blocks of 32 ports, room for the largest test's stacks.
const (
	slotBase  = 20000
	slotSize  = 640
	slotCount = (32768 - slotBase) / slotSize
)

// portSlot takes a slot of host ports no other test process on this
// machine holds, for as long as the test runs: an OS lock on the slot's
// file, which the OS drops if the process dies.
func portSlot(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "wtenv-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	start, _ := rand.Int(rand.Reader, big.NewInt(slotCount))
	for i := range slotCount {
		n := (int(start.Int64()) + i) % slotCount
		fl := flock.New(filepath.Join(dir, fmt.Sprintf("slot-%d.lock", n)))
		if ok, err := fl.TryLock(); err != nil || !ok {
			continue
		}
		t.Cleanup(func() { _ = fl.Unlock() })
		lo := slotBase + n*slotSize
		return fmt.Sprintf("%d-%d", lo, lo+slotSize-1)
	}
	t.Fatalf("all %d test port slots are taken by other test processes", slotCount)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Store opens the state store of the test's environment (WTENV_STATE_DIR,
// as Isolate sets it), to check what wtenv recorded.
func Store(t testing.TB) *state.Store {
	t.Helper()
	dir, err := state.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return store
}
