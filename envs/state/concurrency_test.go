package state

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// increment adds one to a counter kept in a project's Reserved field.
func increment(ctx context.Context, s *Store) error {
	return s.Update(ctx, func(f *File) error {
		p := f.Projects["counter"]
		if p == nil {
			p = &Project{Worktree: "/counter"}
			f.Projects["counter"] = p
		}
		p.Reserved++
		return nil
	})
}

func counter(t *testing.T, s *Store) int64 {
	t.Helper()
	f, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Projects["counter"] == nil {
		return 0
	}
	return f.Projects["counter"].Reserved
}

func TestConcurrentGoroutines(t *testing.T) {
	s := openTemp(t)
	const workers = 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			errs <- increment(context.Background(), s)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := counter(t, s); got != workers {
		t.Errorf("counter = %d after %d concurrent updates", got, workers)
	}
}

// childDirEnv tells a re-executed test binary to act as one of the
// processes in TestConcurrentProcesses and which store to use.
const childDirEnv = "WTENV_STATE_TEST_CHILD_DIR"

const (
	processes         = 8
	updatesPerProcess = 25
)

// TestConcurrentProcesses checks the lock across processes, which is what
// the file lock is for: the test binary runs itself several times at once
// and every child increments the same counter.
func TestConcurrentProcesses(t *testing.T) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		s := &Store{Dir: dir}
		for range updatesPerProcess {
			if err := increment(context.Background(), s); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	s := openTemp(t)
	var wg sync.WaitGroup
	errs := make(chan error, processes)
	for i := range processes {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), childDirEnv+"="+s.Dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("child %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := counter(t, s), int64(processes*updatesPerProcess); got != want {
		t.Errorf("counter = %d after %d processes × %d updates, want %d", got, processes, updatesPerProcess, want)
	}
}
