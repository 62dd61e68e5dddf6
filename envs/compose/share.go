package compose

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// Shared is one entry of wtenv.yaml's share: a service that runs once for
// all worktrees of the repository. Written as the service's name, or as
// {service: NAME, stateless: true} for a service whose data wtenv cannot
// keep apart per worktree and which is then simply shared.
type Shared struct {
	Service   string
	Stateless bool
}

// UnmarshalYAML reads a name or a {service, stateless} mapping.
func (s *Shared) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&s.Service)
	}
	var m struct {
		Service   string `yaml:"service"`
		Stateless bool   `yaml:"stateless"`
	}
	if n.Kind != yaml.MappingNode {
		return errors.New("a share: entry is a service name, or {service: NAME, stateless: true}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "service" && k != "stateless" {
			return fmt.Errorf("unknown key %q in a share: entry; the keys are service, stateless", k)
		}
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	if m.Service == "" {
		return errors.New("a share: entry needs service: NAME")
	}
	*s = Shared(m)
	return nil
}

// Kinds of shared service: what wtenv knows how to keep apart per
// worktree.
const (
	KindPostgres = "postgres"
	KindUnknown  = ""
)

// SharedKind is the kind of server s runs, told from its image's name:
// Postgres and the images built on it (PostGIS, TimescaleDB, pgvector).
func SharedKind(s types.ServiceConfig) string {
	name := strings.ToLower(s.Image)
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name, _, _ = strings.Cut(name, ":")
	name, _, _ = strings.Cut(name, "@")
	for _, pg := range []string{"postgres", "postgis", "timescaledb", "pgvector"} {
		if strings.Contains(name, pg) {
			return KindPostgres
		}
	}
	return KindUnknown
}

// checkShare checks share: entries against the project: each entry names
// a service, once, whose kind wtenv can keep apart per worktree, unless it
// is marked stateless.
func checkShare(p *types.Project, share []Shared) []string {
	var problems []string
	seen := map[string]bool{}
	var servers []string
	for _, sh := range share {
		if s, ok := p.Services[sh.Service]; ok && !sh.Stateless && SharedKind(s) != KindUnknown && !seen[sh.Service] {
			servers = append(servers, sh.Service)
		}
		s, ok := p.Services[sh.Service]
		switch {
		case seen[sh.Service]:
			problems = append(problems, fmt.Sprintf("wtenv.yaml share: names %q twice; name each service once", sh.Service))
		case !ok:
			problems = append(problems, fmt.Sprintf("wtenv.yaml share: names %q, which is not a service the stack starts; name one of its services", sh.Service))
		case sh.Stateless:
		case SharedKind(s) == KindUnknown:
			problems = append(problems, fmt.Sprintf("wtenv.yaml share: service %q (image %q) is not a server whose data wtenv can keep apart per worktree (Postgres is); remove it from share:, or write {service: %s, stateless: true} if its data may be common to all worktrees", sh.Service, s.Image, sh.Service))
		}
		seen[sh.Service] = true
	}
	if len(servers) > 1 {
		problems = append(problems, fmt.Sprintf("wtenv.yaml share: names %d database servers (%s); one can be shared per repository: keep one in share:, the others run in each worktree's stack", len(servers), strings.Join(servers, ", ")))
	}
	return problems
}

// ServerProject is the project that runs the shared service once for the
// repository: the service as the worktree's compose file defines it, with
// the networks, volumes, secrets and configs it uses, under the shared
// project's name. A shared service must stand alone: one that depends on
// another service is refused, naming it.
func ServerProject(p *types.Project, service, name string) (*types.Project, error) {
	s, ok := p.Services[service]
	if !ok {
		return nil, fmt.Errorf("%w: share: names %q, which is not a service the stack starts", ErrInvalidConfig, service)
	}
	for dep := range s.DependsOn {
		return nil, fmt.Errorf("%w: shared service %q depends on %q; a service shared by all worktrees cannot depend on one worktree's services: remove the dependency or the service from share:", ErrInvalidConfig, service, dep)
	}
	sp, err := p.WithSelectedServices([]string{service})
	if err != nil {
		return nil, err
	}
	sp = sp.WithoutUnnecessaryResources()
	sp.Name = name
	return sp, nil
}

// Join is a network of the worktree's stack that the shared service's
// container joins, under the names the worktree's services reach it by.
type Join struct {
	Network string   // the network's engine name
	Aliases []string // the service's name, its aliases there, link aliases
}

// Detach removes the shared service from the worktree's isolated project
// p: the stack runs without it, and the server, up and healthy before the
// stack starts, joins the returned networks instead. Dependencies on it
// are dropped and links to it become aliases. A service that shares its
// network or volumes with the shared one (network_mode, volumes_from) is
// refused, naming both.
func Detach(p *types.Project, service string) ([]Join, error) {
	s, ok := p.Services[service]
	if !ok {
		return nil, fmt.Errorf("%w: share: names %q, which is not a service the stack starts", ErrInvalidConfig, service)
	}
	nets := s.Networks
	if len(nets) == 0 {
		nets = map[string]*types.ServiceNetworkConfig{"default": nil}
	}
	joins := map[string]*Join{}
	for _, key := range slices.Sorted(maps.Keys(nets)) {
		name := key
		if n, ok := p.Networks[key]; ok && n.Name != "" {
			name = n.Name
		}
		j := &Join{Network: name, Aliases: []string{service}}
		if c := nets[key]; c != nil {
			j.Aliases = append(j.Aliases, c.Aliases...)
		}
		joins[key] = j
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if name == service {
			continue
		}
		o := p.Services[name]
		shares := o.NetworkMode == "service:"+service
		for _, vf := range o.VolumesFrom {
			target, _, _ := strings.Cut(vf, ":")
			shares = shares || target == service
		}
		if shares {
			return nil, fmt.Errorf("%w: service %q shares the network or volumes of %q, which share: runs once for all worktrees; remove %q from share:, or the network_mode/volumes_from", ErrInvalidConfig, name, service, service)
		}
		delete(o.DependsOn, service)
		var links []string
		for _, l := range o.Links {
			target, alias, _ := strings.Cut(l, ":")
			if target != service {
				links = append(links, l)
				continue
			}
			for _, j := range joins {
				if alias != "" && !slices.Contains(j.Aliases, alias) {
					j.Aliases = append(j.Aliases, alias)
				}
			}
		}
		o.Links = links
		p.Services[name] = o
	}
	*p = *p.WithServicesDisabled(service)
	delete(p.DisabledServices, service)
	out := make([]Join, 0, len(joins))
	for _, key := range slices.Sorted(maps.Keys(joins)) {
		out = append(out, *joins[key])
	}
	return out, nil
}
