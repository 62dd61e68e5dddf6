package engine

import (
	"context"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"
)

// Stop stops the scope's running service containers and keeps them, with
// their volumes, networks, names and ports, so that Up starts them again
// as they were. Dependents stop before what they depend on, as Docker
// Compose's stop orders them (from the depends_on label), each with its
// own stop signal and grace period. It returns how many it stopped; a
// container already stopped or gone counts as done.
func (e *Docker) Stop(ctx context.Context, scope Scope) (int, error) {
	return e.stop(ctx, scope, nil)
}

// stop is Stop for the services only says yes to (nil: all).
func (e *Docker) stop(ctx context.Context, scope Scope, only func(service string) bool) (int, error) {
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{Filters: scope.services()})
	if err != nil {
		return 0, fmt.Errorf("listing containers of %s: %w", scope.Project, err)
	}
	running := map[string]container.Summary{}
	for _, c := range res.Items {
		if (c.State == container.StateRunning || c.State == container.StateRestarting) && (only == nil || only(c.Labels[LabelService])) {
			running[c.Labels[LabelService]] = c
		}
	}
	stopped := 0
	for _, level := range stopOrder(running) {
		g, gctx := errgroup.WithContext(ctx)
		for _, c := range level {
			g.Go(func() error {
				if _, err := e.api.ContainerStop(gctx, c.ID, client.ContainerStopOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
					return fmt.Errorf("stopping %s: %w", strings.TrimPrefix(firstName(c), "/"), err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return stopped, err
		}
		stopped += len(level)
		crashPoint(CrashStopped)
	}
	return stopped, nil
}

// stopOrder groups containers into levels: each level holds the
// containers no remaining container depends on, so it can stop in
// parallel once the levels before it have.
func stopOrder(cs map[string]container.Summary) [][]container.Summary {
	// dependents counts, for each service, the running services that
	// depend on it.
	dependents := map[string]int{}
	for _, c := range cs {
		for _, dep := range dependsOn(c) {
			if _, ok := cs[dep]; ok {
				dependents[dep]++
			}
		}
	}
	var levels [][]container.Summary
	left := len(cs)
	done := map[string]bool{}
	for left > 0 {
		var level []container.Summary
		for name, c := range cs {
			if !done[name] && dependents[name] == 0 {
				level = append(level, c)
			}
		}
		if len(level) == 0 { // a cycle (the loader refuses them): stop the rest together
			for name, c := range cs {
				if !done[name] {
					level = append(level, c)
				}
			}
		}
		for _, c := range level {
			name := c.Labels[LabelService]
			done[name] = true
			left--
			for _, dep := range dependsOn(c) {
				dependents[dep]--
			}
		}
		levels = append(levels, level)
	}
	return levels
}

// dependsOn reads the services a container depends on from the label
// dependsOnLabel writes (service:condition:restart,...).
func dependsOn(c container.Summary) []string {
	var out []string
	for _, part := range strings.Split(c.Labels[LabelDependsOn], ",") {
		if name, _, _ := strings.Cut(part, ":"); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func firstName(c container.Summary) string {
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return c.ID[:12]
}
