package envs

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/engine"
)

// fillEngine is a remote fake engine whose volumes remember what was
// unpacked into them.
type fillEngine struct {
	*fakeEngine
	volumes map[string]map[string]bool // volume -> files
	tokens  map[string]string
}

func (f *fillEngine) Fill(_ context.Context, o engine.FillOptions) (string, error) {
	if f.volumes[o.Volume] == nil {
		f.volumes[o.Volume] = map[string]bool{}
		f.tokens[o.Volume] = o.Token
	}
	tr := tar.NewReader(o.Tar)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return f.tokens[o.Volume], nil
		}
		if err != nil {
			return "", err
		}
		f.volumes[o.Volume][h.Name] = true
	}
}

func (f *fillEngine) RemoveVolume(_ context.Context, name string) error {
	delete(f.volumes, name)
	return nil
}

func (f *fillEngine) VolumeToken(_ context.Context, name string) (string, error) {
	if f.volumes[name] == nil {
		return "", nil
	}
	return f.tokens[name], nil
}

// A copy sends everything once, then only what changed; a deleted file
// makes a fresh volume with everything; a volume removed behind its back
// is filled again.
func TestRefreshSendsWhatChanged(t *testing.T) {
	ctx := context.Background()
	eng := &fillEngine{fakeEngine: newFake(), volumes: map[string]map[string]bool{}, tokens: map[string]string{}}
	eng.host = engine.HostOf("tcp://10.9.0.2:2375")
	e := fakeWorktree(t, eng, tempStore(t), "main", "api")
	os.WriteFile(filepath.Join(e.Worktree.Root, "a.go"), []byte("a"), 0o644)
	refresh := func(want int) {
		t.Helper()
		if n, err := e.Refresh(ctx); err != nil || n != want {
			t.Fatalf("refresh sent %d, %v; want %d", n, err, want)
		}
	}
	refresh(2) // compose.yaml, a.go
	refresh(0)
	os.WriteFile(filepath.Join(e.Worktree.Root, "b.go"), []byte("b"), 0o644)
	refresh(1)
	os.Remove(filepath.Join(e.Worktree.Root, "a.go"))
	refresh(2) // compose.yaml, b.go into the next generation
	gen1 := mirrorVolume(e.Project, mirrorKey("."), 1)
	if v := eng.volumes[gen1]; len(v) != 2 || v["a.go"] {
		t.Errorf("fresh volume holds %v", v)
	}
	delete(eng.volumes, gen1)
	refresh(2)
}

// On a remote engine a bind mount of a folder in the worktree mounts its
// copy, labelled with the copy's volume, which follows a new generation;
// one of a file becomes a config with its content and mode; one outside
// the worktree is left as written.
func TestMirrorMounts(t *testing.T) {
	ctx := context.Background()
	eng := &fillEngine{fakeEngine: newFake(), volumes: map[string]map[string]bool{}, tokens: map[string]string{}}
	eng.host = engine.HostOf("tcp://10.9.0.2:2375")
	e := fakeWorktree(t, eng, tempStore(t), "main", "api")
	root := e.Worktree.Root
	os.MkdirAll(filepath.Join(root, "web"), 0o755)
	os.WriteFile(filepath.Join(root, "web", "index.html"), []byte("hi"), 0o644)
	os.WriteFile(filepath.Join(root, "entry.sh"), []byte("#!/bin/sh\n"), 0o755)
	outside := t.TempDir()
	api := types.ServiceConfig{Name: "api"}
	api.Volumes = []types.ServiceVolumeConfig{
		{Type: types.VolumeTypeBind, Source: filepath.Join(root, "web"), Target: "/srv"},
		{Type: types.VolumeTypeBind, Source: filepath.Join(root, "entry.sh"), Target: "/entry.sh"},
		{Type: types.VolumeTypeBind, Source: outside, Target: "/outside"},
	}
	p := &types.Project{Name: e.Project, Services: types.Services{"api": api}}
	ms, err := e.mirrorMounts(ctx, p)
	if err != nil || len(ms) != 1 {
		t.Fatalf("mirrors %v, %v", ms, err)
	}
	s := p.Services["api"]
	if len(s.Volumes) != 2 || s.Volumes[0].Type != types.VolumeTypeVolume || s.Volumes[0].Source != ms[0].key || s.Volumes[1].Source != outside {
		t.Fatalf("volumes %+v", s.Volumes)
	}
	if len(s.Configs) != 1 || s.Configs[0].Target != "/entry.sh" || *s.Configs[0].Mode != 0o755 || p.Configs[s.Configs[0].Source].Content != "#!/bin/sh\n" {
		t.Fatalf("the file's config: %+v %+v", s.Configs, p.Configs)
	}
	if err := e.refresh(ctx, p, ms, nil); err != nil {
		t.Fatal(err)
	}
	first := p.Services["api"].Labels[copyLabel+ms[0].key]
	os.Remove(filepath.Join(root, "web", "index.html"))
	api.Volumes = api.Volumes[:1]
	api.Labels = nil
	p2 := &types.Project{Name: e.Project, Services: types.Services{"api": api}}
	ms, _ = e.mirrorMounts(ctx, p2)
	if err := e.refresh(ctx, p2, ms, nil); err != nil {
		t.Fatal(err)
	}
	second := p2.Services["api"].Labels[copyLabel+ms[0].key]
	if first == "" || second == first || p2.Volumes[ms[0].key].Name != second {
		t.Errorf("a new generation did not reach the service's configuration: %q -> %q (volume %q)", first, second, p2.Volumes[ms[0].key].Name)
	}
	if _, ok := eng.volumes[first]; ok {
		t.Errorf("the earlier generation %s was kept", first)
	}
}
