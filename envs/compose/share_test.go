package compose

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

func TestSharedEntries(t *testing.T) {
	var got []Shared
	if err := yaml.Unmarshal([]byte("[db, {service: mail, stateless: true}]"), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (Shared{Service: "db"}) || got[1] != (Shared{Service: "mail", Stateless: true}) {
		t.Errorf("share: %+v", got)
	}
	for _, bad := range []string{"[{stateless: true}]", "[{service: db, shared: true}]", "[[db]]"} {
		if err := yaml.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("share: %s was accepted", bad)
		}
	}
}

func TestSharedKind(t *testing.T) {
	for image, want := range map[string]string{
		"postgres:15": KindPostgres, "docker.io/library/postgres:16-alpine": KindPostgres,
		"postgis/postgis:16-3.4": KindPostgres, "timescale/timescaledb:latest-pg16": KindPostgres,
		"wtenv-local/postgres:15": KindPostgres, "pgvector/pgvector:pg16": KindPostgres,
		"redis:7": KindUnknown, "mysql:8": KindUnknown, "": KindUnknown,
		"registry.local:5000/postgres-tools/cli:1": KindUnknown,
	} {
		if got := SharedKind(service("s", image)); got != want {
			t.Errorf("SharedKind(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestCheckShare(t *testing.T) {
	p := &types.Project{Services: types.Services{"db": service("db", "postgres:15"), "queue": service("queue", "redis:7")}}
	if got := checkShare(p, []Shared{{Service: "db"}, {Service: "queue", Stateless: true}}); len(got) != 0 {
		t.Errorf("a Postgres and a stateless service: %q", got)
	}
	got := strings.Join(checkShare(p, []Shared{{Service: "db"}, {Service: "db"}, {Service: "queue"}, {Service: "cache"}}), "\n")
	for _, want := range []string{`names "db" twice`, `service "queue" (image "redis:7") is not a server`, `stateless: true`, `names "cache", which is not a service`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "database servers") {
		t.Errorf("one server named twice counts as two:\n%s", got)
	}
	p.Services["geo"] = service("geo", "postgis/postgis:16")
	got = strings.Join(checkShare(p, []Shared{{Service: "db"}, {Service: "geo"}, {Service: "queue", Stateless: true}}), "\n")
	if !strings.Contains(got, "names 2 database servers (db, geo); one can be shared per repository") {
		t.Errorf("two shared servers: %q", got)
	}
}

func service(name, image string) types.ServiceConfig {
	s := types.ServiceConfig{Name: name}
	s.Image = image
	return s
}

func TestServerProject(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": `services:
  db:
    image: postgres:15
    environment: {POSTGRES_DB: shop}
    volumes: [db-data:/var/lib/postgresql/data]
    networks: [default, back]
  api:
    image: api
    depends_on: [db]
    volumes: [cache:/cache]
  cache:
    image: redis:7
    depends_on: [api]
volumes: {db-data: {}, cache: {}}
networks: {back: {}}
`})
	p, err := Load(context.Background(), dir, Config{}, "shop-main-1234")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ServerProject(p, "db", "shop-shared-9f00")
	if err != nil {
		t.Fatal(err)
	}
	if sp.Name != "shop-shared-9f00" || !slices.Equal(sp.ServiceNames(), []string{"db"}) {
		t.Errorf("server project %s with %v, want shop-shared-9f00 with db alone", sp.Name, sp.ServiceNames())
	}
	if _, ok := sp.Volumes["db-data"]; !ok || len(sp.Volumes) != 1 {
		t.Errorf("volumes %v, want db-data alone", slices.Collect(maps.Keys(sp.Volumes)))
	}
	if _, ok := sp.Networks["back"]; !ok {
		t.Errorf("networks %v, want back among them", slices.Collect(maps.Keys(sp.Networks)))
	}
	if p.Name != "shop-main-1234" || len(p.Services) != 3 {
		t.Errorf("the worktree's project changed: %s %v", p.Name, p.ServiceNames())
	}
	if _, err := ServerProject(p, "cache", "x"); err == nil || !strings.Contains(err.Error(), `depends on "api"`) {
		t.Errorf("a shared service with a dependency: %v", err)
	}
	if _, err := ServerProject(p, "nope", "x"); err == nil {
		t.Error("an unknown shared service was accepted")
	}
}

func TestDetach(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": `services:
  db:
    image: postgres:15
    networks: {default: {aliases: [postgres]}, back: {}}
  api:
    image: api
    depends_on: {db: {condition: service_healthy}, queue: {condition: service_started}}
    links: ["db:database"]
  queue:
    image: redis:7
  sidecar:
    image: tool
    network_mode: service:db
    profiles: [debug]
  backup:
    image: tool
    volumes_from: ["db:ro"]
    profiles: [backup]
networks: {back: {}}
`})
	p, err := Load(context.Background(), dir, Config{}, "shop-main-1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Isolate(p, "shop-main-1234", nil, dir); err != nil {
		t.Fatal(err)
	}
	joins, err := Detach(p, "db")
	if err != nil {
		t.Fatal(err)
	}
	want := []Join{
		{Network: "shop-main-1234_back", Aliases: []string{"db", "database"}},
		{Network: "shop-main-1234_default", Aliases: []string{"db", "postgres", "database"}},
	}
	if fmt.Sprint(joins) != fmt.Sprint(want) {
		t.Errorf("joins %+v, want %+v", joins, want)
	}
	if _, ok := p.Services["db"]; ok || slices.Contains(p.ServiceNames(), "db") {
		t.Errorf("db still in the worktree's project: %v", p.ServiceNames())
	}
	api := p.Services["api"]
	if _, ok := api.DependsOn["db"]; ok || len(api.DependsOn) != 1 || len(api.Links) != 0 {
		t.Errorf("api depends on %v, links %v; want queue alone and no links", api.DependsOn, api.Links)
	}

	q, _ := Load(context.Background(), dir, Config{Profiles: []string{"debug"}}, "shop-main-1234")
	if _, err := Detach(q, "db"); err == nil || !strings.Contains(err.Error(), `"sidecar" shares the network`) {
		t.Errorf("a service on db's network: %v", err)
	}
	r, _ := Load(context.Background(), dir, Config{Profiles: []string{"backup"}}, "shop-main-1234")
	if _, err := Detach(r, "db"); err == nil || !strings.Contains(err.Error(), `"backup" shares the network or volumes`) {
		t.Errorf("a service with db's volumes: %v", err)
	}
}
