package envs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/pool"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// testPool is two fake engines named a and b, with the budgets given, as
// an engines file names them; dial reaches the ones not marked dead.
type testPool struct {
	pool  *pool.Pool
	fakes map[string]*fakeEngine // by name
	dead  map[string]bool
}

func newTestPool(t *testing.T, budgetA, budgetB string) *testPool {
	t.Helper()
	text := fmt.Sprintf("engines:\n  - name: a\n    host: tcp://10.9.0.1:2375\n    budget: %s\n  - name: b\n    host: tcp://10.9.0.2:2375\n    budget: %s\n", budgetA, budgetB)
	pl, err := pool.Parse("engines.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	tp := &testPool{pool: pl, fakes: map[string]*fakeEngine{}, dead: map[string]bool{}}
	for _, pe := range pl.Engines {
		f := newFake()
		f.host = engine.HostOf(pe.Host)
		tp.fakes[pe.Name] = f
	}
	old := dial
	dial = func(_ context.Context, host string) (Engine, error) {
		for _, pe := range pl.Engines {
			if pe.Host == host && !tp.dead[pe.Name] {
				return tp.fakes[pe.Name], nil
			}
		}
		return nil, fmt.Errorf("%w at %s: connection refused", engine.ErrUnreachable, host)
	}
	t.Cleanup(func() { dial = old })
	return tp
}

// worktree makes a worktree whose wtenv.yaml says yaml, bound to the
// pool as Open binds one.
func (tp *testPool) worktree(t *testing.T, store *state.Store, branch, yaml string) *Env {
	t.Helper()
	e := fakeWorktree(t, nil, store, branch, "api")
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(e.Worktree.Root, "wtenv.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.pool = tp.pool
	if err := e.bind(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// hold makes engine name run another machine's stack measured at bytes.
func (tp *testPool) hold(name, project string, bytes int64) {
	f := tp.fakes[name]
	f.containers = append(f.containers, engine.Container{ID: project, Name: project + "-api-1", Project: project, Service: "api", Worktree: "/elsewhere/" + project, Host: "another", State: "running", MemoryBytes: bytes})
	f.owners = append(f.owners, engine.Owner{Project: project, Worktree: "/elsewhere/" + project, Host: "another"})
}

// A new stack goes to the engine with the most free budget that can hold
// it, is recorded there, and stays there: a later up does not move it
// when another engine frees up.
func TestPlacementByFreeBudget(t *testing.T) {
	ctx := context.Background()
	tp := newTestPool(t, "1GiB", "3GiB")
	tp.hold("a", "busy", 900<<20)
	store := tempStore(t)
	e := tp.worktree(t, store, "main", "memory:\n  estimate: 512MiB\n")
	stale := fakeWorktree(t, nil, store, "main", "api")
	stale.Worktree, stale.Project, stale.pool = e.Worktree, e.Project, tp.pool
	if err := stale.bind(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.EngineRef().Name; got != "a" {
		t.Fatalf("before up a worktree binds to the pool's first engine that answers, got %q", got)
	}
	var notes []string
	st, err := e.Up(ctx, UpOptions{Progress: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine.Name != "b" || st.Engine.Host != "tcp://10.9.0.2:2375" || st.State != stack.StateRunning {
		t.Fatalf("placed on %+v (%s), want b running; notes %q", st.Engine, st.State, notes)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "placed on engine b") {
		t.Errorf("no placement note in %q", notes)
	}
	f, _ := store.Read(ctx)
	if got := f.Projects[e.Project].Engine; got != "b" {
		t.Errorf("state records engine %q, want b", got)
	}
	if len(tp.fakes["a"].calls) != 0 {
		t.Errorf("engine a was changed: %q", tp.fakes["a"].calls)
	}
	// Engine a empties and grows; the stack stays where its volumes are,
	// also for an Env opened before it was placed (another process, a
	// server bound earlier), which follows it there.
	tp.fakes["a"].containers = nil
	tp.pool.Engines[0].Budget = budget.Spec{Bytes: 16 << 30}
	if got := stale.EngineRef().Name; got != "a" {
		t.Fatalf("the stale Env is bound to %q", got)
	}
	if st, err := stale.Up(ctx, UpOptions{}); err != nil || st.Engine.Name != "b" {
		t.Fatalf("up from an Env opened before the placement: engine %q, %v; want it to stay on b", st.Engine.Name, err)
	}
	if n := len(tp.fakes["a"].calls); n != 0 {
		t.Errorf("the stale Env changed engine a: %q", tp.fakes["a"].calls)
	}
	again := stale
	// Pinning it elsewhere now is refused with the way out.
	os.WriteFile(filepath.Join(e.Worktree.Root, "wtenv.yaml"), []byte("engine: a\n"), 0o644)
	if _, err := again.Up(ctx, UpOptions{}); !errors.Is(err, ErrInvalidArguments) || !strings.Contains(err.Error(), "down --purge") {
		t.Errorf("pinned elsewhere: %v", err)
	}
}

// engine: in wtenv.yaml pins the stack, even to the fuller engine; a name
// the engines file does not list is refused naming the ones it does.
func TestPlacementPinned(t *testing.T) {
	ctx := context.Background()
	tp := newTestPool(t, "4GiB", "8GiB")
	store := tempStore(t)
	e := tp.worktree(t, store, "pinned", "engine: a\nmemory:\n  estimate: 64MiB\n")
	if st, err := e.Up(ctx, UpOptions{}); err != nil || st.Engine.Name != "a" {
		t.Fatalf("pinned up: %q %v", st.Engine.Name, err)
	}
	bad := tp.worktree(t, store, "typo", "engine: bigbox\n")
	_, err := bad.Up(ctx, UpOptions{})
	if !errors.Is(err, ErrInvalidArguments) || !strings.Contains(err.Error(), `"bigbox"`) || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("unknown engine: %v", err)
	}
}

// An engine that does not answer is skipped at placement with a note; a
// stack placed on it reports unreachable, never absent, and an up names
// the engine to start.
func TestPlacementUnreachable(t *testing.T) {
	ctx := context.Background()
	tp := newTestPool(t, "1GiB", "8GiB")
	store := tempStore(t)
	e := tp.worktree(t, store, "main", "memory:\n  estimate: 64MiB\n")
	if st, err := e.Up(ctx, UpOptions{}); err != nil || st.Engine.Name != "b" {
		t.Fatalf("up: %q %v", st.Engine.Name, err)
	}
	tp.dead["b"] = true
	other := tp.worktree(t, store, "other", "memory:\n  estimate: 64MiB\n")
	var notes []string
	if st, err := other.Up(ctx, UpOptions{Progress: func(s string) { notes = append(notes, s) }}); err != nil || st.Engine.Name != "a" {
		t.Fatalf("up with b down: %q %v", st.Engine.Name, err)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "engine b (tcp://10.9.0.2:2375) does not answer: skipped") {
		t.Errorf("notes %q", notes)
	}
	// A new process for the first worktree: its engine does not answer.
	again := fakeWorktree(t, nil, store, "main", "api")
	again.Worktree, again.Project, again.pool = e.Worktree, e.Project, tp.pool
	if err := again.bind(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := again.Status(ctx)
	if err != nil || st.State != stack.StateUnreachable || st.Engine.Name != "b" {
		t.Fatalf("status: %s on %q, %v; want unreachable on b", st.State, st.Engine.Name, err)
	}
	_, err = again.Up(ctx, UpOptions{})
	if !errors.Is(err, engine.ErrUnreachable) || !strings.Contains(err.Error(), `engine "b"`) {
		t.Errorf("up on an engine that does not answer: %v", err)
	}
	// ls lists every engine's stacks, the silent engine's as unreachable.
	l, err := listPool(ctx, tp.pool, dialPool(ctx, tp.pool), store)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range l.Stacks {
		got[s.Project] = s.Engine + " " + s.State
	}
	if got[e.Project] != "b unreachable" || got[other.Project] != "a running" {
		t.Errorf("list: %v", got)
	}
	if len(l.Engines) != 2 || l.Engines[1].Reachable || l.Engines[1].Mine != 1 || !l.Engines[0].Reachable {
		t.Errorf("engines: %+v", l.Engines)
	}
}

// Reservations count only on the engine they were placed on; entries made
// before the pool count on its first engine.
func TestSlotHas(t *testing.T) {
	pl := &pool.Pool{Engines: []pool.Engine{{Name: "a"}, {Name: "b"}}}
	a, b := slotOf(pl, pl.Engines[0]), slotOf(pl, pl.Engines[1])
	for _, c := range []struct {
		engine string
		a, b   bool
	}{{"a", true, false}, {"b", false, true}, {"", true, false}, {"gone", false, false}} {
		p := &state.Project{Engine: c.engine}
		if a.has(p) != c.a || b.has(p) != c.b {
			t.Errorf("entry on %q: a %v b %v", c.engine, a.has(p), b.has(p))
		}
	}
	if !(slot{}).has(&state.Project{Engine: "x"}) {
		t.Error("without a pool every entry counts")
	}
}

// An engine that does not answer is no engine: a nil Engine, never a nil
// *engine.Docker inside a non-nil one (whose methods would panic).
func TestDialFailureIsNil(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	eng, err := dial(ctx, "tcp://127.0.0.1:1")
	if err == nil || eng != nil || !errors.Is(err, engine.ErrUnreachable) {
		t.Errorf("dial of nothing: %v, %v", eng, err)
	}
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	if eng, err := connect(ctx); err == nil || eng != nil {
		t.Errorf("connect to nothing: %v, %v", eng, err)
	}
}

// Forwarding relays the stack's own published ports, from a remote engine
// only, to the engine's address.
func TestForwardTargets(t *testing.T) {
	ctx := context.Background()
	eng := newFake()
	e := fakeWorktree(t, eng, tempStore(t), "main", "api")
	eng.published = map[int]engine.Scope{21000: e.scope(), 21001: e.scope(), 22000: {Project: "other"}}
	if got := e.forwardTargets(ctx); got != nil {
		t.Errorf("a local engine forwards %v", got)
	}
	eng.host = engine.HostOf("tcp://10.9.0.2:2375")
	got := e.forwardTargets(ctx)
	if len(got) != 2 || got[21000] != "10.9.0.2:21000" || got[21001] != "10.9.0.2:21001" {
		t.Errorf("targets %v", got)
	}
}
