package engine

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// ensureNetworks creates the project's networks that do not exist yet. An
// external network must already exist; a network of the same name that
// another project owns is an error rather than a silent share.
func (e *Engine) ensureNetworks(ctx context.Context, p *types.Project, meta Meta) error {
	for key, n := range p.Networks {
		res, err := e.api.NetworkInspect(ctx, n.Name, client.NetworkInspectOptions{})
		switch {
		case err == nil:
			if bool(n.External) {
				continue
			}
			if owner := res.Network.Labels[LabelProject]; owner != p.Name {
				return fmt.Errorf("network %q already exists and does not belong to project %s (owner: %q); remove it or rename the network in the compose file", n.Name, p.Name, owner)
			}
			continue
		case !cerrdefs.IsNotFound(err):
			return fmt.Errorf("network %q: %w", n.Name, err)
		case bool(n.External):
			return fmt.Errorf("external network %q does not exist; create it with `docker network create %s`", n.Name, n.Name)
		}
		labels := meta.labels()
		labels[LabelNetwork] = key
		for k, v := range n.Labels {
			labels[k] = v
		}
		_, err = e.api.NetworkCreate(ctx, n.Name, client.NetworkCreateOptions{
			Driver:     n.Driver,
			Options:    n.DriverOpts,
			Internal:   n.Internal,
			Attachable: n.Attachable,
			Labels:     labels,
		})
		if err != nil && !cerrdefs.IsConflict(err) {
			return fmt.Errorf("creating network %q: %w", n.Name, err)
		}
	}
	return nil
}

// ensureVolumes creates the project's named volumes that do not exist yet,
// with the same ownership rules as networks.
func (e *Engine) ensureVolumes(ctx context.Context, p *types.Project, meta Meta) error {
	for key, v := range p.Volumes {
		res, err := e.api.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{})
		switch {
		case err == nil:
			if bool(v.External) {
				continue
			}
			if owner := res.Volume.Labels[LabelProject]; owner != p.Name {
				return fmt.Errorf("volume %q already exists and does not belong to project %s (owner: %q); remove it or rename the volume in the compose file", v.Name, p.Name, owner)
			}
			continue
		case !cerrdefs.IsNotFound(err):
			return fmt.Errorf("volume %q: %w", v.Name, err)
		case bool(v.External):
			return fmt.Errorf("external volume %q does not exist; create it with `docker volume create %s`", v.Name, v.Name)
		}
		labels := meta.labels()
		labels[LabelVolume] = key
		for k, val := range v.Labels {
			labels[k] = val
		}
		_, err = e.api.VolumeCreate(ctx, client.VolumeCreateOptions{
			Name:       v.Name,
			Driver:     v.Driver,
			DriverOpts: v.DriverOpts,
			Labels:     labels,
		})
		if err != nil {
			return fmt.Errorf("creating volume %q: %w", v.Name, err)
		}
	}
	return nil
}
