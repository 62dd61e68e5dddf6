package compose

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLoadDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		cfg       Config
		wantImage string
		wantFiles []string
		wantDir   string // the project directory, relative to the worktree
	}{
		{
			name:      "compose.yaml",
			files:     map[string]string{"compose.yaml": "services: {web: {image: a}}"},
			wantImage: "a",
			wantFiles: []string{"compose.yaml"},
		},
		{
			name:      "docker-compose.yml",
			files:     map[string]string{"docker-compose.yml": "services: {web: {image: a}}"},
			wantImage: "a",
			wantFiles: []string{"docker-compose.yml"},
		},
		{
			name: "override file next to it",
			files: map[string]string{
				"compose.yaml":          "services: {web: {image: a}}",
				"compose.override.yaml": "services: {web: {image: b}}",
			},
			wantImage: "b",
			wantFiles: []string{"compose.yaml", "compose.override.yaml"},
		},
		{
			name: "compose.yaml preferred over docker-compose.yml",
			files: map[string]string{
				"compose.yaml":       "services: {web: {image: a}}",
				"docker-compose.yml": "services: {web: {image: b}}",
			},
			wantImage: "a",
			wantFiles: []string{"compose.yaml"},
		},
		{
			// As in Docker Compose, the project directory is the first
			// file's folder.
			name: "files named in wtenv.yaml, relative to root, override not added",
			files: map[string]string{
				"deploy/base.yaml":      "services: {web: {image: a}}",
				"deploy/dev.yaml":       "services: {web: {image: c}}",
				"compose.override.yaml": "services: {web: {image: b}}",
			},
			cfg:       Config{Compose: []string{"deploy/base.yaml", "deploy/dev.yaml"}},
			wantImage: "c",
			wantFiles: []string{"deploy/base.yaml", "deploy/dev.yaml"},
			wantDir:   "deploy",
		},
		{
			name: "COMPOSE_FILE in .env",
			files: map[string]string{
				".env":       "COMPOSE_FILE=one.yaml:two.yaml\n",
				"one.yaml":   "services: {web: {image: a}}",
				"two.yaml":   "services: {web: {image: d}}",
				"other.yaml": "services: {web: {image: x}}",
			},
			wantImage: "d",
			wantFiles: []string{"one.yaml", "two.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, dir := load(t, tt.files, tt.cfg)
			if got := p.Services["web"].Image; got != tt.wantImage {
				t.Errorf("image = %q, want %q", got, tt.wantImage)
			}
			var want []string
			for _, f := range tt.wantFiles {
				want = append(want, filepath.Join(dir, f))
			}
			if strings.Join(p.ComposeFiles, ",") != strings.Join(want, ",") {
				t.Errorf("ComposeFiles = %v, want %v", p.ComposeFiles, want)
			}
			if wantDir := filepath.Join(dir, tt.wantDir); p.Name != "proj" || p.WorkingDir != wantDir {
				t.Errorf("name %q, working dir %q; want proj, %s", p.Name, p.WorkingDir, wantDir)
			}
		})
	}
}

func TestLoadNoComposeFile(t *testing.T) {
	parent := t.TempDir()
	// A compose file in a parent directory must not be picked up: a linked
	// worktree often lives inside the main checkout.
	writeFiles(t, parent, map[string]string{"compose.yaml": "services: {web: {image: a}}"})
	root := filepath.Join(parent, ".worktrees", "feature")
	writeFiles(t, root, map[string]string{"README": "x"})

	_, err := Load(context.Background(), root, Config{}, "proj")
	if !errors.Is(err, ErrNoComposeFile) {
		t.Fatalf("err = %v, want ErrNoComposeFile", err)
	}
	want := "no compose file in " + root + ": add compose.yaml, or name the files under compose: in wtenv.yaml"
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}

	_, err = Load(context.Background(), parent, Config{Compose: []string{"missing.yaml"}}, "proj")
	if !errors.Is(err, ErrNoComposeFile) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("named missing file: err = %v, want ErrNoComposeFile naming missing.yaml", err)
	}
}

var lineRef = regexp.MustCompile(`line \d+, column \d+`)

func TestLoadSyntaxErrorNamesFileAndLine(t *testing.T) {
	for _, file := range []string{"compose.yaml", "compose.override.yaml"} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				"compose.yaml":          "services:\n  web:\n    image: a\n",
				"compose.override.yaml": "services:\n  web:\n    image: b\n",
			}
			files[file] = "services:\n  web:\n    image: a\n   ports: [\n"
			writeFiles(t, dir, files)
			_, err := Load(context.Background(), dir, Config{}, "proj")
			if err == nil {
				t.Fatal("Load succeeded on broken YAML")
			}
			msg := err.Error()
			// The parser places this error at the mapping the stray key
			// breaks (line 3), a line above the key itself.
			if !strings.Contains(msg, filepath.Join(dir, file)) || !lineRef.MatchString(msg) {
				t.Errorf("error %q does not name %s and a line", msg, file)
			}
		})
	}
}

func TestLoadInterpolationAndEnvFile(t *testing.T) {
	p, _ := load(t, map[string]string{
		".env":    "TAG=1.2\nPORT=8081\n",
		"api.env": "FROM_FILE=yes\n",
		"compose.yaml": `
services:
  api:
    image: shop/api:${TAG}
    ports: ["${PORT}:8080"]
    env_file: [api.env]
    environment:
      INLINE: "${MISSING:-fallback}"
`,
	}, Config{})
	api := p.Services["api"]
	if api.Image != "shop/api:1.2" {
		t.Errorf("image = %q, want shop/api:1.2", api.Image)
	}
	if api.Ports[0].Published != "8081" {
		t.Errorf("published = %q, want 8081", api.Ports[0].Published)
	}
	for key, want := range map[string]string{"FROM_FILE": "yes", "INLINE": "fallback"} {
		if got := api.Environment[key]; got == nil || *got != want {
			t.Errorf("environment %s = %v, want %q", key, got, want)
		}
	}
}

// A service under a profile that is not enabled is moved to
// DisabledServices: still there for a test suite to run, but not started.
func TestLoadProfiles(t *testing.T) {
	files := map[string]string{"compose.yaml": `
services:
  web: {image: a}
  e2e: {image: b, profiles: [test]}
`}
	p, _ := load(t, files, Config{})
	if _, ok := p.Services["e2e"]; ok {
		t.Error("e2e enabled without its profile")
	}
	if _, ok := p.DisabledServices["e2e"]; !ok {
		t.Error("e2e missing from DisabledServices")
	}

	p, _ = load(t, files, Config{Profiles: []string{"test"}})
	if _, ok := p.Services["e2e"]; !ok {
		t.Error("e2e not enabled with profile test")
	}

	// Without profiles in wtenv.yaml, COMPOSE_PROFILES applies, as it does
	// for Docker Compose.
	files[".env"] = "COMPOSE_PROFILES=test\n"
	p, _ = load(t, files, Config{})
	if _, ok := p.Services["e2e"]; !ok {
		t.Error("e2e not enabled by COMPOSE_PROFILES")
	}
}

func TestLoadExtendsAndInclude(t *testing.T) {
	p, dir := load(t, map[string]string{
		"common.yaml": `
services:
  base:
    image: shop/base
    environment: {LOG: debug}
`,
		"db/compose.yaml": `
services:
  db:
    image: postgres
    volumes: ["./init:/docker-entrypoint-initdb.d"]
`,
		"compose.yaml": `
include: [db/compose.yaml]
services:
  api:
    extends: {file: common.yaml, service: base}
    environment: {PORT: "8080"}
`,
	}, Config{})
	api := p.Services["api"]
	if api.Image != "shop/base" || api.Environment["LOG"] == nil || api.Environment["PORT"] == nil {
		t.Errorf("extends not applied: image %q, environment %v", api.Image, api.Environment)
	}
	db, ok := p.Services["db"]
	if !ok {
		t.Fatal("included service db missing")
	}
	// Paths of an included file are relative to that file's directory.
	if got, want := db.Volumes[0].Source, filepath.Join(dir, "db", "init"); got != want {
		t.Errorf("included bind source = %q, want %q", got, want)
	}
}
