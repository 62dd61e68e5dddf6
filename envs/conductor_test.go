package envs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/ports"
	"github.com/wtenv/wtenv/envs/state"
	"github.com/wtenv/wtenv/envs/worktree"
)

// conductorRange finds ten consecutive ports free on this machine outside
// the test's WTENV_PORT_RANGE, as Conductor would reserve them.
func conductorRange(t *testing.T) int {
	t.Helper()
	for start := 41000; start < 49000; start += conductorSpan {
		ok := true
		for p := start; p < start+conductorSpan && ok; p++ {
			ok = ports.HostFree(p, false)
		}
		if ok {
			return start
		}
	}
	t.Skip("no ten free ports between 41000 and 49000 on this machine")
	return 0
}

func tcpRefs(n int) []compose.PortRef {
	refs := make([]compose.PortRef, n)
	for i := range refs {
		refs[i] = compose.PortRef{Protocols: []string{"tcp"}}
	}
	return refs
}

func recordedBlock(t *testing.T, e *Env) *state.PortBlock {
	t.Helper()
	f, err := e.store.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return currentBlock(f, e.Project)
}

// With CONDUCTOR_PORT set, a stack of up to ten ports publishes on the
// ports Conductor reserved, records them as its block, keeps them when a
// later run lacks the variable, and moves when Conductor names others.
func TestConductorPortIsTheStacksBlock(t *testing.T) {
	ctx := context.Background()
	t.Setenv("WTENV_PORT_RANGE", "30000-30063")
	start := conductorRange(t)
	t.Setenv(conductorPortVar, strconv.Itoa(start))
	e := fakeWorktree(t, newFake(), tempStore(t), "main", "api")
	t.Chdir(e.Worktree.Root) // Conductor runs wtenv in the workspace

	got, note, err := e.assignPortsNoted(ctx, tcpRefs(3))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{start, start + 1, start + 2}; !reflect.DeepEqual(got, want) || !note.Conductor || note.Warning != "" {
		t.Fatalf("ports %v (note %+v), want %v from CONDUCTOR_PORT", got, note, want)
	}
	if b := recordedBlock(t, e); b == nil || *b != (state.PortBlock{Start: start, Size: conductorSpan}) {
		t.Errorf("recorded block %+v, want Conductor's ten ports at %d", b, start)
	}

	// A terminal outside Conductor: the stack keeps its ports.
	t.Setenv(conductorPortVar, "")
	if again, err := e.assignPorts(ctx, tcpRefs(3)); err != nil || again[0] != start {
		t.Errorf("without CONDUCTOR_PORT the ports moved: %v %v", again, err)
	}
	// Eleven ports do not fit in Conductor's ten: wtenv's own block.
	if more, err := e.assignPorts(ctx, tcpRefs(11)); err != nil || more[0] < 30000 || more[0] > 30063 {
		t.Errorf("eleven ports: %v %v, want a block of WTENV_PORT_RANGE", more, err)
	}
}

// CONDUCTOR_PORT set but unusable: wtenv's own block, and a warning that
// names the variable and the reason.
func TestConductorPortFallsBackWithAWarning(t *testing.T) {
	ctx := context.Background()
	t.Setenv("WTENV_PORT_RANGE", "30000-30063")
	start := conductorRange(t)
	t.Setenv(conductorPortVar, strconv.Itoa(start))
	eng, store := newFake(), tempStore(t)
	e := fakeWorktree(t, eng, store, "main", "api")
	t.Chdir(e.Worktree.Root)

	for _, tc := range []struct {
		name  string
		n     int
		setup func()
		want  string
	}{
		{"more than ten ports", 12, func() {}, "publishes 12 host ports and Conductor reserves 10"},
		{"a port taken by another stack", 2, func() { eng.published[start+1] = other }, "port " + strconv.Itoa(start+1) + " is in use"},
		{"another stack's block", 2, func() {
			eng.published = map[int]engine.Scope{}
			err := store.Update(ctx, func(f *state.File) error {
				f.Projects["shop-fix-07be"] = &state.Project{Worktree: t.TempDir(), Ports: &state.PortBlock{Start: start + 5, Size: 32}}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "overlap " + strconv.Itoa(start+5) + "-" + strconv.Itoa(start+36) + ", the ports of stack shop-fix-07be"},
	} {
		tc.setup()
		got, note, err := e.assignPortsNoted(ctx, tcpRefs(tc.n))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got[0] < 30000 || got[0] > 30063 || note.Conductor {
			t.Errorf("%s: ports %v, want wtenv's own block", tc.name, got)
		}
		if !strings.Contains(note.Warning, "CONDUCTOR_PORT="+strconv.Itoa(start)+" is set") || !strings.Contains(note.Warning, tc.want) {
			t.Errorf("%s: warning %q lacks %q", tc.name, note.Warning, tc.want)
		}
	}
}

func TestInvalidConductorPortIsAConfigurationError(t *testing.T) {
	e := fakeWorktree(t, newFake(), tempStore(t), "main", "api")
	for _, v := range []string{"abc", "0", "-3", "65530", "4000x"} {
		t.Setenv(conductorPortVar, v)
		_, err := e.assignPorts(context.Background(), tcpRefs(1))
		if err == nil || KindOf(err) != KindConfig || !strings.Contains(err.Error(), `CONDUCTOR_PORT="`+v+`"`) {
			t.Errorf("CONDUCTOR_PORT=%q: %v (kind %q), want a configuration error naming it", v, err, KindOf(err))
		}
		if errors.Is(err, compose.ErrInvalidConfig) && strings.Contains(err.Error(), "wtenv.yaml") {
			t.Errorf("CONDUCTOR_PORT=%q: the error blames wtenv.yaml: %v", v, err)
		}
	}
}

// The shared stack serves every worktree: no workspace's ports are its.
func TestSharedStackIgnoresConductorPort(t *testing.T) {
	t.Setenv("WTENV_PORT_RANGE", "30000-30063")
	t.Setenv(conductorPortVar, strconv.Itoa(conductorRange(t)))
	common := t.TempDir()
	e := newEnv(worktree.Worktree{Root: common, CommonDir: common, Repo: "shop"}, newFake(), tempStore(t))
	got, note, err := e.assignPortsNoted(context.Background(), tcpRefs(1))
	if err != nil || got[0] < 30000 || got[0] > 30063 || note != (portNote{}) {
		t.Errorf("shared stack: %v %+v %v, want wtenv's own block and no note", got, note, err)
	}
}

// A process in one workspace acting on another worktree (--worktree, a
// server's worktree argument) leaves the workspace's ports alone.
func TestConductorPortIsTheWorkspaces(t *testing.T) {
	t.Setenv("WTENV_PORT_RANGE", "30000-30063")
	t.Setenv(conductorPortVar, strconv.Itoa(conductorRange(t)))
	e := fakeWorktree(t, newFake(), tempStore(t), "main", "api")
	t.Chdir(t.TempDir())
	got, note, err := e.assignPortsNoted(context.Background(), tcpRefs(2))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] < 30000 || got[0] > 30063 || note.Conductor || !strings.Contains(note.Warning, "set for the workspace this process runs in, not for "+e.Worktree.Root) {
		t.Errorf("ports %v, note %+v: want wtenv's own block and a warning", got, note)
	}
}

// config shows where the ports come from, and why CONDUCTOR_PORT went
// unused when it did.
func TestResolveNamesConductorPorts(t *testing.T) {
	t.Setenv("WTENV_PORT_RANGE", "30000-30063")
	start := conductorRange(t)
	t.Setenv(conductorPortVar, strconv.Itoa(start))
	e := fakeWorktree(t, newFake(), tempStore(t), "main")
	t.Chdir(e.Worktree.Root)
	file := "services:\n  api:\n    image: busybox\n    ports: [\"8080:8080\"]\n"
	if err := os.WriteFile(filepath.Join(e.Worktree.Root, "compose.yaml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := e.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(r.Rewrites, "\n")
	if !strings.Contains(all, "the ports Conductor reserved") || !strings.Contains(all, "127.0.0.1:"+strconv.Itoa(start)) {
		t.Errorf("rewrites do not name Conductor's ports:\n%s", all)
	}
	if f, _ := e.store.Read(context.Background()); currentBlock(f, e.Project) != nil {
		t.Error("config recorded a port block")
	}
	many := "services:\n  api:\n    image: busybox\n    ports: [\"8080-8090:8080-8090\"]\n"
	if err := os.WriteFile(filepath.Join(e.Worktree.Root, "compose.yaml"), []byte(many), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err = e.Resolve(context.Background()); err != nil || !strings.Contains(strings.Join(r.Warnings, "\n"), "publishes 11 host ports") {
		t.Errorf("eleven ports: warnings %q %v", r.Warnings, err)
	}
}

// A stack whose block has a port taken moves to another block, and up and
// status say which port and from where to where.
func TestMovedPortsAreReported(t *testing.T) {
	ctx := context.Background()
	t.Setenv("WTENV_PORT_RANGE", "30000-30127")
	t.Setenv(conductorPortVar, "")
	eng := newFake()
	e := fakeWorktree(t, eng, tempStore(t), "main", "api")
	first, note, err := e.assignPortsNoted(ctx, tcpRefs(2))
	if err != nil || note.Moved != "" {
		t.Fatalf("first block: %v %v %+v", first, err, note)
	}
	eng.published[first[1]] = other
	moved, note, err := e.assignPortsNoted(ctx, tcpRefs(2))
	if err != nil {
		t.Fatal(err)
	}
	want := "port " + strconv.Itoa(first[1]) + " is in use"
	if moved[0] == first[0] || !strings.Contains(note.Warning, want) || !strings.Contains(note.Moved, "moved from "+strconv.Itoa(first[0])) {
		t.Fatalf("ports %v → %v, note %+v", first, moved, note)
	}
	st, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(st.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
		t.Errorf("status warnings %q lack the move", st.Warnings)
	}
	// An up that keeps the ports clears it.
	if _, note, err := e.assignPortsNoted(ctx, tcpRefs(2)); err != nil || note.Moved != "" {
		t.Fatalf("third: %v %+v", err, note)
	}
	if st, _ := e.Status(ctx); slices.ContainsFunc(st.Warnings, func(w string) bool { return strings.Contains(w, "moved") }) {
		t.Errorf("status still says the ports moved: %q", st.Warnings)
	}
}
