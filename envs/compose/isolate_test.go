package compose

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestPublishedExpandsRanges(t *testing.T) {
	p, _ := load(t, map[string]string{"compose.yaml": `
services:
  web:
    image: a
    ports: ["3000-3002:3000-3002", "8080", "127.0.0.1:5432:5432", "6379:6379/udp", "5000:5000/tcp", "5000:5000/udp", "53/udp", "53/tcp"]
    expose: ["9999"]
  api:
    image: a
    ports: ["0.0.0.0:8081:8080"]
  off:
    image: a
    ports: ["7000:7000"]
    deploy: {replicas: 0}
  hostnet:
    image: a
    network_mode: host
    ports: ["7001:7001"]
`}, Config{})
	got := Published(p)
	tcp, udp := []string{"tcp"}, []string{"udp"}
	want := []PortRef{
		{Service: "api", Indexes: []int{0}, Target: 8080, Protocols: tcp, HostIP: "0.0.0.0", Published: "8081"},
		{Service: "web", Indexes: []int{0}, Target: 3000, Protocols: tcp, Published: "3000"},
		{Service: "web", Indexes: []int{1}, Target: 3001, Protocols: tcp, Published: "3001"},
		{Service: "web", Indexes: []int{2}, Target: 3002, Protocols: tcp, Published: "3002"},
		// A container port alone publishes on a random host port.
		{Service: "web", Indexes: []int{3}, Target: 8080, Protocols: tcp},
		{Service: "web", Indexes: []int{4}, Target: 5432, Protocols: tcp, HostIP: "127.0.0.1", Published: "5432"},
		{Service: "web", Indexes: []int{5}, Target: 6379, Protocols: udp, Published: "6379"},
		// One container port over two protocols is one host port.
		{Service: "web", Indexes: []int{6, 7}, Target: 5000, Protocols: []string{"tcp", "udp"}, Published: "5000"},
		{Service: "web", Indexes: []int{8, 9}, Target: 53, Protocols: []string{"udp", "tcp"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Published =\n%+v\nwant\n%+v", got, want)
	}
}

func TestIsolatePorts(t *testing.T) {
	p, _ := load(t, map[string]string{"compose.yaml": `
services:
  web:
    image: a
    ports: ["3000-3001:3000-3001", "10.0.0.2:8080:80"]
`}, Config{})
	if _, err := Isolate(p, "shop-x-3f2a", []int{21000, 21001, 21002}, ""); err != nil {
		t.Fatal(err)
	}
	type hostPort struct {
		ip, published string
		target        uint32
	}
	var got []hostPort
	for _, port := range p.Services["web"].Ports {
		got = append(got, hostPort{port.HostIP, port.Published, port.Target})
	}
	want := []hostPort{
		{"127.0.0.1", "21000", 3000},
		{"127.0.0.1", "21001", 3001},
		{"10.0.0.2", "21002", 80},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ports = %+v, want %+v", got, want)
	}
	if p.Name != "shop-x-3f2a" {
		t.Errorf("name = %q", p.Name)
	}

	if _, err := Isolate(p, "shop-x-3f2a", []int{1}, ""); !errors.Is(err, ErrPortCount) {
		t.Errorf("wrong port count: err = %v, want ErrPortCount", err)
	}
}

func TestIsolateNames(t *testing.T) {
	p, dir := load(t, map[string]string{"compose.yaml": `
services:
  db:
    image: postgres
    container_name: db
    volumes: [data:/var/lib/postgresql/data, cache:/cache, shared:/shared, ./init:/init, /etc/hosts:/h:ro, /srv/pgdata:/pg]
    volumes_from: ["container:legacy-data"]
    networks: [default, back, outside]
volumes:
  data: {name: shared-data}
  cache: {}
  shared: {external: true, name: team-cache}
networks:
  back: {}
  outside: {external: true}
`}, Config{})
	res, err := Isolate(p, "shop-feature-billing-3f2a", nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	wantWarnings := []string{
		`container_name "db" rewritten to "shop-feature-billing-3f2a-db"`,
		// A writable bind outside the worktree is every stack's; a
		// read-only one and one inside the worktree are not reported.
		`service "db": bind mount /srv/pgdata is writable and outside the worktree: every worktree's stack shares it; mount it read-only (:ro), or keep the data in a named volume, which is per worktree`,
		// So is a container outside the stack, like an external network.
		`service "db": volumes_from container "legacy-data" outside the stack: shared with other stacks`,
		`network "outside" is external: shared with other stacks`,
		`volume "data": name "shared-data" rewritten to "shop-feature-billing-3f2a_data"`,
		`volume "team-cache" is external: shared with other stacks`,
	}
	if !slices.Equal(res.Warnings, wantWarnings) {
		t.Errorf("warnings =\n%q\nwant\n%q", res.Warnings, wantWarnings)
	}
	db := p.Services["db"]
	if db.ContainerName != "shop-feature-billing-3f2a-db" {
		t.Errorf("container_name = %q", db.ContainerName)
	}
	names := map[string]string{
		"network default": p.Networks["default"].Name,
		"network back":    p.Networks["back"].Name,
		"network outside": p.Networks["outside"].Name,
		"volume data":     p.Volumes["data"].Name,
		"volume cache":    p.Volumes["cache"].Name,
		"volume shared":   p.Volumes["shared"].Name,
	}
	wantNames := map[string]string{
		"network default": "shop-feature-billing-3f2a_default",
		"network back":    "shop-feature-billing-3f2a_back",
		"network outside": "outside",
		"volume data":     "shop-feature-billing-3f2a_data",
		"volume cache":    "shop-feature-billing-3f2a_cache",
		"volume shared":   "team-cache",
	}
	for k, want := range wantNames {
		if names[k] != want {
			t.Errorf("%s named %q, want %q", k, names[k], want)
		}
	}
	// Bind sources are absolute: relative ones against the worktree,
	// those outside it unchanged.
	if got, want := db.Volumes[3].Source, filepath.Join(dir, "init"); got != want {
		t.Errorf("relative bind source = %q, want %q", got, want)
	}
	if got := db.Volumes[4].Source; got != "/etc/hosts" {
		t.Errorf("outside bind source = %q, want /etc/hosts", got)
	}
}

// A project name the compose file (name:) or the environment
// (COMPOSE_PROJECT_NAME) gives is replaced by the worktree's, and said.
func TestIsolateSaysWhichNameItReplaced(t *testing.T) {
	t.Setenv("COMPOSE_PROJECT_NAME", "mine")
	p, dir := load(t, map[string]string{"compose.yaml": "name: shop\nservices:\n  a:\n    image: x\n"}, Config{})
	res, err := Isolate(p, "shop-main-1a2b", nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`COMPOSE_PROJECT_NAME "mine" replaced by this worktree's project name "shop-main-1a2b"`,
		`name: "shop" in compose.yaml replaced by this worktree's project name "shop-main-1a2b"`,
	} {
		if !slices.Contains(res.Warnings, want) {
			t.Errorf("warnings %q lack %q", res.Warnings, want)
		}
	}
}
