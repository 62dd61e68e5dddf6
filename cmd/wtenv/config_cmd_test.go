package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/state"
)

// A compose file in a subfolder, as many products ship theirs: its .env
// and relative paths are read from that folder, as Docker Compose reads
// them, and config names every rewrite.
func TestConfigOfASubfolderLayout(t *testing.T) {
	enginetest.Isolate(t)
	repo := enginetest.Repo(t, "suite", map[string][]byte{
		"wtenv.yaml":                []byte("compose: [docker/docker-compose.yml]\n"),
		"docker/docker-compose.yml": []byte("services:\n  db:\n    image: postgres:${PG_VERSION}\n    env_file: [db.env]\n    volumes: [./conf:/etc/db:ro, /srv/suite/pg:/var/lib/postgresql/data]\n    ports: [\"5432:5432\", \"5000:5000/tcp\", \"5000:5000/udp\"]\n"),
		"docker/.env":               []byte("PG_VERSION=15\n"),
		"docker/db.env":             []byte("POSTGRES_DB=suite\n"),
		"docker/conf/db.conf":       []byte("x\n"),
	})
	code, stdout, stderr := cli(t, "config", "--json", "--worktree", repo)
	if code != exitOK {
		t.Fatalf("config: exit %d\n%s", code, stderr)
	}
	var r envs.Resolved
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("config --json: %v\n%s", err, stdout)
	}
	if r.ProjectDir != filepath.Join(repo, "docker") || r.Compose == nil {
		t.Fatalf("project directory %q, want %s/docker", r.ProjectDir, repo)
	}
	db := r.Compose.Services["db"]
	if db.Image != "postgres:15" {
		t.Errorf("image %q: docker/.env was not read", db.Image)
	}
	if v := db.Environment["POSTGRES_DB"]; v == nil || *v != "suite" {
		t.Errorf("env_file docker/db.env was not read: %v", db.Environment)
	}
	if src := db.Volumes[0].Source; src != filepath.Join(repo, "docker", "conf") {
		t.Errorf("./conf resolved to %s, want %s/docker/conf", src, repo)
	}
	if len(db.Ports) != 3 || db.Ports[0].Published == "5432" || db.Ports[1].Published != db.Ports[2].Published {
		t.Errorf("ports not isolated, or 5000/tcp and 5000/udp on different host ports: %+v", db.Ports)
	}
	all := strings.Join(append(r.Rewrites, r.Warnings...), "\n")
	for _, want := range []string{`project name "` + r.Project + `"`, `port 5432/tcp published on 127.0.0.1:`, `port 5000/tcp+udp`, `bind mount /srv/suite/pg is writable and outside the worktree`} {
		if !strings.Contains(all, want) {
			t.Errorf("rewrites and warnings lack %q:\n%s", want, all)
		}
	}
	// The human form is the YAML model under comments naming the same.
	code, stdout, _ = cli(t, "config", "--worktree", repo)
	if code != exitOK || !strings.Contains(stdout, "# rewritten: service \"db\": port 5432/tcp") || !strings.Contains(stdout, "image: postgres:15") {
		t.Errorf("config: exit %d\n%s", code, stdout)
	}
}

// A key wtenv cannot run: config exits 1 naming the service, the key and
// the way out.
func TestConfigNamesWhatItCannotRun(t *testing.T) {
	enginetest.Isolate(t)
	repo := enginetest.Repo(t, "hostnet", map[string][]byte{
		"compose.yaml": []byte("services:\n  proxy:\n    image: traefik\n    network_mode: host\n"),
	})
	code, _, stderr := cli(t, "config", "--worktree", repo)
	if code != exitFailure || !strings.Contains(stderr, `service "proxy": key "network_mode" has value "host"`) || !strings.Contains(stderr, "host_network: true") {
		t.Errorf("exit %d, want %d; stderr %q", code, exitFailure, stderr)
	}
}

// config needs no engine, as docker compose config needs none, and
// records nothing: the ports it shows are those up would take now.
func TestConfigWithoutAnEngineRecordsNothing(t *testing.T) {
	stateDir := t.TempDir()
	t.Setenv("WTENV_STATE_DIR", stateDir)
	t.Setenv("WTENV_PORT_RANGE", "40000-40639")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	repo := enginetest.Repo(t, "offline", map[string][]byte{
		"compose.yaml": []byte("services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n"),
	})
	code, stdout, stderr := cli(t, "config", "--json", "--worktree", repo)
	if code != exitOK {
		t.Fatalf("config without an engine: exit %d\n%s", code, stderr)
	}
	var r envs.Resolved
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if p := r.Compose.Services["web"].Ports; len(p) != 1 || p[0].Published == "80" || p[0].Published == "" {
		t.Errorf("ports %+v: want one port of the worktree's block", p)
	}
	store, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := store.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := f.Projects[r.Project]; ok && p.Ports != nil {
		t.Errorf("config recorded a port block: %+v", p.Ports)
	}
}
