package envs

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/compose"
)

// Resolved is the compose project as up runs it in this worktree, after
// isolation, with every change wtenv made to it named: what `wtenv config`
// prints.
type Resolved struct {
	Project  string `json:"project"`
	Worktree string `json:"worktree"`
	Branch   string `json:"branch"`
	// ProjectDir is Docker Compose's project directory: the first compose
	// file's folder, where .env is read and relative paths start.
	ProjectDir   string   `json:"project_dir"`
	ComposeFiles []string `json:"compose_files"`
	// Rewrites name what isolation changed: the project name and each
	// published port's host side.
	Rewrites []string `json:"rewrites"`
	// Warnings name the other rewrites (container, network and volume
	// names) and what stays shared with other worktrees.
	Warnings []string `json:"warnings"`
	// Caches are the test caches each container suite mounts.
	Caches []SuiteCache `json:"caches"`
	// Compose is the isolated project, in Docker Compose's own model.
	Compose *types.Project `json:"compose"`
}

// SuiteCache is one cache a suite's runs keep: the path in its container
// and the volume, shared by the repository's worktrees, that holds it.
type SuiteCache struct {
	Suite  string `json:"suite"`
	Path   string `json:"path"`
	Volume string `json:"volume"`
	From   string `json:"from" jsonschema:"wtenv.yaml, or the toolchain defaults the service's environment shows"`
}

// Resolve loads, checks and isolates the worktree's compose project as up
// would, without starting or recording anything: the host ports are those
// up would take now (the worktree's block when it has one). It works
// without an engine (an Env from OpenWithoutEngine); ports are then probed
// on this machine only.
func (e *Env) Resolve(ctx context.Context) (Resolved, error) {
	cfg, err := e.Config()
	if err != nil {
		return Resolved{}, err
	}
	p, err := compose.Load(ctx, e.Worktree.Root, cfg, e.Project)
	if err != nil {
		return Resolved{}, err
	}
	if err := compose.Check(p, cfg); err != nil {
		return Resolved{}, err
	}
	hostPorts, note, err := e.previewPorts(ctx, compose.Published(p))
	if err != nil {
		return Resolved{}, err
	}
	unnameShared(p, cfg)
	res, err := compose.Isolate(p, e.Project, hostPorts, e.Worktree.Root)
	if err != nil {
		return Resolved{}, err
	}
	refs, err := e.shareLocal(p, cfg)
	if err != nil {
		return Resolved{}, err
	}
	out := Resolved{
		Project:      e.Project,
		Worktree:     e.Worktree.Root,
		Branch:       e.Worktree.Branch,
		ProjectDir:   p.WorkingDir,
		ComposeFiles: p.ComposeFiles,
		Rewrites:     []string{fmt.Sprintf("project name %q (from branch %q and this worktree's path)", e.Project, e.Worktree.Branch)},
		Warnings:     res.Warnings,
		Compose:      p,
	}
	if note.Conductor {
		out.Rewrites = append(out.Rewrites, fmt.Sprintf("host ports %d-%d: the ports Conductor reserved for this workspace (%s)", hostPorts[0], hostPorts[0]+conductorSpan-1, conductorPortVar))
	}
	out.Rewrites = append(out.Rewrites, res.Ports...)
	if note.Warning != "" {
		out.Warnings = append(out.Warnings, note.Warning)
	}
	for _, sh := range cfg.Share {
		out.Rewrites = append(out.Rewrites, fmt.Sprintf("service %q runs once for all worktrees of the repository (share: in wtenv.yaml) and joins this stack's networks under its name", sh.Service))
	}
	for _, r := range refs {
		out.Rewrites = append(out.Rewrites, fmt.Sprintf("%s %s: database %q → %q, this worktree's own in the shared service", r.Service, r.Variable, r.Database, r.Renamed))
	}
	out.Caches = e.suiteCaches(cfg, p)
	return out, nil
}

// suiteCaches lists the caches of cfg's container suites, from the
// service's environment (a run adds its image's, which may add defaults).
func (e *Env) suiteCaches(cfg compose.Config, p *types.Project) []SuiteCache {
	out := []SuiteCache{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Tests)) {
		suite := cfg.Tests[name]
		s, ok := p.Services[suite.Service]
		if !ok {
			s, ok = p.DisabledServices[suite.Service]
		}
		if suite.Host || !ok {
			continue
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		from := "wtenv.yaml"
		if suite.Cache == nil {
			from = "the toolchain defaults the service's environment shows"
		}
		for _, c := range e.Caches(suite)(env, s.User) {
			out = append(out, SuiteCache{Suite: name, Path: c.Path, Volume: c.Volume, From: from})
		}
	}
	return out
}
