package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Owner is a (project, worktree) pair that owns at least one container,
// network, volume or image on the engine. A stack whose up died after
// creating its network but before any container has no container to be
// found by, so gc looks at every kind of resource.
type Owner struct {
	Project, Worktree, Branch string
}

// Owners lists the owners of every resource wtenv created on the engine.
func (e *Engine) Owners(ctx context.Context) ([]Owner, error) {
	f := wtenvFilter()
	seen := map[Owner]bool{}
	add := func(labels map[string]string) {
		seen[Owner{Project: labels[LabelProject], Worktree: labels[LabelWorktree], Branch: labels[LabelBranch]}] = true
	}
	cs, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range cs.Items {
		add(c.Labels)
	}
	ns, err := e.api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	for _, n := range ns.Items {
		add(n.Labels)
	}
	vs, err := e.api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	for _, v := range vs.Items {
		add(v.Labels)
	}
	is, err := e.api.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	for _, im := range is.Items {
		add(im.Labels)
	}
	out := make([]Owner, 0, len(seen))
	for o := range seen {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Project != out[j].Project {
			return out[i].Project < out[j].Project
		}
		return out[i].Worktree < out[j].Worktree
	})
	return out, nil
}

// OneOff is a one-off test container.
type OneOff struct {
	ID, Name, Project, Worktree string
	Deadline                    time.Time
}

// ExpiredOneOffs lists one-off containers whose deadline passed more than
// grace before now: the process that ran them would have removed them at
// their deadline, so it is gone (killed) or stuck.
func (e *Engine) ExpiredOneOffs(ctx context.Context, now time.Time, grace time.Duration) ([]OneOff, error) {
	f := client.Filters{}.Add("label", LabelDeadline, LabelOneoff+"=True")
	cs, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing one-off containers: %w", err)
	}
	var out []OneOff
	for _, c := range cs.Items {
		d, err := time.Parse(time.RFC3339, c.Labels[LabelDeadline])
		if err != nil || now.Sub(d) <= grace {
			continue
		}
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = c.Names[0][1:]
		}
		out = append(out, OneOff{ID: c.ID, Name: name, Project: c.Labels[LabelProject], Worktree: c.Labels[LabelWorktree], Deadline: d})
	}
	return out, nil
}

// RemoveOneOff kills and removes a one-off container with its anonymous
// volumes; gone already is fine. Its run is over: no grace period.
func (e *Engine) RemoveOneOff(ctx context.Context, id string) error {
	_, err := e.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing one-off container %s: %w", id[:12], err)
	}
	return nil
}
