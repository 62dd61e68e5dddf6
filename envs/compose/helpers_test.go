package compose

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// writeFiles creates each file (path relative to dir) with its content.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// load writes files into a fresh directory and loads its compose project
// under the name "proj".
func load(t *testing.T, files map[string]string, cfg Config) (*types.Project, string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	p, err := Load(context.Background(), dir, cfg, "proj")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p, dir
}
