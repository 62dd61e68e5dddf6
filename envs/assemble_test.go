package envs

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
)

var (
	local  = engine.HostOf("unix:///var/run/docker.sock")
	remote = engine.HostOf("ssh://me@bigbox")
	shop   = engine.Scope{Project: "shop-main-49c6", Worktree: "/src/shop"}
	other  = engine.Scope{Project: "shop-fix-07be", Worktree: "/src/shop-fix"}
)

func ctr(scope engine.Scope, service, state string) engine.Container {
	return engine.Container{
		ID: scope.Project + "-" + service, Name: scope.Project + "-" + service + "-1",
		Project: scope.Project, Worktree: scope.Worktree, Branch: "main", Service: service, State: state,
	}
}

func tcp(containerPort, hostPort int, ip string) engine.Port {
	p := engine.Port{ContainerPort: containerPort, Protocol: "tcp", HostPort: hostPort}
	if ip != "" {
		p.HostIP = netip.MustParseAddr(ip)
	}
	return p
}

func TestStackOfAssemblesTheScopesServices(t *testing.T) {
	api := ctr(shop, "api", "running")
	api.Health, api.MemoryBytes = "healthy", 12<<20
	api.Ports = []engine.Port{tcp(8080, 21480, "127.0.0.1")}
	db := ctr(shop, "db", "running")
	db.MemoryBytes = 50 << 20
	db.Ports = []engine.Port{tcp(5432, 21481, "0.0.0.0"), tcp(5432, 21481, "::")}
	migrate := ctr(shop, "migrate", "exited")
	oneoff := ctr(shop, "api", "running")
	oneoff.OneOff, oneoff.MemoryBytes = true, 99<<20
	snap := engine.Snapshot{Containers: []engine.Container{api, db, migrate, oneoff, ctr(other, "api", "running")}}

	st := stackOf(snap, shop, local, []string{"api", "db", "migrate", "worker"})
	if st.State != stack.StatePartial {
		t.Errorf("state %s, want partial (worker is missing)", st.State)
	}
	var names, states []string
	for _, s := range st.Services {
		names, states = append(names, s.Name), append(states, s.State)
	}
	if want := []string{"api", "db", "migrate", "worker"}; !reflect.DeepEqual(names, want) {
		t.Errorf("services %v, want %v (no one-off, none of the other stack)", names, want)
	}
	if want := []string{"running", "running", "exited", "missing"}; !reflect.DeepEqual(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	if st.MemoryBytes != 62<<20 {
		t.Errorf("memory %d, want the services' 62 MiB without the one-off", st.MemoryBytes)
	}
	if got := st.Services[1].Ports; len(got) != 1 || got[0].URL != "postgres://127.0.0.1:21481" || got[0].HostIP != "0.0.0.0" {
		t.Errorf("db ports %+v: want one port, its IPv6 twin dropped, a postgres URL on 127.0.0.1", got)
	}

	st = stackOf(snap, shop, local, []string{"api", "db", "migrate"})
	if st.State != stack.StateRunning {
		t.Errorf("state %s, want running: a service that completed does not make a stack partial", st.State)
	}
	if absent := stackOf(snap, engine.Scope{Project: "x", Worktree: "/x"}, local, []string{"api"}); absent.State != stack.StateAbsent || len(absent.Services) != 0 {
		t.Errorf("a stack without containers: %s %+v", absent.State, absent.Services)
	}
}

// URLs carry the address the engine's host answers on: 127.0.0.1 for a
// local engine, the remote machine's name for a remote one, and a named
// address as it is.
func TestPortsAddressFollowsTheEngineHost(t *testing.T) {
	ports := []engine.Port{tcp(8080, 21480, "127.0.0.1"), tcp(80, 21482, ""), tcp(9000, 21483, "10.1.2.3"), {ContainerPort: 53, Protocol: "udp", HostPort: 21484}}
	for _, c := range []struct {
		host engine.Host
		want []string
	}{
		{local, []string{"", "http://127.0.0.1:21482", "http://127.0.0.1:21480", "http://10.1.2.3:21483"}},
		{remote, []string{"", "http://bigbox:21482", "http://bigbox:21480", "http://10.1.2.3:21483"}},
	} {
		var got []string
		for _, p := range portsOf(ports, c.host) {
			got = append(got, p.URL)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: URLs %q, want %q", c.host.Endpoint, got, c.want)
		}
	}
}

func TestHostOf(t *testing.T) {
	for _, c := range []struct {
		endpoint string
		local    bool
		address  string
	}{
		{"unix:///var/run/docker.sock", true, "127.0.0.1"},
		{"npipe:////./pipe/docker_engine", true, "127.0.0.1"},
		{"tcp://127.0.0.1:2375", true, "127.0.0.1"},
		{"tcp://localhost:2375", true, "127.0.0.1"},
		{"tcp://[::1]:2375", true, "127.0.0.1"},
		{"tcp://10.0.0.5:2376", false, "10.0.0.5"},
		{"ssh://me@bigbox", false, "bigbox"},
		{"ssh://me@bigbox:2222", false, "bigbox"},
	} {
		h := engine.HostOf(c.endpoint)
		if h.Local != c.local || h.Address != c.address || h.Endpoint != c.endpoint {
			t.Errorf("HostOf(%q) = %+v, want local %v at %s", c.endpoint, h, c.local, c.address)
		}
	}
}

// One-off test containers count towards their stack's memory, never its
// state; a stack of exited containers is stopped.
func TestSummaries(t *testing.T) {
	api := ctr(shop, "api", "running")
	api.MemoryBytes = 10
	oneoff := ctr(shop, "tests", "running")
	oneoff.OneOff, oneoff.MemoryBytes = true, 5
	failed := ctr(other, "api", "exited")
	failed.ExitCode = 2
	got := summaries(engine.Snapshot{Containers: []engine.Container{oneoff, api, failed}})
	want := []stack.Summary{
		{Project: other.Project, Worktree: other.Worktree, Branch: "main", State: stack.StateStopped},
		{Project: shop.Project, Worktree: shop.Worktree, Branch: "main", State: stack.StateRunning, MemoryBytes: 15},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summaries:\n got %+v\nwant %+v", got, want)
	}
}
