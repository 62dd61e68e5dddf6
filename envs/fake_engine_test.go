package envs

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/engine"
)

// fakeEngine reports what a test sets, for the logic above the engine
// seam: status assembly, admission, port choice, gc verdicts. It runs no
// container; the Docker implementation's own tests run the real engine.
type fakeEngine struct {
	mu         sync.Mutex
	host       engine.Host
	memTotal   int64
	containers []engine.Container
	owners     []engine.Owner
	published  map[int]engine.Scope
	// onSnapshot runs inside each Snapshot call, before it answers.
	onSnapshot func()
	// calls records the verbs that change the engine, in order.
	calls []string
}

func newFake() *fakeEngine {
	return &fakeEngine{host: engine.HostOf("unix:///var/run/docker.sock"), memTotal: 16 << 30, published: map[int]engine.Scope{}}
}

func (f *fakeEngine) Host() engine.Host { return f.host }

func (f *fakeEngine) MemTotal(context.Context) (int64, error) { return f.memTotal, nil }

func (f *fakeEngine) Snapshot(_ context.Context, _ engine.Scope) (engine.Snapshot, error) {
	if f.onSnapshot != nil {
		f.onSnapshot()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return engine.Snapshot{At: time.Now(), Containers: append([]engine.Container(nil), f.containers...)}, nil
}

func (f *fakeEngine) PublishedPorts(context.Context) (map[int]engine.Scope, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]engine.Scope{}
	for k, v := range f.published {
		out[k] = v
	}
	return out, nil
}

func (f *fakeEngine) Owners(context.Context) ([]engine.Owner, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Owner(nil), f.owners...), nil
}

// Up "runs" every service of p: one running container each, labelled as
// the Docker implementation labels them.
func (f *fakeEngine) Up(_ context.Context, p *types.Project, meta engine.Meta, _ engine.UpOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "up "+meta.Project)
	for _, name := range p.ServiceNames() {
		if i := slices.IndexFunc(f.containers, func(c engine.Container) bool { return c.ID == meta.Project+"-"+name }); i >= 0 {
			f.containers[i].State, f.containers[i].MemoryBytes = "running", 10<<20
			continue
		}
		f.containers = append(f.containers, engine.Container{
			ID: meta.Project + "-" + name, Name: meta.Project + "-" + name + "-1",
			Project: meta.Project, Service: name, Worktree: meta.Worktree, Branch: meta.Branch, Host: meta.Host,
			State: "running", MemoryBytes: 10 << 20,
		})
	}
	return nil
}

func (f *fakeEngine) Down(_ context.Context, scope engine.Scope, purge bool) (engine.DownResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if purge {
		f.calls = append(f.calls, "down --purge "+scope.Project)
	} else {
		f.calls = append(f.calls, "down "+scope.Project)
	}
	var r engine.DownResult
	kept := f.containers[:0]
	for _, c := range f.containers {
		if c.In(scope) {
			r.Containers++
			continue
		}
		kept = append(kept, c)
	}
	f.containers = kept
	return r, nil
}

// Stop "stops" the scope's running containers: exited, holding nothing.
func (f *fakeEngine) Stop(_ context.Context, scope engine.Scope) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "stop "+scope.Project)
	n := 0
	for i, c := range f.containers {
		if c.In(scope) && !c.OneOff && c.State == "running" {
			f.containers[i].State, f.containers[i].MemoryBytes = "exited", 0
			n++
		}
	}
	return n, nil
}

func (f *fakeEngine) Logs(context.Context, engine.Scope, string, int) (string, error) {
	return "", nil
}

func (f *fakeEngine) RunOneOff(context.Context, *types.Project, engine.Meta, engine.RunOptions) (int, error) {
	return 0, nil
}

func (f *fakeEngine) RemoveOneOff(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+id)
	return nil
}

func (f *fakeEngine) Close() error { return nil }

// Exec records the command's last argument (psql's SQL) and succeeds.
func (f *fakeEngine) Exec(_ context.Context, id, _ string, cmd []string) (string, string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "exec "+id+": "+cmd[len(cmd)-1])
	return "", "", 0, nil
}

func (f *fakeEngine) Join(context.Context, string, string, []string) error { return nil }
