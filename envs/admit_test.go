package envs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/budget"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
	"github.com/wtenv/wtenv/envs/worktree"
)

// fakeWorktree makes a directory with a compose file of the given services
// (no git needed: the Env is built around it directly) and an Env on eng
// with a state store of its own.
func fakeWorktree(t *testing.T, eng Engine, store *state.Store, branch string, services ...string) *Env {
	t.Helper()
	root := filepath.Join(t.TempDir(), "shop-"+strings.ReplaceAll(branch, "/", "-"))
	var b strings.Builder
	b.WriteString("services:\n")
	for _, s := range services {
		fmt.Fprintf(&b, "  %s:\n    image: busybox\n", s)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return newEnv(worktree.Worktree{Root: root, Branch: branch, Repo: "shop"}, eng, store)
}

func tempStore(t *testing.T) *state.Store {
	t.Helper()
	s, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHoldersReadsWithoutWriting(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	before, after := at.Add(-time.Minute), at.Add(time.Second)
	f := &state.File{Projects: map[string]*state.Project{
		"running":         {Worktree: "/w/running", Reserved: 300, UpdatedAt: before},
		"stopped":         {Worktree: "/w/stopped", Reserved: 300, UpdatedAt: before},
		"starting":        {Worktree: "/w/starting", Reserved: 200, Starting: true, UpdatedAt: before},
		"dead-up":         {Worktree: "/w/dead-up", Reserved: 200, Starting: true, UpdatedAt: before},
		"vanished":        {Worktree: "/w/vanished", Reserved: 100, UpdatedAt: before},
		"started-since":   {Worktree: "/w/started-since", Reserved: 400, UpdatedAt: after},
		"released-since":  {Worktree: "/w/released-since", UpdatedAt: after},
		"self":            {Worktree: "/w/self", Reserved: 999, Starting: true, UpdatedAt: before},
		"never-reserved":  {Worktree: "/w/never"},
		"measured-bigger": {Worktree: "/w/measured-bigger", Reserved: 10, UpdatedAt: before},
	}}
	stacks := []stack.Summary{
		{Project: "running", State: stack.StateRunning, MemoryBytes: 100},
		{Project: "stopped", State: stack.StateStopped},
		{Project: "released-since", State: stack.StateRunning, MemoryBytes: 50},
		{Project: "self", State: stack.StateRunning, MemoryBytes: 5},
		{Project: "measured-bigger", State: stack.StatePartial, MemoryBytes: 70},
		{Project: "by-hand", State: stack.StateRunning, MemoryBytes: 30}, // no state entry
	}
	busy := func(p string) bool { return p == "starting" || p == "self" }
	orig := cloneFile(f)

	hs, stale := holders(f, stacks, at, "self", busy, slot{})
	got := map[string]int64{}
	for _, h := range hs {
		got[h.Project] = h.Holds()
	}
	want := map[string]int64{"running": 300, "starting": 200, "started-since": 400, "measured-bigger": 70, "by-hand": 30}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("holders hold %v, want %v", got, want)
	}
	if want := []string{"dead-up", "vanished"}; !sameSet(stale, want) {
		t.Errorf("stale %v, want %v", stale, want)
	}
	if !reflect.DeepEqual(f, orig) {
		t.Errorf("holders changed the state it read")
	}
}

func cloneFile(f *state.File) *state.File {
	out := &state.File{Version: f.Version, Projects: map[string]*state.Project{}}
	for k, v := range f.Projects {
		c := *v
		out.Projects[k] = &c
	}
	return out
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// Admission reads the engine before it takes the state file's lock: a
// slow engine never holds up every other wtenv process on the machine.
func TestAdmitReadsTheEngineOutsideTheStateLock(t *testing.T) {
	eng, store := newFake(), tempStore(t)
	e := fakeWorktree(t, eng, store, "main", "api")
	reads, locked := 0, 0
	eng.onSnapshot = func() {
		reads++
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if store.Update(ctx, func(*state.File) error { return nil }) != nil {
			locked++
		}
	}
	if _, err := e.Up(context.Background(), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if reads == 0 || locked > 0 {
		t.Fatalf("%d of %d reads of the engine happened under the state file's lock", locked, reads)
	}
}

// With room for one stack, the second is refused before the engine is
// asked to create anything, naming the holder and the next actions; a
// stack whose containers vanished stops counting, and admission clears its
// reservation.
func TestAdmissionRefusesAndReleases(t *testing.T) {
	t.Setenv(budget.EnvVar, "768MiB") // room for one two-service stack at the default 256 MiB a service
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	a := fakeWorktree(t, eng, store, "main", "api", "db")
	b := fakeWorktree(t, eng, store, "feature/b", "api", "db")
	if _, err := a.Up(ctx, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Up(ctx, UpOptions{})
	var refused *budget.RefusedError
	if !errors.As(err, &refused) || KindOf(err) != KindBudgetRefused {
		t.Fatalf("second up: %v, want a refusal", err)
	}
	for _, want := range []string{a.Project, a.Worktree.Root, "env_sleep", "wtenv sleep --worktree", budget.EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	if n := len(eng.calls); n != 1 {
		t.Errorf("engine calls %v: a refused up must create nothing", eng.calls)
	}
	st, err := a.Status(ctx)
	if err != nil || st.Budget.LimitBytes != 768<<20 || st.Budget.UsedBytes != 512<<20 {
		t.Errorf("budget in status: %+v %v", st.Budget, err)
	}

	// a's containers are removed by hand (docker rm -f): its reservation no
	// longer counts, and the next admission clears it.
	eng.containers = nil
	if _, err := b.Up(ctx, UpOptions{}); err != nil {
		t.Fatalf("a stack whose containers vanished still counts: %v", err)
	}
	f, err := store.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.Projects[a.Project]; p.Reserved != 0 || p.Starting {
		t.Errorf("the vanished stack keeps its reservation: %+v", p)
	}
	if p := f.Projects[b.Project]; p.Reserved != 512<<20 || p.Starting {
		t.Errorf("the admitted stack: %+v, want its need reserved and not starting", p)
	}

	// Down releases the reservation; the measured peak stays.
	if _, err := b.Down(ctx, false); err != nil {
		t.Fatal(err)
	}
	f, _ = store.Read(ctx)
	if p := f.Projects[b.Project]; p.Reserved != 0 || p.PeakMemory != 20<<20 {
		t.Errorf("after down: %+v, want no reservation and the 20 MiB peak", p)
	}
}

// A status only reads: it records a grown peak, never a cleared
// reservation.
func TestStatusDoesNotWriteTheBudget(t *testing.T) {
	ctx := context.Background()
	eng, store := newFake(), tempStore(t)
	e := fakeWorktree(t, eng, store, "main", "api")
	err := store.Update(ctx, func(f *state.File) error {
		f.Projects = map[string]*state.Project{"gone": {Worktree: "/w/gone", Reserved: 1 << 30, UpdatedAt: time.Now().Add(-time.Hour)}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := store.Read(ctx)
	st, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Budget.UsedBytes != 0 {
		t.Errorf("a vanished reservation counts in status: %+v", st.Budget)
	}
	// Status records only that it used its own stack (the idle clock).
	after, _ := store.Read(ctx)
	if !reflect.DeepEqual(after.Projects["gone"], before.Projects["gone"]) {
		t.Errorf("status changed another project's entry: %+v -> %+v", before.Projects["gone"], after.Projects["gone"])
	}
	if self := after.Projects[e.Project]; self == nil || time.Since(self.TouchedAt) > time.Minute || self.Reserved != 0 {
		t.Errorf("status did not just touch its own entry: %+v", self)
	}
}

// Admission is atomic: goroutines admitting at once into room for three
// admit exactly three, each seeing the others' reservations.
func TestAdmissionIsAtomic(t *testing.T) {
	t.Setenv(budget.EnvVar, fmt.Sprint(3*256<<20+100<<20))
	eng, store := newFake(), tempStore(t)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		e := fakeWorktree(t, eng, store, fmt.Sprintf("agent/%d", i), "api")
		go func() {
			// Hold the project lock across admission and the rest of the
			// up, as Up does, so a starting reservation counts.
			unlock, err := e.lockProject(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer unlock()
			p, _, _, err := e.load(context.Background())
			if err == nil {
				_, err = e.admit(context.Background(), p, nil)
			}
			time.Sleep(300 * time.Millisecond) // still starting while the others decide
			errs <- err
		}()
	}
	admitted, refused := 0, 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			admitted++
		case errors.Is(err, budget.ErrRefused):
			refused++
		default:
			t.Error(err)
		}
	}
	if admitted != 3 || refused != n-3 {
		t.Errorf("%d admitted, %d refused; want 3 and %d", admitted, refused, n-3)
	}
}

var _ Engine = (*fakeEngine)(nil)

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Kind
	}{
		{nil, ""},
		{fmt.Errorf("up: %w", context.Canceled), KindCancelled},
		{fmt.Errorf("%w: pulling x: %w", engine.ErrImage, context.Canceled), KindCancelled},
		{fmt.Errorf("%w (%w): service api", engine.ErrUnhealthy, engine.ErrTimedOut), KindTimedOut},
		{budget.Refusal(budget.Decision{Limit: 1, Need: 2}, "p", budget.RuleDefault, time.Now()), KindBudgetRefused},
		{fmt.Errorf("%w at unix:///x", engine.ErrUnreachable), KindUnreachable},
		{fmt.Errorf("%w: x", ErrUnknownService), KindUnknownService},
		{worktree.ErrNotWorktree, KindConfig},
		{fmt.Errorf("%w: loading compose.yaml: bad", compose.ErrInvalidCompose), KindConfig},
		{ErrInvalidArguments, KindInvalidArguments},
		{fmt.Errorf("%w: 1 failed", ErrTestsFailed), KindTestsFailed},
		{fmt.Errorf("%w: build failed", engine.ErrImage), KindImage},
		{fmt.Errorf("%w: exited", engine.ErrUnhealthy), KindUnhealthy},
		{errors.New("disk on fire"), KindFailed},
	} {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
