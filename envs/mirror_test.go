package envs

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

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
