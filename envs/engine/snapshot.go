package engine

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Snapshot is one look at every container wtenv made on an engine: plain
// data, from which the core assembles status, the budget's view and gc's
// verdicts without asking the engine again.
type Snapshot struct {
	// At is when the look began. Whatever changed in the state file after
	// it (an up that finished, a down) is newer than the snapshot.
	At         time.Time
	Containers []Container
}

// Container is one container as the engine reports it.
type Container struct {
	ID   string
	Name string
	// From the labels.
	Project, Service, Worktree, Branch, Host string
	OneOff                                   bool
	Deadline                                 time.Time // one-off runs with a timeout: when the run ends
	// State is the container's state: created, running, exited, restarting,
	// paused, dead.
	State string
	// Health is healthy, unhealthy or starting when the container has a
	// healthcheck; "" otherwise, or when the snapshot did not look.
	Health   string
	ExitCode int
	Ports    []Port
	// MemoryBytes is the container's memory use now; 0 when it does not run.
	MemoryBytes int64
}

// Port is one published container port as the engine reports it.
type Port struct {
	ContainerPort int
	Protocol      string     // tcp or udp
	HostIP        netip.Addr // the zero Addr when the engine names none
	HostPort      int
}

// In reports whether the container belongs to scope's stack.
func (c Container) In(scope Scope) bool {
	return c.Project == scope.Project && c.Worktree == scope.Worktree
}

// Snapshot lists every wtenv container on the engine and measures the
// running ones. The containers of detail's stack are inspected for their
// health and exit code; of other stacks only the exited service containers
// are, for their exit code (a one-shot service that completed does not make
// its stack partial). A zero detail inspects no running container.
func (e *Docker) Snapshot(ctx context.Context, detail Scope) (Snapshot, error) {
	at := time.Now()
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: wtenvFilter()})
	if err != nil {
		return Snapshot{}, fmt.Errorf("listing wtenv containers: %w", err)
	}
	memory := e.Memory(ctx, runningIDs(res.Items))
	snap := Snapshot{At: at, Containers: make([]Container, 0, len(res.Items))}
	for _, s := range res.Items {
		c := containerOf(s)
		c.MemoryBytes = memory[c.ID]
		if !c.OneOff && (c.In(detail) || s.State == container.StateExited) {
			insp, err := e.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if cerrdefs.IsNotFound(err) {
				continue // removed since the list call (a down elsewhere)
			}
			if err != nil {
				return Snapshot{}, fmt.Errorf("inspecting %s: %w", c.Name, err)
			}
			if st := insp.Container.State; st != nil {
				c.ExitCode = st.ExitCode
				if st.Health != nil {
					c.Health = e.health(ctx, c.ID, st, insp.Container.Config)
				}
			}
		}
		snap.Containers = append(snap.Containers, c)
	}
	return snap, nil
}

// containerOf reads what the list call says of a container.
func containerOf(s container.Summary) Container {
	c := Container{
		ID:       s.ID,
		Name:     s.ID[:min(12, len(s.ID))],
		Project:  s.Labels[LabelProject],
		Service:  s.Labels[LabelService],
		Worktree: s.Labels[LabelWorktree],
		Branch:   s.Labels[LabelBranch],
		Host:     s.Labels[LabelHost],
		OneOff:   s.Labels[LabelOneoff] == "True",
		State:    string(s.State),
		Health:   listedHealth(s.Status),
	}
	if len(s.Names) > 0 {
		c.Name = s.Names[0][1:]
	}
	if d, err := time.Parse(time.RFC3339, s.Labels[LabelDeadline]); err == nil {
		c.Deadline = d
	}
	for _, p := range s.Ports {
		if p.PublicPort == 0 {
			continue
		}
		c.Ports = append(c.Ports, Port{ContainerPort: int(p.PrivatePort), Protocol: p.Type, HostIP: p.IP, HostPort: int(p.PublicPort)})
	}
	return c
}

// listedHealth is the health the list call's status text gives ("Up 3
// minutes (healthy)"): the engine's own verdict, which Snapshot replaces
// with its probe's for the containers it inspects.
func listedHealth(status string) string {
	switch {
	case strings.HasSuffix(status, "(healthy)"):
		return "healthy"
	case strings.HasSuffix(status, "(unhealthy)"):
		return "unhealthy"
	case strings.HasSuffix(status, "(health: starting)"):
		return "starting"
	}
	return ""
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

// MemTotal is the memory the engine reports (on a desktop VM, the VM's:
// the real limit for containers). It is asked once per connection: status
// calls it every time and it does not change under a running engine.
func (e *Docker) MemTotal(ctx context.Context) (int64, error) {
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
