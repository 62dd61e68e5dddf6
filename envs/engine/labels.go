package engine

import (
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
)

// Docker Compose's labels. wtenv writes them on everything it creates so that
// `docker compose -p <project> ps|logs|down` works on a wtenv stack; compose
// ignores containers that lack the config-hash label, so it is never omitted.
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelOneoff      = "com.docker.compose.oneoff"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelConfigHash  = "com.docker.compose.config-hash"
	LabelImage       = "com.docker.compose.image"
	LabelDependsOn   = "com.docker.compose.depends_on"
	LabelNetwork     = "com.docker.compose.network"
	LabelVolume      = "com.docker.compose.volume"
	LabelVersion     = "com.docker.compose.version"
)

// wtenv's own labels.
const (
	LabelWorktree     = "dev.wtenv.worktree"
	LabelBranch       = "dev.wtenv.branch"
	LabelWtenvVersion = "dev.wtenv.version"
	// LabelHost names the machine whose worktree the stack belongs to
	// (identity.Machine). Only that machine can tell whether the worktree
	// still exists, so gc judges a stack only on its own machine: on a
	// shared or remote engine it never removes another machine's stacks.
	LabelHost = "dev.wtenv.host"
	// LabelDeadline is on one-off test containers with a timeout: the time
	// (RFC 3339) by which their run has ended. A one-off still there well
	// after it lost the process that ran it, and gc removes it.
	LabelDeadline = "dev.wtenv.deadline"
	// LabelShared is "true" on a stack of services that a repository's
	// worktrees share (share: in wtenv.yaml).
	LabelShared = "dev.wtenv.shared"
)

// composeVersion is what wtenv writes into com.docker.compose.version: the
// compose file format generation whose labels it follows.
const composeVersion = "2.0.0"

// Meta is what the labels record about the worktree a stack belongs to.
type Meta struct {
	Project     string
	Worktree    string
	Branch      string
	ConfigFiles string // comma-separated absolute paths, as compose writes them
	ProjectDir  string // compose's project directory (the first file's folder); "" means Worktree
	Version     string // wtenv version
	Host        string // the machine whose worktree this is (dev.wtenv.host)
	Shared      bool   // a stack of services the repository's worktrees share
}

// labels returns the labels every resource of the stack carries.
func (m Meta) labels() map[string]string {
	dir := m.ProjectDir
	if dir == "" {
		dir = m.Worktree
	}
	l := map[string]string{
		LabelProject:      m.Project,
		LabelWorkingDir:   dir,
		LabelConfigFiles:  m.ConfigFiles,
		LabelVersion:      composeVersion,
		LabelWorktree:     m.Worktree,
		LabelBranch:       m.Branch,
		LabelWtenvVersion: m.Version,
		LabelHost:         m.Host,
	}
	if m.Shared {
		l[LabelShared] = "true"
	}
	return l
}

// imageLabels are the labels of an image built for the stack: only those
// that find it again (gc, down --purge) and say whose it is. The classic
// builder adds each label as a build step of its own, which costs about a
// second on some storage drivers, and an image built from the same context
// for several services is then the same image, built once and cached for
// the others.
func (m Meta) imageLabels() map[string]string {
	return map[string]string{
		LabelProject:  m.Project,
		LabelWorktree: m.Worktree,
		LabelBranch:   m.Branch,
		LabelHost:     m.Host,
	}
}

// withOwn merges the compose file's labels with wtenv's own, which win: a
// label in the file must never move a resource into another project.
func withOwn(user map[string]string, own map[string]string) map[string]string {
	out := make(map[string]string, len(user)+len(own))
	for k, v := range user {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// containerLabels are the labels of a service container: the stack's, the
// service's own from the compose file, and compose's per-container ones.
func (m Meta) containerLabels(s types.ServiceConfig, oneoff bool, hash, imageID string) map[string]string {
	labels := withOwn(s.Labels, m.labels())
	labels[LabelService] = s.Name
	labels[LabelNumber] = "1"
	labels[LabelOneoff] = "False"
	if oneoff {
		labels[LabelOneoff] = "True"
	}
	labels[LabelConfigHash] = hash
	labels[LabelImage] = imageID
	labels[LabelDependsOn] = dependsOnLabel(s)
	return labels
}

// Scope names one worktree's stack. Resources are selected by both the
// project label and the worktree label, so neither a compose project of
// the same name that wtenv did not create nor another worktree whose name
// happens to collide is ever touched.
type Scope struct {
	Project  string
	Worktree string
}

// Scope is the stack the labels describe.
func (m Meta) Scope() Scope { return Scope{Project: m.Project, Worktree: m.Worktree} }

// filter selects the scope's resources.
func (s Scope) filter() client.Filters {
	return client.Filters{}.Add("label", LabelProject+"="+s.Project, LabelWorktree+"="+s.Worktree)
}

// services selects the scope's service containers (no one-off runs).
func (s Scope) services() client.Filters {
	return s.filter().Add("label", LabelOneoff+"=False")
}

// wtenvFilter selects every resource wtenv created, of any project.
func wtenvFilter() client.Filters {
	return client.Filters{}.Add("label", LabelWorktree)
}
