package engine

import (
	"context"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Join connects a container to a network under aliases: a shared
// service's server joins each worktree's network under the names that
// worktree's services reach it by. It is idempotent; a container there
// under other aliases is connected again with these.
func (e *Docker) Join(ctx context.Context, container, net string, aliases []string) error {
	res, err := e.api.ContainerInspect(ctx, container, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("joining %s to %s: %w", container, net, err)
	}
	if ep, ok := res.Container.NetworkSettings.Networks[net]; ok {
		if !slices.ContainsFunc(aliases, func(a string) bool { return !slices.Contains(ep.Aliases, a) }) {
			return nil
		}
		if _, err := e.api.NetworkDisconnect(ctx, net, client.NetworkDisconnectOptions{Container: container, Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("joining %s to %s again: %w", container, net, err)
		}
	}
	if _, err := e.api.NetworkConnect(ctx, net, client.NetworkConnectOptions{Container: container, EndpointConfig: &network.EndpointSettings{Aliases: aliases}}); err != nil {
		return fmt.Errorf("joining %s to %s: %w", container, net, err)
	}
	return nil
}

// leaveNetwork disconnects every container still on a network that is
// about to be removed: once the stack's own containers are gone, those are
// others that joined it, such as a shared service's server.
func (e *Docker) leaveNetwork(ctx context.Context, id string) error {
	res, err := e.api.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for cid := range res.Network.Containers {
		if _, err := e.api.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: cid, Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("disconnecting %s: %w", cid[:min(12, len(cid))], err)
		}
	}
	return nil
}
