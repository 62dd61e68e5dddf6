package engine

import (
	"maps"
	"slices"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
)

// change is what Up did to one service's container.
type change int

const (
	unchanged change = iota
	restarted        // started or restarted, same container
	recreated        // a new container
)

// forcedChange is what a service's dependencies require of its container
// although its own configuration has not changed: the name of the
// dependency that requires it, or "".
type forcedChange struct {
	// restart: a dependency declared with restart: true (Compose adds it
	// for links and shared namespaces too) was recreated. As in Compose,
	// merely starting a stopped dependency (a one-shot service run
	// again) restarts nothing.
	restart string
	// recreate: the container shares the network, pid or ipc namespace
	// or the volumes of a container that was replaced, and still points
	// at the old one.
	recreate string
}

// changeSet records what Up did, service by service, for the services
// that start after them. Dependencies are reconciled first, so a
// service's dependencies are recorded by the time it asks.
type changeSet struct {
	mu sync.Mutex
	of map[string]change
}

func (c *changeSet) set(service string, what change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.of[service] = what
}

func (c *changeSet) forced(s types.ServiceConfig) forcedChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	var f forcedChange
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		if s.DependsOn[dep].Restart && c.of[dep] == recreated && f.restart == "" {
			f.restart = dep
		}
	}
	for _, dep := range sharesWith(s) {
		if c.of[dep] == recreated && f.recreate == "" {
			f.recreate = dep
		}
	}
	return f
}
