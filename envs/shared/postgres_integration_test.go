package shared_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/shared"
)

// server starts the local Postgres stand-in with an initialized database
// shop holding a table, removed when the test ends.
func server(ctx context.Context, t *testing.T) (shared.Postgres, *engine.Docker) {
	t.Helper()
	images := enginetest.LocalImages(t)
	label := fmt.Sprintf("dev.wtenv.test=pg-%d", time.Now().UnixNano())
	enginetest.CleanupLabelled(t, label)
	out, err := exec.Command("docker", "run", "-d", "--label", label,
		"-e", "POSTGRES_USER=shop", "-e", "POSTGRES_PASSWORD=shop", "-e", "POSTGRES_DB=shop",
		images["POSTGRES_IMAGE"]).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	pg := shared.Postgres{Exec: eng, Container: strings.TrimSpace(string(out)), User: "shop"}
	for !pg.Ready(ctx) {
		select {
		case <-ctx.Done():
			t.Fatal("the server never accepted commands")
		case <-time.After(200 * time.Millisecond):
		}
	}
	sql(ctx, t, pg, "shop", "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2)")
	return pg, eng
}

// sql runs statements on db as the app would, over the server's socket.
func sql(ctx context.Context, t *testing.T, pg shared.Postgres, db, stmt string) string {
	t.Helper()
	out, errOut, code, err := pg.Exec.Exec(ctx, pg.Container, "", []string{"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", "shop", "-d", db, "-c", stmt})
	if err != nil || code != 0 {
		t.Fatalf("psql on %s: %v (exit %d)\n%s", db, err, code, errOut)
	}
	return strings.TrimSpace(out)
}

// Each worktree's database is a copy of the server's initialized one; the
// original takes no connection; the copies are apart; a second clone is a
// no-op; a drop removes one copy only.
func TestPostgresDatabasePerWorktree(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg, _ := server(ctx, t)
	dbs, err := pg.Databases(ctx)
	if err != nil || !slices.Equal(dbs, []string{"shop"}) {
		t.Fatalf("databases: %q %v; want shop", dbs, err)
	}
	for range 2 { // idempotent
		if ts, err := pg.CloseTemplates(ctx); err != nil || !slices.Equal(ts, []string{"shop"}) {
			t.Fatalf("templates: %q %v; want shop", ts, err)
		}
	}
	// A spare made ahead becomes the next copy by a rename; one at a time.
	for range 2 {
		if err := pg.Spare(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
	}
	spares := func() string {
		return sql(ctx, t, pg, "postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'wtenv_spare_%'")
	}
	if n := spares(); n != "1" {
		t.Fatalf("%s spares after two Spare calls, want 1", n)
	}
	var took []time.Duration
	for _, db := range []string{"shop__a", "shop__b", "shop__c", "shop__d", "shop__e"} {
		start := time.Now()
		made, err := pg.Clone(ctx, db, "shop")
		took = append(took, time.Since(start))
		if err != nil || !made.Created() || made.Server <= 0 || made.Renamed != (db == "shop__a") {
			t.Fatalf("clone %s: %+v %v; want the first renamed from the spare, the others copied, each timed", db, made, err)
		}
	}
	if n := spares(); n != "0" {
		t.Errorf("%s spares after the clones, want the one renamed", n)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("clone by renaming a spare: %s", took[0])
	t.Logf("clone of a small database: p50 %s, max %s", took[len(took)/2], took[len(took)-1])
	if made, err := pg.Clone(ctx, "shop__a", "shop"); err != nil || made.Created() {
		t.Errorf("second clone of shop__a: %+v %v, want nothing done", made, err)
	}

	// Closing again on a server with copies leaves the copies open.
	if ts, err := pg.CloseTemplates(ctx); err != nil || !slices.Equal(ts, []string{"shop"}) {
		t.Fatalf("templates once copies exist: %q %v; want shop", ts, err)
	}
	sql(ctx, t, pg, "shop__a", "INSERT INTO orders VALUES (3)")
	if got := sql(ctx, t, pg, "shop__a", "SELECT count(*) FROM orders"); got != "3" {
		t.Errorf("shop__a has %s orders, want 3", got)
	}
	if got := sql(ctx, t, pg, "shop__b", "SELECT count(*) FROM orders"); got != "2" {
		t.Errorf("shop__b has %s orders after a write to shop__a, want the template's 2", got)
	}

	// The template refuses an app that still names it.
	_, errOut, code, err := pg.Exec.Exec(ctx, pg.Container, "", []string{"psql", "-X", "-U", "shop", "-d", "shop", "-c", "SELECT 1"})
	if err != nil || code == 0 || !strings.Contains(errOut, "not currently accepting connections") {
		t.Errorf("connecting to the template: exit %d %v\n%s", code, err, errOut)
	}

	if err := pg.Drop(ctx, "shop__a"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Drop(ctx, "shop__a"); err != nil {
		t.Errorf("dropping a dropped database: %v", err)
	}
	dbs, err = pg.Databases(ctx)
	if err != nil || !slices.Equal(dbs, []string{"shop__b", "shop__c", "shop__d", "shop__e"}) {
		t.Errorf("databases after the drop: %q %v", dbs, err)
	}
	if _, err := pg.Clone(ctx, "x", "nothing"); !errors.Is(err, shared.ErrPostgres) || !strings.Contains(err.Error(), `no database "nothing"`) {
		t.Errorf("clone of a missing template: %v", err)
	}
}
