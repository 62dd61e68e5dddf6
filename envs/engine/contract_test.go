package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// contractCompose has what the seam's verbs must report: a service with a
// healthcheck on two networks with a published port, one that depends on
// it, a one-shot service that completes, a named volume, and a test
// service under a profile.
const contractCompose = `services:
  store:
    image: %[1]s
    ports: ["8080"]
    networks: [default, back]
    volumes: [data:/data]
    healthcheck: {test: ["CMD", "/kv", "health"], interval: 1s, timeout: 2s, retries: 30}
  front:
    image: %[1]s
    environment: {UPSTREAM_URL: "http://store:8080"}
    depends_on: {store: {condition: service_healthy}}
  once:
    image: %[1]s
    command: ["exit", "0"]
  probe:
    image: %[1]s
    profiles: [test]
networks:
  back:
volumes:
  data:
`

// contractStack loads contractCompose into an isolated project on its own
// port and returns it with the labels to write.
func contractStack(t *testing.T, sb *enginetest.Sandbox) (*types.Project, engine.Meta) {
	t.Helper()
	return loadStack(t, sb, fmt.Sprintf(contractCompose, enginetest.KVImage(t)))
}

// loadStack writes the compose file into a folder of its own and loads it
// into an isolated project on the sandbox's first port, removed with
// everything it creates when the test ends.
func loadStack(t *testing.T, sb *enginetest.Sandbox, composeFile string) (*types.Project, engine.Meta) {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "compose.yaml"), []byte(composeFile), 0o644); err != nil {
		t.Fatal(err)
	}
	name := "contract-" + strings.ToLower(strings.TrimPrefix(sb.HostID, "test-"))
	p, err := compose.Load(context.Background(), root, compose.Config{}, name)
	if err != nil {
		t.Fatal(err)
	}
	lo, _, _ := strings.Cut(sb.PortRange, "-")
	port, _ := strconv.Atoi(lo)
	if _, err := compose.Isolate(p, name, []int{port}, p.WorkingDir); err != nil {
		t.Fatal(err)
	}
	enginetest.Cleanup(t, root)
	return p, engine.Meta{Project: name, Worktree: root, Branch: "main", Version: "test", Host: sb.HostID, ConfigFiles: filepath.Join(root, "compose.yaml")}
}

// The Docker implementation of the engine seam, on the real engine: what
// each verb reports is what the core's logic (tested with a fake) relies
// on.
func TestDockerKeepsTheSeamsContract(t *testing.T) {
	sb := enginetest.NewSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if h := eng.Host(); !h.Local || h.Address != "127.0.0.1" {
		t.Errorf("the test engine is on this machine, reported as %+v", h)
	}
	if total, err := eng.MemTotal(ctx); err != nil || total <= 0 {
		t.Errorf("MemTotal: %d %v", total, err)
	}
	p, meta := contractStack(t, sb)
	scope := meta.Scope()
	var steps []string
	if err := eng.Up(ctx, p, meta, engine.UpOptions{Progress: func(m string) { steps = append(steps, m) }}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(steps, "waiting for store: healthy (needed by front)") {
		t.Errorf("up reported %q", steps)
	}

	// Snapshot: every container with its labels, state, health, exit code,
	// ports and memory.
	snap, err := eng.Snapshot(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]engine.Container{}
	for _, c := range snap.Containers {
		if c.In(scope) {
			got[c.Service] = c
		}
	}
	store, front, once := got["store"], got["front"], got["once"]
	if len(got) != 3 || store.Host != sb.HostID || store.Branch != "main" || store.OneOff || store.Name != meta.Project+"-store-1" {
		t.Fatalf("snapshot of the stack: %+v", got)
	}
	if store.State != "running" || store.Health != "healthy" || store.MemoryBytes <= 0 {
		t.Errorf("store: %+v", store)
	}
	if len(store.Ports) == 0 || store.Ports[0].ContainerPort != 8080 || store.Ports[0].HostIP.String() != "127.0.0.1" || store.Ports[0].Protocol != "tcp" {
		t.Errorf("store's ports: %+v", store.Ports)
	}
	if front.State != "running" || front.Health != "" {
		t.Errorf("front (no healthcheck): %+v", front)
	}
	if once.State != "exited" || once.ExitCode != 0 {
		t.Errorf("once, a job that completed: %+v", once)
	}
	if snap.At.IsZero() || time.Since(snap.At) > time.Minute {
		t.Errorf("snapshot time %v", snap.At)
	}

	// PublishedPorts and Owners.
	published, err := eng.PublishedPorts(ctx)
	if err != nil || published[store.Ports[0].HostPort] != scope {
		t.Errorf("published ports: %v %v; want %d for %v", published, err, store.Ports[0].HostPort, scope)
	}
	owners, err := eng.Owners(ctx)
	if err != nil || !slices.Contains(owners, engine.Owner{Project: meta.Project, Worktree: meta.Worktree, Branch: "main", Host: sb.HostID}) {
		t.Errorf("owners: %+v %v", owners, err)
	}

	// Up again changes nothing; a stopped container that lost a network
	// (a process killed between creating and connecting it) gets it back.
	before := ids(snap, scope)
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if _, err := api.ContainerStop(ctx, store.ID, client.ContainerStopOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.NetworkDisconnect(ctx, meta.Project+"_back", client.NetworkDisconnectOptions{Container: store.ID}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	insp, err := api.ContainerInspect(ctx, store.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := insp.Container.NetworkSettings.Networks[meta.Project+"_back"]; !ok || !insp.Container.State.Running {
		t.Errorf("after up, store is running=%v on %v; want running on both networks", insp.Container.State.Running, keys(insp.Container.NetworkSettings.Networks))
	}
	snap, err = eng.Snapshot(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	if after := ids(snap, scope); !slices.Equal(before, after) {
		t.Errorf("up of an unchanged stack recreated containers: %v -> %v", before, after)
	}

	// A one-off of a service under a profile: on the stack's network, its
	// exit code and output returned, gone afterwards.
	var out bytes.Buffer
	code, err := eng.RunOneOff(ctx, p, meta, engine.RunOptions{Service: "probe", Command: []string{"health"}, Env: map[string]string{"PORT": "1"}, Output: &out, Mount: meta.Worktree, Timeout: time.Minute})
	if err != nil || code != 1 || !strings.Contains(out.String(), "unhealthy") {
		t.Errorf("one-off: exit %d %v, output %q", code, err, out.String())
	}
	if snap, err = eng.Snapshot(ctx, engine.Scope{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Containers {
		if c.In(scope) && c.OneOff {
			t.Errorf("one-off %s left after its run", c.Name)
		}
	}

	logs, err := eng.Logs(ctx, scope, "store", 5)
	if err != nil || !strings.Contains(logs, "store | ") || strings.Contains(logs, "front | ") {
		t.Errorf("logs of store: %v\n%s", err, logs)
	}

	// Down keeps volumes, purge removes them, and a second down finds
	// nothing and says so without an error.
	r, err := eng.Down(ctx, scope, false)
	if err != nil || r.Containers != 3 || r.Networks != 2 || r.Volumes != 0 {
		t.Errorf("down: %+v %v", r, err)
	}
	r, err = eng.Down(ctx, scope, true)
	if err != nil || r.Containers != 0 || r.Volumes != 1 {
		t.Errorf("down --purge: %+v %v", r, err)
	}
	if r, err = eng.Down(ctx, scope, true); err != nil || r != (engine.DownResult{}) {
		t.Errorf("down of nothing: %+v %v", r, err)
	}
	if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+meta.Worktree); len(left) > 0 {
		t.Errorf("left after down --purge: %v", left)
	}
}

func ids(snap engine.Snapshot, scope engine.Scope) []string {
	var out []string
	for _, c := range snap.Containers {
		if c.In(scope) && !c.OneOff {
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
