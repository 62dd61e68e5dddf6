package filesync

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

func write(t *testing.T, root, rel, body string) {
	t.Helper()
	path := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func keys(m Manifest) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Walk leaves out .git, .wtenv and what .gitignore files (at any depth)
// and .dockerignore exclude, and keeps symlinks as links.
func TestWalkHonoursIgnoreFiles(t *testing.T) {
	root := t.TempDir()
	write(t, root, "main.go", "package main")
	write(t, root, ".gitignore", "*.log\nbuild/\n")
	write(t, root, ".dockerignore", "secrets\n")
	write(t, root, "app.log", "x")
	write(t, root, "build/out", "x")
	write(t, root, "secrets/key", "x")
	write(t, root, "internal/.gitignore", "gen.go\n")
	write(t, root, "internal/gen.go", "x")
	write(t, root, "internal/store.go", "package internal")
	write(t, root, ".git/HEAD", "ref")
	write(t, root, ".wtenv/logs/unit.log", "x")
	if err := os.Symlink("main.go", filepath.Join(root, "link.go")); err != nil {
		t.Fatal(err)
	}
	m, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".dockerignore", ".gitignore", "internal/.gitignore", "internal/store.go", "link.go", "main.go"}
	if got := keys(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("walk = %q, want %q", got, want)
	}
	if m["link.go"].Link != "main.go" {
		t.Errorf("symlink entry %+v", m["link.go"])
	}
}

// Diff names new and changed files, and gone ones; Tar carries the
// changed ones with their content and modes.
func TestDiffAndTar(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.go", "a")
	write(t, root, "b.go", "b")
	write(t, root, "dir/c.go", "c")
	old, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if changed, gone := Diff(old, old); len(changed)+len(gone) != 0 {
		t.Fatalf("no change: %q %q", changed, gone)
	}
	write(t, root, "a.go", "a2")
	os.Chtimes(filepath.Join(root, "a.go"), time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	os.Remove(filepath.Join(root, "b.go"))
	write(t, root, "dir/d.go", "d")
	os.Chmod(filepath.Join(root, "dir/d.go"), 0o755)
	cur, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	changed, gone := Diff(old, cur)
	if !reflect.DeepEqual(changed, []string{"a.go", "dir/d.go"}) || !reflect.DeepEqual(gone, []string{"b.go"}) {
		t.Fatalf("diff: changed %q gone %q", changed, gone)
	}
	var b bytes.Buffer
	if err := Tar(&b, root, cur, changed); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&b)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got[h.Name] = string(body)
		if h.Name == "dir/d.go" && h.FileInfo().Mode().Perm() != 0o755 {
			t.Errorf("mode of d.go: %v", h.FileInfo().Mode())
		}
	}
	if !reflect.DeepEqual(got, map[string]string{"a.go": "a2", "dir/d.go": "d"}) {
		t.Errorf("tar holds %q", got)
	}
}
