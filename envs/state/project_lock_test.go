package state

import (
	"context"
	"os"
	"os/exec"
	"testing"
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

	// Another process takes the lock and is killed with SIGKILL.
	// flock(1) from util-linux; -o keeps the lock in flock itself, not in
	// the sleep it runs.
	holder := exec.Command("flock", "-o", s.projectLockPath("shop-main-1a2b"), "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatalf("flock(1) holds the lock from another process: %v", err)
	}
	defer holder.Process.Kill()
	for !s.Busy("shop-main-1a2b") {
		if holder.ProcessState != nil {
			t.Fatal("the holder exited")
		}
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
