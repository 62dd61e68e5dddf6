package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
	serverName := "shared-" + id + "-db-1"
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
		var opts engine.UpOptions
		if !shared {
			// The server joins before the stack's services start.
			opts.BeforeStart = func(ctx context.Context) error {
				snap, err := eng.Snapshot(ctx, meta.Scope())
				for _, c := range snap.Containers {
					if c.In(meta.Scope()) {
						t.Errorf("%s exists before BeforeStart ran", c.Name)
					}
				}
				if err != nil {
					return err
				}
				return eng.Join(ctx, serverName, name+"_default", []string{"db"})
			}
		}
		if err := eng.Up(ctx, p, meta, opts); err != nil {
			t.Fatal(err)
		}
		return meta
	}
	server := up("shared-"+id, fmt.Sprintf("services:\n  db:\n    image: %s\n    ports: [\"8080\"]\n", img), port, true)
	front := fmt.Sprintf("services:\n  front:\n    image: %s\n    ports: [\"8080\"]\n    environment: {UPSTREAM_URL: \"http://db:8080\"}\n", img)
	a := up("a-"+id, front, port+1, false)
	up("b-"+id, front, port+2, false)
	if server.Project+"-db-1" != serverName {
		t.Fatalf("the server is %s-db-1, not %s", server.Project, serverName)
	}
	if err := eng.Join(ctx, serverName, a.Project+"_default", []string{"db"}); err != nil {
		t.Fatalf("joining again: %v", err) // idempotent
	}
	// front has no healthcheck: up returns once it runs, maybe before it
	// listens, so a request that finds no listener is tried again.
	kv := func(port int, method, body string) (int, string) {
		var resp *http.Response
		var err error
		for try := 0; try < 50; try++ {
			req, _ := http.NewRequestWithContext(ctx, method, fmt.Sprintf("http://127.0.0.1:%d/kv/k", port), strings.NewReader(body))
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
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
	owners, err := eng.Owners(ctx)
	if err != nil || !slices.Contains(owners, engine.Owner{Project: server.Project, Worktree: server.Worktree, Branch: "main", Host: sb.HostID, Shared: true}) {
		t.Errorf("owners do not name the server as shared: %+v %v", owners, err)
	}
}
