package envs

import (
	"slices"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// addShared adds to st the shared services (names) its worktree uses, as
// services marked shared: the server's container, its ports with, for a
// database, a URL that names the worktree's own database, and the
// worktree's share of its memory. To a stack that does not exist it adds
// only the shared services that run (`wtenv up db` starts just those).
func (e *Env) addShared(st *stack.Stack, snap engine.Snapshot, f *state.File, names []string) {
	if len(names) == 0 {
		return
	}
	s, err := e.sharedEnv()
	if err != nil {
		return
	}
	scope := s.scope()
	sp := f.Projects[s.Project]
	tenants, tenant := 0, false
	if sp != nil {
		tenants = len(sp.Tenants)
		_, tenant = sp.Tenants[e.Project]
	}
	absent := st.State == stack.StateAbsent
	if absent && !tenant {
		return // not this worktree's
	}
	for _, name := range names {
		var dbs []string // the worktree's databases, in the database server
		if sp != nil && sp.Server == name {
			dbs = sp.Tenants[e.Project]
		}
		svc := stack.Service{Name: name, State: stateMissing, Ports: []stack.Port{},
			Shared: &stack.SharedUse{Project: s.Project, Databases: dbs, Worktrees: tenants}}
		for _, c := range snap.Containers {
			if !c.In(scope) || c.OneOff || c.Service != name {
				continue
			}
			svc.State, svc.Health, svc.ExitCode, svc.Container = c.State, c.Health, c.ExitCode, c.Name
			svc.Ports = portsOf(c.Ports, e.engine().Host())
			svc.Shared.ServerMemoryBytes = c.MemoryBytes
			svc.MemoryBytes = c.MemoryBytes / int64(max(tenants, 1))
			for i, p := range svc.Ports {
				if len(dbs) > 0 && p.URL != "" && scheme(p.ContainerPort) == "postgres" {
					svc.Ports[i].URL = p.URL + "/" + dbs[0]
				}
			}
		}
		if absent && svc.State == stateMissing {
			continue
		}
		st.SharedMemoryBytes += svc.MemoryBytes
		st.Services = append(st.Services, svc)
	}
	slices.SortFunc(st.Services, func(a, b stack.Service) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
}
