package envs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// Two linked worktrees of one repository, whose compose file has a fixed
// container_name, fixed host ports, a named volume and a service_healthy
// dependency, run at the same time without touching each other.
func TestTwoWorktreesRunIsolated(t *testing.T) {
	roots := enginetest.Worktrees(t, "feature/billing")
	repo, other := roots[0], roots[1]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	a, b := open(ctx, t, repo), open(ctx, t, other+"/kv") // any subfolder binds the worktree
	if a.Project == b.Project {
		t.Fatalf("both worktrees map to project %s", a.Project)
	}
	stacks := upBoth(ctx, t, a, b)
	sa, sb := stacks[0], stacks[1]
	for _, st := range stacks {
		if st.State != stack.StateRunning {
			t.Fatalf("%s: state %s, want running: %+v", st.Project, st.State, st.Services)
		}
		if want := fmt.Sprintf("container_name %q rewritten to %q", "store", st.Project+"-store"); !contains(st.Warnings, want) {
			t.Errorf("%s: warnings %q lack %q", st.Project, st.Warnings, want)
		}
		if got := service(t, st, "store").Container; got != st.Project+"-store" {
			t.Errorf("store container is %q, want %q", got, st.Project+"-store")
		}
		if st.MemoryBytes <= 0 {
			t.Errorf("%s: memory %d, want a measurement", st.Project, st.MemoryBytes)
		}
	}
	if sb.Branch != "feature/billing" || sa.Branch != "main" {
		t.Errorf("branches %q and %q", sa.Branch, sb.Branch)
	}
	ports := map[int]string{}
	for _, st := range stacks {
		for _, s := range st.Services {
			for _, p := range s.Ports {
				if p.HostIP != "127.0.0.1" {
					t.Errorf("%s/%s binds %s, want 127.0.0.1", st.Project, s.Name, p.HostIP)
				}
				if p.HostPort == 8080 || p.HostPort == 3000 {
					t.Errorf("%s/%s kept the file's fixed host port %d", st.Project, s.Name, p.HostPort)
				}
				if prev, dup := ports[p.HostPort]; dup {
					t.Errorf("host port %d used by %s and %s/%s", p.HostPort, prev, st.Project, s.Name)
				}
				ports[p.HostPort] = st.Project + "/" + s.Name
			}
		}
	}

	// Data written through one stack (front forwards to its own store by
	// service name) is absent in the other.
	put(t, url(t, sa, "front")+"/kv/order", "from-main")
	if got := get(t, url(t, sa, "store")+"/kv/order"); got != "from-main" {
		t.Fatalf("stack a reads %q, want from-main", got)
	}
	if got := get(t, url(t, sb, "store")+"/kv/order"); got != "404" {
		t.Fatalf("stack b sees stack a's data: %q", got)
	}

	// Up again on a running, unchanged stack changes nothing.
	before := containerIDs(ctx, t, a.Project)
	again, err := a.Up(ctx, envs.UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after := containerIDs(ctx, t, a.Project); strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("idempotent up recreated containers: %v -> %v", before, after)
	}

	// Down removes a's containers and network, nothing of b's.
	d, err := a.Down(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.Removed.Containers != 2 || d.Removed.Networks != 1 || d.Removed.Volumes != 0 {
		t.Errorf("down removed %+v, want 2 containers, 1 network, 0 volumes", d.Removed)
	}
	if ids := containerIDs(ctx, t, a.Project); len(ids) != 0 {
		t.Errorf("containers of %s left after down: %v", a.Project, ids)
	}
	if st, err := a.Status(ctx); err != nil || st.State != stack.StateAbsent {
		t.Errorf("status after down: %v %v", st.State, err)
	}
	if st, err := b.Status(ctx); err != nil || st.State != stack.StateRunning {
		t.Errorf("other stack after down: %v %v", st.State, err)
	}
	if d2, err := a.Down(ctx, false); err != nil || d2.Removed.Containers != 0 {
		t.Errorf("second down: %+v %v", d2, err)
	}

	// Up again: same ports, and the kept volume still has the data.
	back, err := a.Up(ctx, envs.UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if url(t, back, "store") != url(t, again, "store") || url(t, back, "front") != url(t, again, "front") {
		t.Errorf("ports moved across down/up: %s %s -> %s %s", url(t, again, "store"), url(t, again, "front"), url(t, back, "store"), url(t, back, "front"))
	}
	if got := get(t, url(t, back, "store")+"/kv/order"); got != "from-main" {
		t.Errorf("after down/up the volume holds %q, want from-main", got)
	}

	// Purge removes volumes and the images built for the worktree too.
	for _, e := range []*envs.Env{a, b} {
		d, err := e.Down(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if d.Removed.Volumes != 1 || d.Removed.Images < 1 {
			t.Errorf("%s: purge removed %+v, want 1 volume and its images", e.Project, d.Removed)
		}
	}
}

func open(ctx context.Context, t *testing.T, dir string) *envs.Env {
	t.Helper()
	e, err := envs.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// upBoth brings both stacks up at the same time.
func upBoth(ctx context.Context, t *testing.T, es ...*envs.Env) []stack.Stack {
	t.Helper()
	out := make([]stack.Stack, len(es))
	errs := make([]error, len(es))
	var wg sync.WaitGroup
	for i, e := range es {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = e.Up(ctx, envs.UpOptions{Progress: func(m string) { t.Logf("%s: %s", e.Project, m) }})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("up %s: %v", es[i].Project, err)
		}
	}
	return out
}

func service(t *testing.T, st stack.Stack, name string) stack.Service {
	t.Helper()
	for _, s := range st.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s has no service %s: %+v", st.Project, name, st.Services)
	return stack.Service{}
}

func url(t *testing.T, st stack.Stack, name string) string {
	t.Helper()
	s := service(t, st, name)
	if len(s.Ports) != 1 || s.Ports[0].URL == "" {
		t.Fatalf("%s/%s ports %+v, want one with a URL", st.Project, name, s.Ports)
	}
	return s.Ports[0].URL
}

func put(t *testing.T, u, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", u, resp.Status)
	}
}

// get returns the body, or the status code when it is not 200.
func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprint(resp.StatusCode)
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func containerIDs(ctx context.Context, t *testing.T, project string) []string {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range res.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
