package compose

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{ConfigFile: `
compose: [compose.yaml, compose.override.yaml]
profiles: [test]
tests:
  unit:
    service: api
    command: [go, test, -json, ./...]
    format: go-test-json
    timeout: 10m
  e2e:
    service: e2e
    command: npm test -- --reporter junit
    needs: [web, api]
    format: junit
    report: reports/e2e.xml
  smoke:
    host: true
    command: ./smoke.sh
memory:
  estimate: 2GiB
idle_after: 20m
share: [db, {service: cache, stateless: true}]
`})
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Share, []Shared{{Service: "db"}, {Service: "cache", Stateless: true}}) {
		t.Errorf("share %+v", cfg.Share)
	}
	if !slices.Equal(cfg.Compose, []string{"compose.yaml", "compose.override.yaml"}) || !slices.Equal(cfg.Profiles, []string{"test"}) {
		t.Errorf("compose %v profiles %v", cfg.Compose, cfg.Profiles)
	}
	unit := cfg.Tests["unit"]
	if unit.Command.Shell || !slices.Equal(unit.Command.Argv(), []string{"go", "test", "-json", "./..."}) {
		t.Errorf("unit command = %+v", unit.Command)
	}
	if time.Duration(unit.Timeout) != 10*time.Minute {
		t.Errorf("unit timeout = %v", time.Duration(unit.Timeout))
	}
	e2e := cfg.Tests["e2e"]
	if !e2e.Command.Shell || !slices.Equal(e2e.Command.Argv(), []string{"sh", "-c", "npm test -- --reporter junit"}) {
		t.Errorf("e2e command = %+v", e2e.Command)
	}
	if e2e.Report != "reports/e2e.xml" || !slices.Equal(e2e.Needs, []string{"web", "api"}) {
		t.Errorf("e2e = %+v", e2e)
	}
	if smoke := cfg.Tests["smoke"]; !smoke.Host || smoke.Format != FormatPlain {
		t.Errorf("smoke = %+v, want host and the plain format by default", smoke)
	}
	if n, err := cfg.Memory.EstimateBytes(); err != nil || n != 2<<30 {
		t.Errorf("estimate = %d, %v", n, err)
	}
	if cfg.IdleAfter != (IdleAfter{Set: true, After: 20 * time.Minute}) {
		t.Errorf("idle_after = %+v", cfg.IdleAfter)
	}
	writeFiles(t, dir, map[string]string{ConfigFile: "idle_after: 0\n"})
	if cfg, err := LoadConfig(dir); err != nil || cfg.IdleAfter != (IdleAfter{Set: true}) {
		t.Errorf("idle_after: 0 = %+v %v, want set to never", cfg.IdleAfter, err)
	}
}

func TestLoadConfigAbsent(t *testing.T) {
	cfg, err := LoadConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Compose != nil || cfg.Tests != nil || cfg.Memory.Estimate != "" {
		t.Errorf("cfg = %+v, want zero", cfg)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "unknown top-level key",
			yaml: "compose: [a.yaml]\nprofile: [x]\n",
			want: []string{"wtenv.yaml:2: unknown key \"profile\"", "compose, engine, host_network, idle_after, memory, profiles, share, tests"},
		},
		{
			name: "bad share entry",
			yaml: "share: [{service: db, stateles: true}]\n",
			want: []string{"wtenv.yaml", `unknown key "stateles" in a share: entry; the keys are service, stateless`},
		},
		{
			name: "unknown suite key",
			yaml: "tests:\n  unit:\n    service: api\n    command: [x]\n    formats: tap\n",
			want: []string{"wtenv.yaml:5: unknown key \"formats\" under tests.unit"},
		},
		{
			name: "bad format",
			yaml: "tests:\n  unit:\n    service: api\n    command: [x]\n    format: xunit\n",
			want: []string{`wtenv.yaml:5: tests.unit.format "xunit"`, "go-test-json | junit | tap | plain"},
		},
		{
			name: "bad timeout",
			yaml: "tests:\n  unit:\n    service: api\n    command: [x]\n    timeout: soon\n",
			want: []string{`wtenv.yaml:5: timeout "soon" is not a duration`},
		},
		{
			name: "service and host",
			yaml: "tests:\n  unit:\n    service: api\n    host: true\n    command: [x]\n",
			want: []string{"wtenv.yaml:2: tests.unit needs exactly one of service"},
		},
		{
			name: "no command",
			yaml: "tests:\n  unit:\n    service: api\n",
			want: []string{"tests.unit has no command"},
		},
		{
			name: "relative cache path",
			yaml: "tests:\n  unit:\n    service: api\n    command: [x]\n    cache: [.cache]\n",
			want: []string{`wtenv.yaml:5: tests.unit.cache: ".cache" is not an absolute path`},
		},
		{
			name: "cache on a host suite",
			yaml: "tests:\n  unit:\n    host: true\n    command: [x]\n    cache: [/root/.cache]\n",
			want: []string{"tests.unit.cache applies to suites run in a container"},
		},
		{
			name: "bad estimate",
			yaml: "memory:\n  estimate: lots\n",
			want: []string{`wtenv.yaml:2: memory.estimate "lots"`},
		},
		{
			name: "bad idle_after",
			yaml: "idle_after: soon\n",
			want: []string{`wtenv.yaml:1: idle_after "soon" is not a duration`, "0 for never"},
		},
		{
			name: "syntax",
			yaml: "tests:\n  unit: [\n",
			want: []string{"wtenv.yaml", "line"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{ConfigFile: tt.yaml})
			_, err := LoadConfig(dir)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

// wtenv.yml is read as wtenv.yaml is; both at once is an error.
func TestConfigYmlExtension(t *testing.T) {
	dir := t.TempDir()
	yaml := "tests:\n  unit:\n    service: api\n    command: [go, test]\n"
	if err := os.WriteFile(filepath.Join(dir, "wtenv.yml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.Tests["unit"].Service != "api" {
		t.Fatalf("wtenv.yml: %+v %v", cfg, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(dir); err == nil || !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("both files: %v", err)
	}
}
