package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// A shared server joins two stacks' networks under the name their
// services reach it by; taking one stack down leaves the server running
// and still reachable from the other.
func TestASharedServerJoinsStacksAndSurvivesTheirDown(t *testing.T) {
	ctx, eng, sb := testEngine(t)
	img := enginetest.KVImage(t)
	lo, _, _ := strings.Cut(sb.PortRange, "-")
	port, _ := strconv.Atoi(lo)
	id := strings.ToLower(strings.TrimPrefix(sb.HostID, "test-"))
	up := func(name, file string, port int, shared bool) engine.Meta {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "compose.yaml"), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		enginetest.Cleanup(t, root)
		p, err := compose.Load(ctx, root, compose.Config{}, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compose.Isolate(p, name, []int{port}, root); err != nil {
			t.Fatal(err)
		}
		meta := engine.Meta{Project: name, Worktree: root, Branch: "main", Version: "test", Host: sb.HostID, Shared: shared}
		if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
			t.Fatal(err)
		}
		return meta
	}
	server := up("shared-"+id, fmt.Sprintf("services:\n  db:\n    image: %s\n    ports: [\"8080\"]\n", img), port, true)
	front := fmt.Sprintf("services:\n  front:\n    image: %s\n    ports: [\"8080\"]\n    environment: {UPSTREAM_URL: \"http://db:8080\"}\n", img)
	a := up("a-"+id, front, port+1, false)
	b := up("b-"+id, front, port+2, false)
	serverName := server.Project + "-db-1"
	for _, m := range []engine.Meta{a, b} {
		for range 2 { // idempotent
			if err := eng.Join(ctx, serverName, m.Project+"_default", []string{"db"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	kv := func(port int, method, body string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, method, fmt.Sprintf("http://127.0.0.1:%d/kv/k", port), strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, out := kv(port+1, http.MethodPut, "from-a"); code != http.StatusOK {
		t.Fatalf("put through a: %d %s", code, out)
	}
	if code, out := kv(port+2, http.MethodGet, ""); code != http.StatusOK || out != "from-a" {
		t.Errorf("get through b: %d %q; want the shared server's from-a", code, out)
	}

	r, err := eng.Down(ctx, a.Scope(), true)
	if err != nil || r.Networks != 1 {
		t.Fatalf("down of a with the server on its network: %+v %v", r, err)
	}
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	insp, err := api.ContainerInspect(ctx, serverName, client.ContainerInspectOptions{})
	if err != nil || !insp.Container.State.Running {
		t.Fatalf("the server after a's down: %v", err)
	}
	if _, ok := insp.Container.NetworkSettings.Networks[a.Project+"_default"]; ok {
		t.Errorf("the server is still on a's removed network")
	}
	if code, out := kv(port+2, http.MethodGet, ""); code != http.StatusOK || out != "from-a" {
		t.Errorf("get through b after a's down: %d %q", code, out)
	}
	if got := insp.Container.Config.Labels[engine.LabelShared]; got != "true" {
		t.Errorf("the server's %s label is %q, want true", engine.LabelShared, got)
	}
}
