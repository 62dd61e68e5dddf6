package engine

import (
	"context"
	"fmt"
	"sort"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Owner is a (project, worktree) pair that owns at least one container,
// network, volume or image on the engine. A stack whose up died after
// creating its network but before any container has no container to be
// found by, so gc looks at every kind of resource.
type Owner struct {
	Project, Worktree, Branch string
	Host                      string // dev.wtenv.host: the machine whose worktree it is; "" on stacks made before the label existed
	Shared                    bool   // dev.wtenv.shared: services a repository's worktrees share
}

// Owners lists the owners of every resource wtenv created on the engine.
func (e *Docker) Owners(ctx context.Context) ([]Owner, error) {
	f := wtenvFilter()
	seen := map[Owner]bool{}
	add := func(labels map[string]string) {
		seen[Owner{Project: labels[LabelProject], Worktree: labels[LabelWorktree], Branch: labels[LabelBranch], Host: labels[LabelHost], Shared: labels[LabelShared] == "true"}] = true
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

// RemoveOneOff kills and removes a one-off container with its anonymous
// volumes; gone already is fine. Its run is over: no grace period.
func (e *Docker) RemoveOneOff(ctx context.Context, id string) error {
	_, err := e.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing one-off container %s: %w", id[:12], err)
	}
	return nil
}
