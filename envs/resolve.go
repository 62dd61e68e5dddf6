package envs

import (
	"context"
	"fmt"

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
	// Compose is the isolated project, in Docker Compose's own model.
	Compose *types.Project `json:"compose"`
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
	return out, nil
}
