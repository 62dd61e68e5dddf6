package compose

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDefaultCaches(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		argv []string
		want []string
	}{
		{"not a toolchain wtenv knows", map[string]string{"PATH": "/usr/bin"}, []string{"npm", "test"}, nil},
		{"go by its command", nil, []string{"go", "test", "./..."}, []string{"/root/.cache/go-build", "/go/pkg/mod"}},
		{"the official Go image", map[string]string{"GOLANG_VERSION": "1.26", "GOPATH": "/go"}, []string{"sh", "-c", "make test"}, []string{"/root/.cache/go-build", "/go/pkg/mod"}},
		{"GOCACHE and GOPATH set", map[string]string{"GOCACHE": "/tmp/go-cache", "GOPATH": "/tmp/go:/other"}, nil, []string{"/tmp/go-cache", "/tmp/go/pkg/mod"}},
		{"GOMODCACHE and HOME set", map[string]string{"GOMODCACHE": "/mods", "HOME": "/home/ci", "GOTOOLCHAIN": "local"}, nil, []string{"/home/ci/.cache/go-build", "/mods"}},
	} {
		if got := DefaultCaches(tc.env, tc.argv); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// wtenv.yaml's cache: list wins; an empty one turns the defaults off.
func TestSuiteCaches(t *testing.T) {
	dir := t.TempDir()
	yaml := "tests:\n  unit:\n    service: api\n    command: [go, test]\n  e2e:\n    service: api\n    command: [go, test]\n    cache: []\n  lint:\n    service: api\n    command: [npm, run, lint]\n    cache: [/root/.npm]\n"
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	for suite, want := range map[string][]string{
		"unit": {"/root/.cache/go-build", "/go/pkg/mod"},
		"e2e":  nil,
		"lint": {"/root/.npm"},
	} {
		if got := cfg.Tests[suite].Caches(nil, ""); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", suite, got, want)
		}
	}
	// Not root: no defaults (a new volume is root's); a list still holds.
	if got := cfg.Tests["unit"].Caches(nil, "1000:1000"); got != nil {
		t.Errorf("unit as user 1000: %v, want no defaults", got)
	}
	if got := cfg.Tests["lint"].Caches(nil, "node"); !slices.Equal(got, []string{"/root/.npm"}) {
		t.Errorf("lint as node: %v", got)
	}
	if got := cfg.Tests["unit"].Caches(nil, "0:0"); len(got) != 2 {
		t.Errorf("unit as 0:0: %v", got)
	}
}
