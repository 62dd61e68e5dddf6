package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
)

// The pool, as a user meets it: this machine's engine is full, so the next
// worktree's stack lands on a second engine (a real dockerd in its own
// network namespace); its e2e suite passes there against code edited
// here; status and ls say where each stack runs; wtenv forward makes it
// answer on 127.0.0.1; gc here leaves another machine's stack on the
// shared engine alone; and when the second engine stops, its stack is
// unreachable while the local one runs on.
func TestPoolScenario(t *testing.T) {
	enginetest.Full(t)
	ctx := context.Background()
	roots := enginetest.ExampleWorktrees(t, "feature/remote")
	second := enginetest.StartSecondEngine(t)
	images := enginetest.LocalImages(t)
	kv := enginetest.KVImage(t)
	start := time.Now()
	second.LoadImages(t, images["POSTGRES_IMAGE"], images["REDIS_IMAGE"], images["GO_IMAGE"], kv)
	t.Logf("images copied to the second engine in %s", time.Since(start).Round(time.Millisecond))

	local := os.Getenv("DOCKER_HOST")
	if local == "" {
		local = "unix:///var/run/docker.sock"
	}
	// Five services at 256 MiB each before a peak is measured: the first
	// shop goes to the engine with the most free budget (local), and fills
	// it; the second no longer fits there and goes to the remote one.
	engines := filepath.Join(t.TempDir(), "engines.yaml")
	writeFile(t, engines, []byte(fmt.Sprintf("engines:\n  - name: local\n    host: %s\n    budget: 2GiB\n  - name: remote\n    host: %s\n    budget: 1536MiB\n", local, second.Host)))
	t.Setenv("WTENV_ENGINES", engines)
	mainWT, remoteWT := roots[0], roots[1]
	t.Cleanup(func() {
		cli(t, "down", "--purge", "--worktree", mainWT)
		cli(t, "down", "--purge", "--worktree", remoteWT)
	})

	up := func(wt string) stack.Stack {
		t.Helper()
		code, out, stderr := cli(t, "up", "--json", "--worktree", wt)
		var st stack.Stack
		if code != exitOK || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("up in %s: exit %d\n%s", wt, code, tail(stderr, 40))
		}
		if m := regexp.MustCompile(`placed on engine .*`).FindString(stderr); m != "" {
			t.Logf("%s: %s", filepath.Base(wt), m)
		}
		return st
	}
	if st := up(mainWT); st.Engine.Name != "local" || st.State != stack.StateRunning {
		t.Fatalf("first stack on %q, %s; want local, running", st.Engine.Name, st.State)
	}
	start = time.Now()
	st := up(remoteWT)
	if st.Engine.Name != "remote" || st.Engine.Host != second.Host || st.State != stack.StateRunning {
		t.Fatalf("second stack on %+v, %s; want remote, running", st.Engine, st.State)
	}
	t.Logf("second stack placed on the remote engine and up in %s", time.Since(start).Round(time.Millisecond))
	web := portOf(t, st, "web", 3000)
	if !strings.Contains(web.URL, second.Addr) {
		t.Errorf("web's URL %q does not carry the remote engine's address %s", web.URL, second.Addr)
	}
	if !answers(web.URL + "/") {
		t.Errorf("web on the remote engine does not answer at %s", web.URL)
	}

	// The e2e suite runs there against this machine's code: a test added
	// here is run there.
	e2e := func() runner.TestRun {
		t.Helper()
		code, out, stderr := cli(t, "test", "e2e", "--json", "--worktree", remoteWT)
		var run runner.TestRun
		if code != exitOK || json.Unmarshal([]byte(out), &run) != nil || !run.Passed {
			t.Fatalf("e2e on the remote engine: exit %d %+v\n%s", code, run, tail(stderr, 40))
		}
		return run
	}
	first := e2e()
	writeFile(t, filepath.Join(remoteWT, "e2e", "edited_here_test.go"), []byte("//go:build e2e\n\npackage e2e\n\nimport \"testing\"\n\nfunc TestEditedOnThisMachine(t *testing.T) {}\n"))
	start = time.Now()
	code, out, stderr := cli(t, "test", "e2e", "--json", "--worktree", remoteWT)
	var again runner.TestRun
	if code != exitOK || json.Unmarshal([]byte(out), &again) != nil || again.Counts.Passed != first.Counts.Passed+1 {
		t.Fatalf("after an edit here: exit %d, %d passed (before %d)\n%s", code, again.Counts.Passed, first.Counts.Passed, tail(stderr, 40))
	}
	if m := regexp.MustCompile(`copied 1 file\(s\) of \S+ to engine remote in (\S+)s`).FindStringSubmatch(stderr); m == nil {
		t.Errorf("the refresh did not copy exactly the one changed file:\n%s", tail(stderr, 20))
	} else {
		t.Logf("refresh of one changed file: %ss; e2e after the edit: %s", m[1], time.Since(start).Round(time.Millisecond))
	}

	// Status and ls say where each stack runs.
	code, out, _ = cli(t, "ls", "--json")
	var l stack.List
	if code != exitOK || json.Unmarshal([]byte(out), &l) != nil {
		t.Fatalf("ls: exit %d\n%s", code, out)
	}
	where := map[string]string{}
	for _, s := range l.Stacks {
		where[s.Worktree] = s.Engine + " " + s.State
	}
	if where[mainWT] != "local running" || where[remoteWT] != "remote running" || len(l.Engines) != 2 {
		t.Errorf("ls: %v, engines %+v", where, l.Engines)
	}

	// wtenv forward: the remote stack answers on 127.0.0.1 as if local.
	fwd := exec.CommandContext(ctx, enginetest.Build(t, "cmd/wtenv", false), "forward", "--worktree", remoteWT)
	fwd.Env = os.Environ()
	if err := fwd.Start(); err != nil {
		t.Fatal(err)
	}
	local127 := fmt.Sprintf("http://127.0.0.1:%d/", web.HostPort)
	deadline := time.Now().Add(20 * time.Second)
	for !answers(local127) {
		if time.Now().After(deadline) {
			t.Errorf("wtenv forward: %s answers nothing: %s", local127, get(t, local127))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fwd.Process.Kill()
	fwd.Wait()

	// Another machine's stack on the shared engine, its worktree gone:
	// gc here leaves it alone.
	compose := strings.ReplaceAll(enginetest.FixtureCompose, "    build: ./kv\n", "    image: "+kv+"\n    pull_policy: never\n")
	other := enginetest.Repo(t, "other", map[string][]byte{"compose.yaml": []byte(compose)})
	enginetest.Cleanup(t, other)
	otherEnv := []string{"WTENV_STATE_DIR=" + t.TempDir(), "WTENV_HOST_ID=another-machine", "WTENV_ENGINES=" + engines}
	writeFile(t, filepath.Join(other, "wtenv.yaml"), []byte("engine: remote\n"))
	if p := wtenvBin(ctx, t, otherEnv, "up", "--worktree", other); p.code != 0 {
		t.Fatalf("up of another machine's stack: exit %d\n%s", p.code, p.stderr)
	}
	os.RemoveAll(other)
	code, out, _ = cli(t, "gc", "--json")
	var g stack.GC
	if code != exitOK || json.Unmarshal([]byte(out), &g) != nil {
		t.Fatalf("gc: exit %d\n%s", code, out)
	}
	for _, s := range g.Stacks {
		if s.Worktree == other {
			t.Errorf("gc on this machine removed another machine's stack: %+v", s)
		}
	}
	if n := containersOf(t, second, other); n == 0 {
		t.Errorf("another machine's stack is gone from the shared engine")
	}

	// The second engine stops: its stack is unreachable, never absent,
	// and the local one runs on.
	second.Stop(t)
	if st := statusOf(ctx, t, remoteWT); st.State != stack.StateUnreachable || st.Engine.Name != "remote" {
		t.Errorf("status with the remote engine stopped: %s on %q", st.State, st.Engine.Name)
	}
	if st := statusOf(ctx, t, mainWT); st.State != stack.StateRunning || st.Engine.Name != "local" {
		t.Errorf("local stack with the remote engine stopped: %s on %q", st.State, st.Engine.Name)
	}
	code, out, _ = cli(t, "engines", "--json")
	var es stack.Engines
	if code != exitOK || json.Unmarshal([]byte(out), &es) != nil || len(es.Engines) != 2 || !es.Engines[0].Reachable || es.Engines[1].Reachable {
		t.Errorf("engines with the remote one stopped: exit %d\n%s", code, out)
	}
	second.Start(t)
}

// portOf is service's published port for target.
func portOf(t *testing.T, st stack.Stack, service string, target int) stack.Port {
	t.Helper()
	for _, s := range st.Services {
		for _, p := range s.Ports {
			if s.Name == service && p.ContainerPort == target {
				return p
			}
		}
	}
	t.Fatalf("%s publishes no port %d: %+v", service, target, st.Services)
	return stack.Port{}
}

// containersOf counts the containers of worktree wt on the second engine.
func containersOf(t *testing.T, e *enginetest.SecondEngine, wt string) int {
	t.Helper()
	api := e.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "dev.wtenv.worktree="+wt)})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Items)
}

// answers reports whether u answers 200.
func answers(u string) bool {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
