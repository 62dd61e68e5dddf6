package envs

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/state"
)

// settle's verdicts on a shared server as its tenants go, sleep and are
// purged, step by step.
func TestSettleFollowsTheTenants(t *testing.T) {
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	const shared, git = "shop-shared-1a2b", "/src/shop/.git"
	server := engine.Container{ID: "srv", Project: shared, Service: "db", Worktree: git, State: "running"}
	a := engine.Container{ID: "a-api", Project: "shop-a", Service: "api", Worktree: "/src/a", State: "running"}
	b := engine.Container{ID: "b-api", Project: "shop-b", Service: "api", Worktree: "/src/b", State: "running"}
	eng.containers = []engine.Container{server, a, b}
	write := func(fn func(f *state.File)) {
		t.Helper()
		if err := store.Update(ctx, func(f *state.File) error { fn(f); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	write(func(f *state.File) {
		f.Projects = map[string]*state.Project{
			shared:   {Worktree: git, Shared: true, Server: "db", Superuser: "shop", Tenants: map[string][]string{"shop-a": {"shop__a"}, "shop-b": {"shop__b"}}},
			"shop-a": {Worktree: "/src/a"},
			"shop-b": {Worktree: "/src/b"},
		}
	})
	step := func(name, self string, want ...string) {
		t.Helper()
		eng.calls = nil
		if err := settle(ctx, eng, slot{}, store, self); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(eng.calls, want) && !(len(want) == 0 && len(eng.calls) == 0) {
			t.Errorf("%s: settle did %q, want %q", name, eng.calls, want)
		}
	}
	step("both running", "")

	// b is purged (its entry gone) while the server runs: its database
	// is dropped now; a still runs, so the server stays.
	eng.containers = []engine.Container{server, a}
	write(func(f *state.File) { delete(f.Projects, "shop-b") })
	step("b purged", "shop-b", `exec srv: DROP DATABASE IF EXISTS "shop__b" WITH (FORCE)`)
	f, _ := store.Read(ctx)
	if sp := f.Projects[shared]; !reflect.DeepEqual(sp.Tenants, map[string][]string{"shop-a": {"shop__a"}}) || len(sp.Drop) != 0 {
		t.Errorf("after b's purge: tenants %v, drop %v", sp.Tenants, sp.Drop)
	}

	// a sleeps (its container stopped): the server sleeps too.
	eng.containers[1].State = "exited"
	step("a asleep", "shop-a", "stop "+shared)

	// a goes down, keeping its database: the server goes, its volume
	// (a's database) stays.
	eng.containers = slices.DeleteFunc(eng.containers, func(c engine.Container) bool { return c.Project == "shop-a" })
	step("a down", "shop-a", "down "+shared)

	// a is purged while the server is gone: no tenant is left, so the
	// shared stack goes whole, its state entry with it.
	write(func(f *state.File) { delete(f.Projects, "shop-a") })
	step("a purged", "shop-a", "down --purge "+shared)
	if f, _ := store.Read(ctx); f.Projects[shared] != nil {
		t.Errorf("the shared stack's entry stayed: %+v", f.Projects[shared])
	}
}

// A purged tenant's database waits in the state file while the server is
// stopped, and another tenant's up drops it (flushDrops, in serve).
func TestSettleKeepsDropsForAStoppedServer(t *testing.T) {
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	const shared = "shop-shared-1a2b"
	eng.containers = []engine.Container{
		{ID: "srv", Project: shared, Service: "db", Worktree: "/g", State: "exited"},
		{ID: "a-api", Project: "shop-a", Service: "api", Worktree: "/src/a", State: "exited"},
	}
	if err := store.Update(ctx, func(f *state.File) error {
		f.Projects = map[string]*state.Project{
			shared:   {Worktree: "/g", Shared: true, Tenants: map[string][]string{"shop-a": {"shop__a"}, "shop-b": {"shop__b"}}},
			"shop-a": {Worktree: "/src/a"},
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := settle(ctx, eng, slot{}, store, "shop-b"); err != nil {
		t.Fatal(err)
	}
	f, _ := store.Read(ctx)
	if sp := f.Projects[shared]; sp == nil || !slices.Equal(sp.Drop, []string{"shop__b"}) {
		t.Fatalf("b's database is not waiting to be dropped: %+v", sp)
	}
	for _, c := range eng.calls {
		if strings.HasPrefix(c, "exec") || strings.HasPrefix(c, "down") {
			t.Errorf("settle did %q with a stopped server and a tenant left", c)
		}
	}
}
