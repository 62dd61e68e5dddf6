package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sharedDB = `services:
  db:
    image: postgres:15
    environment: {POSTGRES_DB: shop, POSTGRES_PASSWORD: pw}
    networks: {default: {aliases: [postgres]}}
  api:
    image: api
    env_file: api.env
    environment:
      DATABASE_URL: postgres://shop:pw@db:5432/shop?sslmode=disable
      ASYNC_URL: postgresql+asyncpg://shop:pw@postgres/shop
      JDBC_URL: jdbc:postgresql://db:5432/shop
      OTHER_URL: postgres://shop:pw@elsewhere:5432/shop
      REDIS_URL: redis://queue:6379/0
  worker:
    image: api
    depends_on: [db]
    environment: {PGDATABASE: shop, APP_DB_NAME: jobs, NAME: shop}
  migrate:
    image: api
    environment: {DB_HOST: "db:5432", DB_DATABASE: shop}
  lonely:
    image: api
    environment: {POSTGRES_DB: shop}
`

func TestRewriteDatabases(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"compose.yaml": sharedDB, "api.env": "READ_URL=postgres://ro:pw@db/shop\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Load(context.Background(), dir, Config{}, "shop-main-1234")
	if err != nil {
		t.Fatal(err)
	}
	rename := func(db string) string { return DatabaseName(db, "shop-main-1234") }
	refs := RewriteDatabases(p, "db", rename)
	var got []string
	for _, r := range refs {
		got = append(got, r.Service+" "+r.Variable+" "+r.Database+" "+r.Renamed)
	}
	want := []string{
		"api ASYNC_URL shop shop__shop_main_1234",
		"api DATABASE_URL shop shop__shop_main_1234",
		"api JDBC_URL shop shop__shop_main_1234",
		"api READ_URL shop shop__shop_main_1234",
		"migrate DB_DATABASE shop shop__shop_main_1234",
		"worker APP_DB_NAME jobs jobs__shop_main_1234",
		"worker PGDATABASE shop shop__shop_main_1234",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rewrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	env := func(svc, key string) string { return *p.Services[svc].Environment[key] }
	for key, v := range map[string]string{
		"DATABASE_URL": "postgres://shop:pw@db:5432/shop__shop_main_1234?sslmode=disable",
		"ASYNC_URL":    "postgresql+asyncpg://shop:pw@postgres/shop__shop_main_1234",
		"JDBC_URL":     "jdbc:postgresql://db:5432/shop__shop_main_1234",
		"OTHER_URL":    "postgres://shop:pw@elsewhere:5432/shop", // another server
		"REDIS_URL":    "redis://queue:6379/0",
	} {
		if got := env("api", key); got != v {
			t.Errorf("api %s = %q, want %q", key, got, v)
		}
	}
	if got := env("worker", "NAME"); got != "shop" {
		t.Errorf("worker NAME = %q: not a database variable, it must stay", got)
	}
	if got := env("lonely", "POSTGRES_DB"); got != "shop" {
		t.Errorf("lonely POSTGRES_DB = %q: the service does not reach db, it must stay", got)
	}
	if got := env("db", "POSTGRES_DB"); got != "shop" {
		t.Errorf("the shared service's own POSTGRES_DB = %q, want it unchanged", got)
	}
}

func TestDatabaseName(t *testing.T) {
	for _, c := range []struct{ db, project, want string }{
		{"shop", "shop-main-1234", "shop__shop_main_1234"},
		{"My-App", "app-fix-login-0be1", "my_app__app_fix_login_0be1"},
	} {
		if got := DatabaseName(c.db, c.project); got != c.want {
			t.Errorf("DatabaseName(%q, %q) = %q, want %q", c.db, c.project, got, c.want)
		}
	}
	// Long names stay within 63 bytes and never meet.
	long := strings.Repeat("p", 58) + "-1234"
	seen := map[string]string{}
	for _, db := range []string{"shop", "jobs", strings.Repeat("d", 70), strings.Repeat("d", 71)} {
		for _, project := range []string{long, strings.Repeat("p", 58) + "-5678", "shop-main-1234"} {
			got := DatabaseName(db, project)
			if len(got) > 63 {
				t.Errorf("DatabaseName(%q, %q) = %q: %d bytes", db, project, got, len(got))
			}
			if other, ok := seen[got]; ok {
				t.Errorf("%q and %q/%q both give %q", other, db, project, got)
			}
			seen[got] = db + "/" + project
		}
	}
}
