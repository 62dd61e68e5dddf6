package envs

import (
	"net"
	"sort"
	"strconv"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
)

// This file turns what the engine reported (a Snapshot) into the shapes
// the front ends return. It asks the engine nothing.

// stateMissing marks a service that should run but has no container.
const stateMissing = "missing"

// stackOf is the scope's stack in the snapshot. expected names the
// services up would start (from the compose file), so a missing one shows
// as "missing" and the stack as partial; nil when the file is unknown.
// One-off test containers are not services.
func stackOf(snap engine.Snapshot, scope engine.Scope, host engine.Host, expected []string) stack.Stack {
	st := stack.Stack{Project: scope.Project, Services: []stack.Service{}}
	seen := map[string]bool{}
	for _, c := range snap.Containers {
		if !c.In(scope) || c.OneOff {
			continue
		}
		st.Services = append(st.Services, stack.Service{
			Name: c.Service, State: c.State, Health: c.Health, ExitCode: c.ExitCode,
			Container: c.Name, Ports: portsOf(c.Ports, host), MemoryBytes: c.MemoryBytes,
		})
		st.MemoryBytes += c.MemoryBytes
		seen[c.Service] = true
		if st.Worktree == "" {
			st.Worktree, st.Branch = c.Worktree, c.Branch
		}
	}
	for _, name := range expected {
		if !seen[name] {
			st.Services = append(st.Services, stack.Service{Name: name, State: stateMissing, Ports: []stack.Port{}})
		}
	}
	sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Name < st.Services[j].Name })
	st.State = stackState(st.Services)
	if st.State == stack.StateAbsent {
		st.Services = []stack.Service{} // nothing is "missing" from a stack that does not exist
	}
	return st
}

// summaries is every stack in the snapshot, sorted by project. One-off
// test containers count towards their stack's memory, not its state.
func summaries(snap engine.Snapshot) []stack.Summary {
	services := map[string][]stack.Service{}
	info := map[string]stack.Summary{}
	for _, c := range snap.Containers {
		s := info[c.Project]
		s.Project, s.Worktree, s.Branch = c.Project, c.Worktree, c.Branch
		s.MemoryBytes += c.MemoryBytes
		info[c.Project] = s
		if !c.OneOff {
			services[c.Project] = append(services[c.Project], stack.Service{State: c.State, ExitCode: c.ExitCode})
		}
	}
	out := make([]stack.Summary, 0, len(info))
	for p, s := range info {
		s.State = stackState(services[p])
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Project < out[j].Project })
	return out
}

// stackState summarizes service states. A service that ran to completion
// (exited 0, e.g. a migration) does not make a stack partial.
func stackState(svcs []stack.Service) string {
	running, done, existing := 0, 0, 0
	for _, s := range svcs {
		if s.State != stateMissing {
			existing++
		}
		switch {
		case s.State == "running":
			running++
		case s.State == "exited" && s.ExitCode == 0:
			done++
		}
	}
	switch {
	case existing == 0:
		return stack.StateAbsent
	case running == 0:
		return stack.StateStopped
	case running+done == len(svcs):
		return stack.StateRunning
	default:
		return stack.StatePartial
	}
}

// portsOf renders a container's published ports for the front ends: a
// port bound to no particular address, or to loopback, is reached at the
// engine host's address; one bound to a named address, at that address.
func portsOf(ps []engine.Port, host engine.Host) []stack.Port {
	out := []stack.Port{}
	for _, p := range ps {
		port := stack.Port{ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostIP: p.HostIP.String(), HostPort: p.HostPort}
		addr := p.HostIP.String()
		switch {
		case !p.HostIP.IsValid():
			port.HostIP, addr = "0.0.0.0", host.Address
		case p.HostIP.IsUnspecified(), p.HostIP.IsLoopback():
			addr = host.Address
		}
		if p.Protocol == "tcp" {
			port.URL = scheme(p.ContainerPort) + "://" + net.JoinHostPort(addr, strconv.Itoa(p.HostPort))
		}
		out = append(out, port)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ContainerPort != out[j].ContainerPort {
			return out[i].ContainerPort < out[j].ContainerPort
		}
		return out[i].HostIP < out[j].HostIP
	})
	return dedupe(out)
}

// wellKnown are container ports whose protocol is not HTTP, so a URL for
// them names the right scheme (a client can use postgres://… directly).
var wellKnown = map[int]string{
	5432: "postgres", 6379: "redis", 3306: "mysql", 27017: "mongodb",
	5672: "amqp", 4222: "nats", 11211: "memcached", 9092: "kafka", 1433: "sqlserver",
}

// scheme guesses the URL scheme of a container port: HTTP unless the port
// is a well-known non-HTTP one.
func scheme(port int) string {
	if s, ok := wellKnown[port]; ok {
		return s
	}
	return "http"
}

// dedupe drops the IPv6 twin the engine reports for a port bound on all
// addresses.
func dedupe(ps []stack.Port) []stack.Port {
	out := ps[:0]
	seen := map[string]bool{}
	for _, p := range ps {
		k := strconv.Itoa(p.ContainerPort) + p.Protocol + strconv.Itoa(p.HostPort)
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}
