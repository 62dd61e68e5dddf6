package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// crashCompose puts store, the first service up creates, on a second
// network: a crash right after its container is created leaves it short of
// that network, and the next up must connect it.
var crashCompose = strings.Replace(strings.Replace(enginetest.FixtureCompose,
	"    volumes:\n      - data:/data\n", "    volumes:\n      - data:/data\n    networks: [default, back]\n", 1),
	"\nvolumes:\n", "\nnetworks:\n  back:\nvolumes:\n", 1)

// `wtenv up` killed with SIGKILL at each injected point: the next up
// converges to a healthy stack on the same port block, with every service
// on all its networks; the dead up's reservation stops counting at once,
// and down --purge leaves no object and no port block or reservation
// behind.
func TestCrashMidUpConverges(t *testing.T) {
	enginetest.Full(t)
	for _, point := range []string{engine.CrashNetworkCreated, engine.CrashBuild, engine.CrashContainerCreated, engine.CrashHealthWait} {
		t.Run(point, func(t *testing.T) {
			wt := enginetest.Worktrees(t)[0]
			writeFile(t, wt+"/compose.yaml", []byte(crashCompose))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

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
			// The dead up's reservation must not count: the process that
			// held the project's lock is gone, and a starting reservation
			// counts only while its lock is held (the budget's rule, tested
			// in envs).
			if busy(t, project) {
				t.Errorf("the project's lock is still held after its up was killed")
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
			if nets := networksOf(ctx, t, project+"-store"); !slices.Equal(nets, []string{project + "_back", project + "_default"}) {
				t.Errorf("store is on %v after recovery, want both its networks", nets)
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
	enginetest.Full(t)
	roots := enginetest.ImageWorktrees(t, "feature/net-only")
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

// busy reports whether some process holds the project's lock, in the
// test's own state directory.
func busy(t *testing.T, project string) bool {
	t.Helper()
	return enginetest.Store(t).Busy(project)
}

// networksOf lists the networks a container is on, sorted.
func networksOf(ctx context.Context, t *testing.T, name string) []string {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range res.Container.NetworkSettings.Networks {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// A test run killed while its one-off container runs leaves the container
// behind, carrying its deadline; gc leaves it alone until the deadline has
// passed, then removes it.
func TestGCRemovesOneOffsPastTheirTimeout(t *testing.T) {
	enginetest.Full(t)
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	files := enginetest.FixtureFiles(t)
	files["compose.yaml"] = []byte(strings.Replace(enginetest.FixtureCompose, "\nvolumes:\n", "\n  tests:\n    image: "+enginetest.BaseImage+"\n    profiles: [test]\nvolumes:\n", 1))
	files["wtenv.yaml"] = []byte("tests:\n  unit:\n    service: tests\n    command: [sleep, \"600\"]\n    timeout: 20s\n")
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
	if err != nil || ours != 1 || len(r.OneOffs) != 1 {
		t.Fatalf("gc after the deadline: %+v %v; want exactly this test's one-off", r.OneOffs, err)
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
