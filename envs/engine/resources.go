package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// ensureNetworks creates the project's networks that do not exist yet. An
// external network must already exist; a network of the same name that
// another project owns is an error rather than a silent share.
func (e *Docker) ensureNetworks(ctx context.Context, p *types.Project, meta Meta, progress func(string)) error {
	// Two runs of one stack at once (test runs, say) must not both find a
	// network missing and create it twice: names are not unique on the
	// engine, and a second network of one name breaks every later use.
	var names []string
	for _, n := range p.Networks {
		names = append(names, n.Name)
	}
	unlock, err := lockNames(ctx, "network", names)
	if err != nil {
		return err
	}
	defer unlock()
	for key, n := range p.Networks {
		res, err := e.api.NetworkInspect(ctx, n.Name, client.NetworkInspectOptions{})
		switch {
		case err == nil:
			if bool(n.External) {
				if err := foreign("network", n.Name, res.Network.Labels, meta); err != nil {
					return err
				}
				continue
			}
			if owner := res.Network.Labels[LabelProject]; owner != p.Name || res.Network.Labels[LabelWorktree] != meta.Worktree {
				return fmt.Errorf("network %q already exists and does not belong to project %s (owner: %q); remove it or rename the network in the compose file", n.Name, p.Name, owner)
			}
			continue
		case !cerrdefs.IsNotFound(err):
			return fmt.Errorf("network %q: %w", n.Name, err)
		case bool(n.External):
			return fmt.Errorf("external network %q does not exist; create it with `docker network create %s`", n.Name, n.Name)
		}
		labels := withOwn(n.Labels, meta.labels())
		labels[LabelNetwork] = key
		progress("creating network " + n.Name)
		var ipam *network.IPAM
		if n.Ipam.Driver != "" || len(n.Ipam.Options) > 0 {
			// Fixed subnets (ipam.config) are refused by the check.
			ipam = &network.IPAM{Driver: n.Ipam.Driver, Options: n.Ipam.Options}
		}
		_, err = e.api.NetworkCreate(ctx, n.Name, client.NetworkCreateOptions{
			Driver:     n.Driver,
			Options:    n.DriverOpts,
			Internal:   n.Internal,
			Attachable: n.Attachable,
			IPAM:       ipam,
			Labels:     labels,
		})
		if err != nil && !cerrdefs.IsConflict(err) {
			return fmt.Errorf("creating network %q: %w", n.Name, err)
		}
		crashPoint(CrashNetworkCreated)
	}
	return nil
}

// ensureVolumes creates the project's named volumes that do not exist yet,
// with the same ownership rules as networks.
func (e *Docker) ensureVolumes(ctx context.Context, p *types.Project, meta Meta, progress func(string)) error {
	for key, v := range p.Volumes {
		res, err := e.api.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{})
		switch {
		case err == nil:
			if bool(v.External) {
				if err := foreign("volume", v.Name, res.Volume.Labels, meta); err != nil {
					return err
				}
				continue
			}
			if owner := res.Volume.Labels[LabelProject]; owner != p.Name || res.Volume.Labels[LabelWorktree] != meta.Worktree {
				return fmt.Errorf("volume %q already exists and does not belong to project %s (owner: %q); remove it or rename the volume in the compose file", v.Name, p.Name, owner)
			}
			continue
		case !cerrdefs.IsNotFound(err):
			return fmt.Errorf("volume %q: %w", v.Name, err)
		case bool(v.External):
			return fmt.Errorf("external volume %q does not exist; create it with `docker volume create %s`", v.Name, v.Name)
		}
		labels := withOwn(v.Labels, meta.labels())
		labels[LabelVolume] = key
		progress("creating volume " + v.Name)
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

// foreign refuses an external network or volume that belongs to another
// worktree's stack: declaring it external must not be a way into another
// agent's network or data.
func foreign(kind, name string, labels map[string]string, meta Meta) error {
	wt, ok := labels[LabelWorktree]
	if !ok || wt == meta.Worktree {
		return nil
	}
	return fmt.Errorf("external %s %q belongs to the wtenv stack of worktree %s; a stack may not join another worktree's %s — use a %s no wtenv stack owns", kind, name, wt, kind, kind)
}

// createHostPaths creates missing bind-mount sources the compose file's
// short syntax asks for (create_host_path), as compose does; the API's
// mounts do not create them. Only a local engine shares this filesystem.
func (e *Docker) createHostPaths(s types.ServiceConfig) error {
	if !e.host.Local {
		return nil
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind || v.Bind == nil || !v.Bind.CreateHostPath {
			continue
		}
		if _, err := os.Stat(v.Source); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(v.Source, 0o755); err != nil {
				return fmt.Errorf("service %q: creating bind mount source %s: %w", s.Name, v.Source, err)
			}
		}
	}
	return nil
}
