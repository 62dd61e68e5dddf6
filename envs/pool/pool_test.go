package pool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wtenv/wtenv/envs/budget"
)

func TestParse(t *testing.T) {
	p, err := Parse("engines.yaml", []byte(`engines:
  - name: laptop
    host: unix:///var/run/docker.sock
    budget: 12GiB
  - name: bigbox
    host: ssh://me@bigbox
    budget: 75%
  - name: desk
    host: desk-context
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Engine{
		{Name: "laptop", Host: "unix:///var/run/docker.sock", Budget: budget.Spec{Bytes: 12 << 30}, Line: 2},
		{Name: "bigbox", Host: "ssh://me@bigbox", Budget: budget.Spec{Percent: 75}, Line: 5},
		{Name: "desk", Host: "desk-context", Line: 8},
	}
	if len(p.Engines) != len(want) {
		t.Fatalf("engines %+v", p.Engines)
	}
	for i, e := range p.Engines {
		if e != want[i] {
			t.Errorf("engine %d = %+v, want %+v", i, e, want[i])
		}
	}
	if e, ok := p.Find("desk"); !ok || !e.Context() {
		t.Errorf("desk: %+v %v, want a context", e, ok)
	}
	if e, _ := p.Find("bigbox"); e.Context() {
		t.Errorf("an ssh:// address taken for a context")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"syntax", "engines: [", "fix the YAML syntax"},
		{"unknown top key", "engine:\n  - {name: a, host: x}\n", `engines.yaml:1: unknown key "engine"; the only key is engines`},
		{"empty list", "engines: []\n", "must list at least one engine"},
		{"unknown key", "engines:\n  - name: a\n    host: x\n    memory: 1GiB\n", `engines.yaml:2: unknown key "memory"; the keys are name, host, budget`},
		{"no name", "engines:\n  - host: x\n", "engines.yaml:2: an engine needs name:"},
		{"bad name", "engines:\n  - {name: Big Box, host: x}\n", `engine name "Big Box"`},
		{"no host", "engines:\n  - {name: a}\n", `engine "a" needs host:`},
		{"bad scheme", "engines:\n  - {name: a, host: 'http://box:2375'}\n", `host "http://box:2375": use unix://`},
		{"bad budget", "engines:\n  - {name: a, host: x, budget: lots}\n", `"lots"`},
		{"twice", "engines:\n  - {name: a, host: x}\n  - {name: a, host: y}\n", `engines.yaml:3: engine "a" is named twice (first at line 2)`},
		{"not a mapping", "engines:\n  - laptop\n", "an engine is a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("engines.yaml", []byte(tc.yaml))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	if p, err := Load(); p != nil || err != nil {
		t.Fatalf("without a file: %+v %v, want no pool and no error", p, err)
	}
	path := filepath.Join(dir, "wtenv", "engines.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("engines:\n  - {name: laptop, host: 'unix:///var/run/docker.sock'}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := Load(); err != nil || p.Path != path || len(p.Engines) != 1 {
		t.Fatalf("the default file: %+v %v", p, err)
	}
	// A file WTENV_ENGINES names must exist.
	t.Setenv(EnvVar, filepath.Join(dir, "missing.yaml"))
	if _, err := Load(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("a missing named file: %v", err)
	}
}

// A bad budget is named as the file's key, not as the variable the
// budget's parser also serves.
func TestBadBudgetNamesTheKey(t *testing.T) {
	_, err := Parse("engines.yaml", []byte("engines:\n  - name: a\n    host: unix:///x.sock\n    budget: lots\n"))
	if err == nil || !strings.Contains(err.Error(), `invalid budget "lots"`) || strings.Contains(err.Error(), "WTENV_MEMORY_BUDGET") {
		t.Errorf("bad budget: %v", err)
	}
}
