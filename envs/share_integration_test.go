package envs_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// shareCompose is a product with a Postgres whose init script makes a
// table with one row, and an app that names its database in a URL. The
// app is the Postgres image idling, so the test speaks SQL from inside it
// as the app would, following DATABASE_URL.
const shareCompose = `services:
  db:
    image: ${POSTGRES_IMAGE}
    container_name: app-db
    environment: {POSTGRES_USER: app, POSTGRES_PASSWORD: app, POSTGRES_DB: app}
    volumes: [./init:/docker-entrypoint-initdb.d:ro, data:/var/lib/postgresql/data]
    ports: ["5432:5432"]
    healthcheck: {test: [CMD, pg_isready, -U, app, -d, app], interval: 1s, retries: 60}
  app:
    image: ${POSTGRES_IMAGE}
    entrypoint: [sleep, infinity]
    stop_signal: SIGKILL
    environment:
      DATABASE_URL: postgres://app:app@db:5432/app
    depends_on: {db: {condition: service_healthy}}
  cache:
    image: ${REDIS_IMAGE}
    healthcheck: {test: [CMD, redis-cli, ping], interval: 1s, retries: 30}
volumes: {data: {}}
`

// Two worktrees sharing one Postgres: one server, a database each, copied
// from the initialized one; each app, following its own configuration,
// reads and writes only its worktree's database; the template refuses an
// app that names it; down keeps a worktree's database, down --purge drops
// it, and the server goes with its last worktree.
func TestSharedPostgresKeepsWorktreesApart(t *testing.T) {
	enginetest.Isolate(t)
	images := enginetest.LocalImages(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	repo := enginetest.Repo(t, "shop", map[string][]byte{
		"compose.yaml":   []byte(shareCompose),
		"wtenv.yaml":     []byte("share: [db, {service: cache, stateless: true}]\n"),
		"init/items.sql": []byte("CREATE TABLE items (name text); INSERT INTO items VALUES ('seed');\n"),
	})
	other := enginetest.Worktree(t, repo, "feature/x")
	enginetest.Cleanup(t, repo, other, filepath.Join(repo, ".git"))
	a, b := open(ctx, t, repo), open(ctx, t, other)
	stacks := upBoth(ctx, t, a, b)

	var server string
	for i, st := range stacks {
		if st.State != stack.StateRunning {
			t.Fatalf("%s: state %s: %+v", st.Project, st.State, st.Services)
		}
		db := service(t, st, "db")
		if db.Shared == nil || len(db.Shared.Databases) != 1 || db.Shared.Worktrees != 2 {
			t.Fatalf("%s: db is not shared as expected: %+v %+v", st.Project, db, db.Shared)
		}
		want := "app__" + strings.ReplaceAll(st.Project, "-", "_")
		if db.Shared.Databases[0] != want {
			t.Errorf("%s: database %q, want %q", st.Project, db.Shared.Databases[0], want)
		}
		if len(db.Ports) != 1 || !strings.HasSuffix(db.Ports[0].URL, "/"+want) || !strings.HasPrefix(db.Ports[0].URL, "postgres://127.0.0.1:") {
			t.Errorf("%s: db ports %+v, want a postgres URL naming %s", st.Project, db.Ports, want)
		}
		if i == 0 {
			server = db.Container
		} else if db.Container != server {
			t.Errorf("two servers: %s and %s", server, db.Container)
		}
		if st.SharedMemoryBytes <= 0 || db.Shared.ServerMemoryBytes < st.SharedMemoryBytes {
			t.Errorf("%s: share %d of %d", st.Project, st.SharedMemoryBytes, db.Shared.ServerMemoryBytes)
		}
		// A stateless shared service is simply shared, and up says so.
		if cache := service(t, st, "cache"); cache.Shared == nil || len(cache.Shared.Databases) != 0 || cache.State != "running" {
			t.Errorf("%s: cache %+v, want one shared, running, without databases", st.Project, cache)
		}
		if !containsText(st.Warnings, `"cache" is shared by all worktrees`) {
			t.Errorf("%s: up did not say that cache's data is common: %q", st.Project, st.Warnings)
		}
	}
	if service(t, stacks[0], "cache").Container != service(t, stacks[1], "cache").Container {
		t.Errorf("two cache servers")
	}

	// The server keeps its data on the shared stack's own volume.
	mounts, err := exec.CommandContext(ctx, "docker", "inspect", "-f", `{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}`, server).Output()
	if err != nil || !strings.Contains(string(mounts), "-shared-") || !strings.Contains(string(mounts), "_data:/var/lib/postgresql/data") {
		t.Errorf("server mounts %q (%v), want the shared stack's data volume", mounts, err)
	}

	// Each app writes the same table through its own DATABASE_URL.
	for _, st := range stacks {
		psql(ctx, t, st, `INSERT INTO items VALUES ('`+st.Project+`')`)
	}
	for _, st := range stacks {
		if got := psql(ctx, t, st, "SELECT string_agg(name, ',' ORDER BY name) FROM items"); got != "seed,"+st.Project {
			t.Errorf("%s reads %q, want the seed and its own row only", st.Project, got)
		}
	}
	// From the host, the worktree's URL reaches its own database.
	db := service(t, stacks[1], "db")
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "host", "--label", "dev.wtenv.worktree="+other,
		"-e", "PGUSER=app", "-e", "PGPASSWORD=app", "--entrypoint", "psql", images["POSTGRES_IMAGE"],
		"-X", "-A", "-t", db.Ports[0].URL, "-c", "SELECT string_agg(name, ',' ORDER BY name) FROM items").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "seed,"+stacks[1].Project {
		t.Errorf("psql %s from the host: %v\n%s", db.Ports[0].URL, err, out)
	}
	// An app that names the server's own database gets a loud refusal.
	out, err = exec.CommandContext(ctx, "docker", "exec", service(t, stacks[0], "app").Container,
		"psql", "postgres://app:app@db:5432/app", "-c", "SELECT 1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not currently accepting connections") {
		t.Errorf("the template took a connection: %v\n%s", err, out)
	}

	// down keeps the database; the server stays for the other worktree.
	if _, err := a.Down(ctx, false); err != nil {
		t.Fatal(err)
	}
	if st := status(ctx, t, b); service(t, st, "db").State != "running" {
		t.Fatalf("the server went with one worktree's down: %+v", st.Services)
	}
	st := up(ctx, t, a)
	if got := psql(ctx, t, st, "SELECT count(*) FROM items"); got != "2" {
		t.Errorf("after down and up, a's database has %s rows, want its 2", got)
	}
	// down --purge drops it.
	if _, err := a.Down(ctx, true); err != nil {
		t.Fatal(err)
	}
	dbs := serverDatabases(ctx, t, server)
	if strings.Contains(dbs, "app__"+strings.ReplaceAll(a.Project, "-", "_")) || !strings.Contains(dbs, "app__"+strings.ReplaceAll(b.Project, "-", "_")) {
		t.Errorf("after a's purge the server has %q", dbs)
	}
	// A purged worktree's status no longer lists the server.
	if st := status(ctx, t, a); st.State != stack.StateAbsent || len(st.Services) != 0 {
		t.Errorf("status after a's purge: %s %+v", st.State, st.Services)
	}
	// The last worktree's down removes the server, not its data; its
	// purge removes the shared stack.
	if _, err := b.Down(ctx, false); err != nil {
		t.Fatal(err)
	}
	if st := status(ctx, t, b); st.State != stack.StateAbsent || len(st.Services) != 0 {
		t.Errorf("status after the last down: %s %+v, want nothing (the server went)", st.State, st.Services)
	}
	shared := service(t, stacks[1], "db").Shared.Project
	if n := count(ctx, t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+shared); n != 0 {
		t.Errorf("%d server containers after the last worktree's down", n)
	}
	if n := count(ctx, t, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+shared); n != 1 {
		t.Errorf("%d shared volumes after the last down, want its 1", n)
	}
	if _, err := b.Down(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := count(ctx, t, "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+shared); n != 0 {
		t.Errorf("%d shared volumes after the last purge, want none", n)
	}
}

func containsText(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// psql runs sql in the stack's app container against its DATABASE_URL.
func psql(ctx context.Context, t *testing.T, st stack.Stack, sql string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "exec", service(t, st, "app").Container,
		"sh", "-c", `psql -X -q -A -t -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$1"`, "sh", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: psql %q: %v\n%s", st.Project, sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func serverDatabases(ctx context.Context, t *testing.T, container string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "exec", container, "psql", "-X", "-A", "-t", "-U", "app", "-d", "postgres", "-c", "SELECT string_agg(datname, ',') FROM pg_database").CombinedOutput()
	if err != nil {
		t.Fatalf("listing the server's databases: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func count(ctx context.Context, t *testing.T, args ...string) int {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", args...).Output()
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return len(strings.Fields(string(out)))
}

func status(ctx context.Context, t *testing.T, e *envs.Env) stack.Stack {
	t.Helper()
	st, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func up(ctx context.Context, t *testing.T, e *envs.Env) stack.Stack {
	t.Helper()
	st, err := e.Up(ctx, envs.UpOptions{Progress: func(m string) { t.Logf("%s: %s", e.Project, m) }})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
