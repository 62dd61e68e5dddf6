package engine

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"
)

// DownResult counts what Down removed.
type DownResult struct {
	Containers, Networks, Volumes, Images int
}

// Down removes the project's containers (one-off ones included) and
// networks, found by label; with purge also its volumes and the images
// built for it. It is idempotent: what is already gone counts as removed
// work not needed, never as an error. Nothing without the project's labels
// is removed; a container of another project still on one of its networks
// (a shared service's server) is disconnected from it first.
func (e *Docker) Down(ctx context.Context, scope Scope, purge bool) (DownResult, error) {
	var r DownResult
	project := scope.Project
	f := scope.filter()
	cs, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return r, fmt.Errorf("listing containers of %s: %w", project, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range cs.Items {
		g.Go(func() error { return e.removeContainer(gctx, c.ID) })
	}
	if err := g.Wait(); err != nil {
		return r, err
	}
	r.Containers = len(cs.Items)

	ns, err := e.api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return r, fmt.Errorf("listing networks of %s: %w", project, err)
	}
	for _, n := range ns.Items {
		if err := e.leaveNetwork(ctx, n.ID); err != nil {
			return r, fmt.Errorf("emptying network %s: %w", n.Name, err)
		}
		if _, err := e.api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return r, fmt.Errorf("removing network %s: %w", n.Name, err)
		}
		r.Networks++
	}
	if !purge {
		return r, nil
	}
	vs, err := e.api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return r, fmt.Errorf("listing volumes of %s: %w", project, err)
	}
	for _, v := range vs.Items {
		if _, err := e.api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return r, fmt.Errorf("removing volume %s: %w", v.Name, err)
		}
		r.Volumes++
	}
	is, err := e.api.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return r, fmt.Errorf("listing images of %s: %w", project, err)
	}
	for _, im := range is.Items {
		// With its untagged parents, which only it used: a classic build's
		// step images.
		if _, err := e.api.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return r, fmt.Errorf("removing image %s: %w", im.ID, err)
		}
		r.Images++
	}
	// And the step images of other stages the builds left untagged.
	r.Images += e.removeSteps(ctx, scope.Worktree)
	return r, nil
}

// removeContainer stops the container gracefully (its stop signal and grace
// period) and removes it with its anonymous volumes.
func (e *Docker) removeContainer(ctx context.Context, id string) error {
	if _, err := e.api.ContainerStop(ctx, id, client.ContainerStopOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("stopping container %s: %w", id[:12], err)
	}
	_, err := e.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %s: %w", id[:12], err)
	}
	return nil
}
