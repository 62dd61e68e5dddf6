package envs

import (
	"context"
	"fmt"
	"net"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/stack"
)

// A port is free for a stack when its own containers publish it, never
// when another container on the engine does, and otherwise when the probe
// finds it free on this machine, whatever the engine: a remote stack's
// ports are forwarded to the same ports here.
func TestPortFree(t *testing.T) {
	published := map[int]engine.Scope{20001: shop, 20002: other, 20003: {}}
	probe := func(port int) bool { return port != 20004 }
	want := map[int]bool{20001: true, 20002: false, 20003: false, 20004: false, 20005: true}
	free := portFree(shop, published, probe)
	for port, want := range want {
		if got := free(port); got != want {
			t.Errorf("port %d free = %v, want %v", port, got, want)
		}
	}
}

// On a remote engine the block skips ports other containers publish there
// and ports held on this machine, where forwarding answers.
func TestAssignPortsOnARemoteEngine(t *testing.T) {
	t.Setenv("WTENV_PORT_RANGE", "30000-30063") // two blocks of 32
	t.Setenv("CONDUCTOR_PORT", "")
	eng, store := newFake(), tempStore(t)
	eng.host = remote
	e := fakeWorktree(t, eng, store, "main", "api")
	refs := []compose.PortRef{{Protocols: []string{"tcp"}}, {Protocols: []string{"tcp"}}}
	first, err := e.assignPorts(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	// The engine publishes the block's second port for another stack:
	// the block moves.
	eng.published[first[1]] = other
	moved, err := e.assignPorts(context.Background(), refs)
	if err != nil || moved[0] == first[0] {
		t.Errorf("a port the remote engine publishes for another stack stayed in the block: %v -> %v %v", first, moved, err)
	}
	// Its own published ports do not move it.
	eng.published = map[int]engine.Scope{moved[0]: e.scope(), moved[1]: e.scope()}
	if kept, err := e.assignPorts(context.Background(), refs); err != nil || !reflect.DeepEqual(kept, moved) {
		t.Errorf("the stack's own ports moved its block: %v -> %v %v", moved, kept, err)
	}
	// A port held on this machine, where it would be forwarded, moves a
	// fresh block.
	delete(eng.published, moved[0])
	delete(eng.published, moved[1])
	if err := e.releasePorts(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", first[0]))
	if err != nil {
		t.Skipf("port %d is busy here: %v", first[0], err)
	}
	defer l.Close()
	if again, err := e.assignPorts(context.Background(), refs); err != nil || again[0] == first[0] {
		t.Errorf("a port held on this machine stayed in a remote stack's block: %v %v", again, err)
	}
}

func TestGCVerdicts(t *testing.T) {
	owners := []engine.Owner{
		{Project: "mine-gone", Worktree: "/gone/a", Host: "this"},
		{Project: "mine-live", Worktree: "/live/b", Host: "this"},
		{Project: "mine-busy", Worktree: "/gone/c", Host: "this"},
		{Project: "theirs-gone", Worktree: "/gone/d", Host: "that"},
		{Project: "old-gone", Worktree: "/gone/e"},
		{Project: "no-worktree", Host: "this"},
	}
	orphaned := func(dir string) string {
		if len(dir) > 5 && dir[:5] == "/gone" {
			return "its worktree directory is gone"
		}
		return ""
	}
	busy := func(p string) bool { return p == "mine-busy" }
	names := func(ss []stack.GCStack) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Project)
		}
		return out
	}
	for _, c := range []struct {
		name        string
		mine        func(string) bool
		collect     []string
		skippedBusy []string
	}{
		{"this machine, local engine", func(h string) bool { return h == "this" || h == "" }, []string{"mine-gone", "old-gone"}, []string{"mine-busy"}},
		{"this machine, remote engine", func(h string) bool { return h == "this" }, []string{"mine-gone"}, []string{"mine-busy"}},
	} {
		collect, skipped := gcVerdicts(owners, c.mine, orphaned, busy)
		if got := names(collect); !reflect.DeepEqual(got, c.collect) {
			t.Errorf("%s: collects %v, want %v", c.name, got, c.collect)
		}
		if got := names(skipped); !reflect.DeepEqual(got, c.skippedBusy) {
			t.Errorf("%s: skips %v, want %v", c.name, got, c.skippedBusy)
		}
	}
}

// Which stacks this machine judges: its own label; unlabelled stacks
// (made before the label) only on a local engine and under the machine's
// own identity.
func TestMachineOf(t *testing.T) {
	self := identity.DefaultMachine()
	t.Setenv(identity.MachineEnv, "")
	if mine := machineOf(local); !mine(self) || !mine("") || mine("another") {
		t.Errorf("local engine, own identity: wrong verdicts")
	}
	if mine := machineOf(remote); !mine(self) || mine("") || mine("another") {
		t.Errorf("remote engine: an unlabelled stack may be another machine's")
	}
	t.Setenv(identity.MachineEnv, "test-machine")
	if mine := machineOf(local); !mine("test-machine") || mine("") || mine(self) {
		t.Errorf("WTENV_HOST_ID set: only its own stacks")
	}
}

// gc on a shared engine removes this machine's dead stacks and expired
// one-offs, and nothing of another machine's, though its worktree paths
// do not exist here.
func TestGCLeavesOtherMachinesStacks(t *testing.T) {
	ctx := context.Background()
	t.Setenv(identity.MachineEnv, "laptop")
	eng, store := newFake(), tempStore(t)
	eng.host = remote
	gone, live := "/nonexistent/"+t.Name(), t.TempDir()
	if err := os.Mkdir(live+"/.git", 0o755); err != nil { // a repository's main worktree
		t.Fatal(err)
	}
	eng.owners = []engine.Owner{
		{Project: "mine", Worktree: gone + "/a", Host: "laptop"},
		{Project: "theirs", Worktree: gone + "/b", Host: "desktop"},
		{Project: "live", Worktree: live, Host: "laptop"},
		{Project: "shop-shared-1234", Worktree: gone + "/c", Host: "laptop", Shared: true},
	}
	past := time.Now().Add(-time.Hour)
	eng.containers = []engine.Container{
		{ID: "live-run", Project: "live", Worktree: live, Host: "laptop", OneOff: true, Deadline: past, State: "running"},
		{ID: "fresh-run", Project: "live", Worktree: live, Host: "laptop", OneOff: true, Deadline: time.Now(), State: "running"},
		{ID: "theirs-run", Project: "theirs", Worktree: gone + "/b", Host: "desktop", OneOff: true, Deadline: past, State: "running"},
	}
	r, err := gc(ctx, eng, slot{}, store, machineOf(eng.Host()), GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"down --purge mine", "remove live-run"}; !reflect.DeepEqual(eng.calls, want) {
		t.Errorf("gc did %v, want %v", eng.calls, want)
	}
	if len(r.Stacks) != 1 || r.Stacks[0].Project != "mine" || len(r.OneOffs) != 1 {
		t.Errorf("gc reported %+v", r)
	}
}
