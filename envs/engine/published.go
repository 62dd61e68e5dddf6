package engine

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// PublishedPorts maps every host port that a container on the engine
// publishes now, wtenv's or not, to the stack that publishes it (its
// project and worktree labels, empty for containers wtenv did not make).
// One list call, no inspect, so port assignment stays cheap. On a remote
// engine it is the only view of which ports are taken there; locally it
// also catches ports the engine forwards without a listening proxy.
func (e *Docker) PublishedPorts(ctx context.Context) (map[int]Scope, error) {
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := map[int]Scope{}
	for _, c := range res.Items {
		for _, p := range c.Ports {
			if p.PublicPort != 0 {
				out[int(p.PublicPort)] = Scope{Project: c.Labels[LabelProject], Worktree: c.Labels[LabelWorktree]}
			}
		}
	}
	return out, nil
}
