package state

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Busy tells whether some process holds a project's lock, and stops
// telling so the moment that process dies, however it dies.
func TestBusyFollowsTheLockHolder(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s.Busy("shop-main-1a2b") {
		t.Fatal("busy before anyone locked it")
	}
	unlock, err := s.LockProject(context.Background(), "shop-main-1a2b")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Busy("shop-main-1a2b") {
		t.Error("not busy while this process holds the lock")
	}
	unlock()
	if s.Busy("shop-main-1a2b") {
		t.Error("busy after unlock")
	}

	// Another process takes the lock and is killed with SIGKILL. It is
	// this test binary, run as holdLock: one process, no child that could
	// share the lock's descriptor for a moment.
	holder := exec.Command(os.Args[0], "-test.run=^TestHoldLock$")
	holder.Env = append(os.Environ(), holdLockEnv+"="+s.Dir)
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("the holder did not lock: %q %v", line, err)
	}
	if !s.Busy("shop-main-1a2b") {
		t.Fatal("not busy while another process holds the lock")
	}
	if err := holder.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	if s.Busy("shop-main-1a2b") {
		t.Error("still busy after its holder was killed")
	}
	s.ForgetProject("shop-main-1a2b")
	if _, err := os.Stat(s.projectLockPath("shop-main-1a2b")); !os.IsNotExist(err) {
		t.Errorf("lock file left after ForgetProject: %v", err)
	}
}

// holdLockEnv makes TestHoldLock take the project's lock in the state
// directory it names and hold it until killed.
const holdLockEnv = "WTENV_TEST_HOLD_LOCK"

// TestHoldLock is the other process of TestBusyFollowsTheLockHolder; run
// on its own, it does nothing.
func TestHoldLock(t *testing.T) {
	dir := os.Getenv(holdLockEnv)
	if dir == "" {
		return
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LockProject(context.Background(), "shop-main-1a2b"); err != nil {
		t.Fatal(err)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
}
