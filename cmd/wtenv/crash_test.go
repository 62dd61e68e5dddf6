package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// `wtenv up` killed with SIGKILL at each injected point: the next up
// converges to a healthy stack on the same port block, the dead up's
// reservation stops counting at once, and down --purge leaves no object and
// no port block or reservation behind.
func TestCrashMidUpConverges(t *testing.T) {
	for _, point := range []string{engine.CrashNetworkCreated, engine.CrashBuild, engine.CrashContainerCreated, engine.CrashHealthWait} {
		t.Run(point, func(t *testing.T) {
			wt := enginetest.Worktrees(t)[0]
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			before := budgetUsed(ctx, t)

			crashed := wtenvBin(ctx, t, []string{engine.CrashEnv + "=" + point}, "up", "--worktree", wt)
			if !crashed.killed {
				t.Fatalf("up never reached %s: exit %d\n%s", point, crashed.code, crashed.stderr)
			}
			entries := stateOf(ctx, t)
			if len(entries) != 1 {
				t.Fatalf("state after the crash: %d entries", len(entries))
			}
			var project string
			var block int
			for name, p := range entries {
				project, block = name, p.Ports.Start
				if !p.Starting || p.Reserved == 0 {
					t.Errorf("the crashed up left no starting reservation to test: %+v", p)
				}
			}
			// Without a container, the dead up's reservation must not
			// count: the process that held it is gone.
			if point == engine.CrashNetworkCreated || point == engine.CrashBuild {
				if after := budgetUsed(ctx, t); after-before >= budget.DefaultPerService {
					t.Errorf("budget used went from %d to %d: the dead up's reservation still counts", before, after)
				}
			}

			up := wtenvBin(ctx, t, nil, "up", "--worktree", wt, "--json")
			if up.code != 0 {
				t.Fatalf("up after the crash: exit %d\n%s", up.code, up.stderr)
			}
			st := statusOf(ctx, t, wt)
			if st.Project != project || st.State != stack.StateRunning {
				t.Fatalf("after recovery: %s %s", st.Project, st.State)
			}
			for _, s := range st.Services {
				if s.Health != "healthy" {
					t.Errorf("service %s is %s/%s after recovery", s.Name, s.State, s.Health)
				}
			}
			if p := stateOf(ctx, t)[project]; p.Ports.Start != block || p.Starting {
				t.Errorf("after recovery: block %d (was %d), starting %v", p.Ports.Start, block, p.Starting)
			}

			down := wtenvBin(ctx, t, nil, "down", "--purge", "--worktree", wt)
			if down.code != 0 {
				t.Fatalf("down: exit %d\n%s", down.code, down.stderr)
			}
			if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wt); len(left) > 0 {
				t.Errorf("down after a crash left %v", left)
			}
			for name, p := range stateOf(ctx, t) {
				if p.Ports != nil || p.Reserved != 0 || p.Starting {
					t.Errorf("state of %s after down --purge: %+v", name, p)
				}
			}
		})
	}
}

// A stack whose up died after creating only its network, and whose
// worktree was then deleted, has no container to be found by: gc still
// finds and removes it.
func TestGCCollectsAStackWithOnlyANetwork(t *testing.T) {
	roots := enginetest.Worktrees(t, "feature/net-only")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wt := roots[1]
	if p := wtenvBin(ctx, t, []string{engine.CrashEnv + "=" + engine.CrashNetworkCreated}, "up", "--worktree", wt); !p.killed {
		t.Fatalf("up was not killed: exit %d\n%s", p.code, p.stderr)
	}
	enginetest.Git(t, roots[0], "worktree", "remove", "--force", wt)
	if len(enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wt)) == 0 {
		t.Fatal("the crashed up left no network to collect")
	}
	gc := wtenvBin(ctx, t, nil, "gc")
	if gc.code != 0 || !strings.Contains(gc.stdout, "removed stack") || !strings.Contains(gc.stdout, "directory is gone") {
		t.Fatalf("gc: exit %d\n%s%s", gc.code, gc.stdout, gc.stderr)
	}
	if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wt); len(left) > 0 {
		t.Errorf("gc left %v", left)
	}
}

// budgetUsed is the budget's used figure as `wtenv ls` reports it.
func budgetUsed(ctx context.Context, t *testing.T) int64 {
	t.Helper()
	p := wtenvBin(ctx, t, nil, "ls", "--json")
	var l stack.List
	if p.code != 0 || json.Unmarshal([]byte(p.stdout), &l) != nil {
		t.Fatalf("ls: exit %d\n%s%s", p.code, p.stdout, p.stderr)
	}
	return l.Budget.UsedBytes
}

// A test run killed while its one-off container runs leaves the container
// behind, carrying its deadline; gc leaves it alone until the deadline has
// passed, then removes it.
func TestGCRemovesOneOffsPastTheirTimeout(t *testing.T) {
	enginetest.LocalImages(t)
	files := enginetest.FixtureFiles(t)
	files["compose.yaml"] = []byte(strings.Replace(enginetest.FixtureCompose, "\nvolumes:\n", "\n  tests:\n    image: "+enginetest.BaseImage+"\n    profiles: [test]\nvolumes:\n", 1))
	files["wtenv.yaml"] = []byte("tests:\n  unit:\n    service: tests\n    command: [sleep, \"600\"]\n    timeout: 20s\n")
	enginetest.RequireDocker(t)
	t.Setenv("WTENV_STATE_DIR", t.TempDir())
	wt := enginetest.Repo(t, "oneoff", files)
	enginetest.Cleanup(t, wt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	p := wtenvBin(ctx, t, []string{engine.CrashEnv + "=" + engine.CrashOneOffStarted}, "test", "unit", "--worktree", wt)
	if !p.killed {
		t.Fatalf("test run was not killed: exit %d\n%s", p.code, p.stderr)
	}
	left := enginetest.Leftovers(ctx, t, "com.docker.compose.oneoff=True")
	if !containsPrefix(left, "container ") {
		t.Fatalf("no one-off container left behind: %v", left)
	}
	r, err := envs.GC(ctx, envs.GCOptions{})
	if err != nil || len(r.OneOffs) != 0 {
		t.Fatalf("gc before the deadline: %+v %v", r.OneOffs, err)
	}
	r, err = envs.GC(ctx, envs.GCOptions{Now: time.Now().Add(20*time.Second + 2*time.Minute)})
	ours := 0
	for _, c := range r.OneOffs {
		if strings.HasPrefix(c.Project, "oneoff-main-") {
			ours++
		}
	}
	if err != nil || ours != 1 {
		t.Fatalf("gc after the deadline: %+v %v", r.OneOffs, err)
	}
	for _, l := range enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wt) {
		if strings.Contains(l, "-run-") {
			t.Errorf("gc left %s", l)
		}
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
