package engine

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/stack"
)

// Snapshot is one look at every wtenv container on the engine, with the
// memory of the running ones. A status call reads both its own stack and
// the budget's view of all stacks from one snapshot, so it lists and
// measures once.
type Snapshot struct {
	e          *Engine
	containers []container.Summary
	memory     map[string]int64
}

// Snapshot lists every wtenv container and measures the running ones.
func (e *Engine) Snapshot(ctx context.Context) (*Snapshot, error) {
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: wtenvFilter()})
	if err != nil {
		return nil, fmt.Errorf("listing wtenv containers: %w", err)
	}
	return &Snapshot{e: e, containers: res.Items, memory: e.Memory(ctx, runningIDs(res.Items))}, nil
}

// Stack reports the scope's service containers. expected names the
// services up would start (from the compose file), so a missing one shows
// as "missing" and the stack as partial; nil when the file is unknown.
func (s *Snapshot) Stack(ctx context.Context, scope Scope, expected []string) (stack.Stack, error) {
	st := stack.Stack{Project: scope.Project, Services: []stack.Service{}}
	seen := map[string]bool{}
	for _, c := range s.containers {
		if c.Labels[LabelProject] != scope.Project || c.Labels[LabelWorktree] != scope.Worktree || c.Labels[LabelOneoff] == "True" {
			continue
		}
		svc, err := s.e.service(ctx, c)
		if cerrdefs.IsNotFound(err) {
			continue // removed since the list call (a down elsewhere)
		}
		if err != nil {
			return st, err
		}
		svc.MemoryBytes = s.memory[c.ID]
		st.MemoryBytes += svc.MemoryBytes
		st.Services = append(st.Services, svc)
		seen[svc.Name] = true
		if st.Worktree == "" {
			st.Worktree, st.Branch = c.Labels[LabelWorktree], c.Labels[LabelBranch]
		}
	}
	for _, name := range expected {
		if !seen[name] {
			st.Services = append(st.Services, stack.Service{Name: name, State: stateMissing, Ports: []stack.Port{}})
		}
	}
	sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Name < st.Services[j].Name })
	st.State = stackState(st.Services)
	return st, nil
}

// runningIDs lists the running containers: only they have memory to
// measure, and asking the stats API about the others costs a second each.
func runningIDs(cs []container.Summary) []string {
	var ids []string
	for _, c := range cs {
		if c.State == container.StateRunning {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// stateMissing marks a service that should run but has no container.
const stateMissing = "missing"

// service describes one container; health and exit code need an inspect,
// which costs about a millisecond on a local engine.
func (e *Engine) service(ctx context.Context, c container.Summary) (stack.Service, error) {
	svc := stack.Service{Name: c.Labels[LabelService], State: string(c.State), Ports: ports(c.Ports)}
	if len(c.Names) > 0 {
		svc.Container = c.Names[0][1:]
	}
	insp, err := e.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		return svc, fmt.Errorf("inspecting %s: %w", svc.Container, err)
	}

	if s := insp.Container.State; s != nil {
		svc.ExitCode = s.ExitCode
		if s.Health != nil {
			svc.Health = string(s.Health.Status)
		}
	}
	return svc, nil
}

func ports(ps []container.PortSummary) []stack.Port {
	out := []stack.Port{}
	for _, p := range ps {
		if p.PublicPort == 0 {
			continue
		}
		ip := p.IP.String()
		port := stack.Port{ContainerPort: int(p.PrivatePort), Protocol: p.Type, HostIP: ip, HostPort: int(p.PublicPort)}
		if !p.IP.IsValid() || p.IP.IsUnspecified() {
			ip = "127.0.0.1"
			if !p.IP.IsValid() {
				port.HostIP = "0.0.0.0"
			}
		}
		if p.Type == "tcp" {
			port.URL = scheme(p.PrivatePort) + "://" + net.JoinHostPort(ip, strconv.Itoa(int(p.PublicPort)))
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
var wellKnown = map[uint16]string{
	5432: "postgres", 6379: "redis", 3306: "mysql", 27017: "mongodb",
	5672: "amqp", 4222: "nats", 11211: "memcached", 9092: "kafka", 1433: "sqlserver",
}

// scheme guesses the URL scheme of a container port: HTTP unless the port
// is a well-known non-HTTP one.
func scheme(port uint16) string {
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

// stackState summarizes service states. A service that ran to completion
// (exited 0, e.g. a migration) does not make a stack partial.
func stackState(svcs []stack.Service) string {
	running, done, existing := 0, 0, 0
	for _, s := range svcs {
		if s.State != stateMissing {
			existing++
		}
		switch {
		case s.State == string(container.StateRunning):
			running++
		case s.State == string(container.StateExited) && s.ExitCode == 0:
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

// MemTotal is the memory the engine reports (on a desktop VM, the VM's:
// the real limit for containers). It is asked once per connection: status
// calls it every time and it does not change under a running engine.
func (e *Engine) MemTotal(ctx context.Context) (int64, error) {
	e.memMu.Lock()
	defer e.memMu.Unlock()
	if e.memTotal > 0 {
		return e.memTotal, nil
	}
	info, err := e.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return 0, fmt.Errorf("engine info: %w", err)
	}
	e.memTotal = info.Info.MemTotal
	return e.memTotal, nil
}
