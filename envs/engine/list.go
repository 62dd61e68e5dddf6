package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/stack"
)

// List summarizes every wtenv stack on the engine, found by label.
func (e *Engine) List(ctx context.Context) ([]stack.Summary, error) {
	snap, err := e.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Stacks(ctx), nil
}

// Stacks summarizes every stack in the snapshot. One-off test containers
// count towards their stack's memory, not its state.
func (snap *Snapshot) Stacks(ctx context.Context) []stack.Summary {
	e, mem := snap.e, snap.memory
	byProject := map[string][]stack.Service{}
	info := map[string]stack.Summary{}
	for _, c := range snap.containers {
		p := c.Labels[LabelProject]
		s := info[p]
		s.Project, s.Worktree, s.Branch = p, c.Labels[LabelWorktree], c.Labels[LabelBranch]
		s.MemoryBytes += mem[c.ID]
		info[p] = s
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		svc := stack.Service{State: string(c.State)}
		if c.State == container.StateExited {
			// The list response has no exit code; a one-shot service that
			// completed must not make its stack look partial.
			if insp, err := e.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{}); err == nil && insp.Container.State != nil {
				svc.ExitCode = insp.Container.State.ExitCode
			}
		}
		byProject[p] = append(byProject[p], svc)
	}
	out := make([]stack.Summary, 0, len(info))
	for p, s := range info {
		s.State = stackState(byProject[p])
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Project < out[j].Project })
	return out
}

// HostPorts lists the host ports the project's containers publish now. It
// needs one list call, no inspect, so port assignment stays cheap.
func (e *Engine) HostPorts(ctx context.Context, scope Scope) (map[int]bool, error) {
	project := scope.Project
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: scope.filter()})
	if err != nil {
		return nil, fmt.Errorf("listing containers of %s: %w", project, err)
	}
	own := map[int]bool{}
	for _, c := range res.Items {
		for _, p := range c.Ports {
			if p.PublicPort != 0 {
				own[int(p.PublicPort)] = true
			}
		}
	}
	return own, nil
}
