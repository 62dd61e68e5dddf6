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
	Version     string // wtenv version
}

// labels returns the labels every resource of the stack carries.
func (m Meta) labels() map[string]string {
	return map[string]string{
		LabelProject:      m.Project,
		LabelWorkingDir:   m.Worktree,
		LabelConfigFiles:  m.ConfigFiles,
		LabelVersion:      composeVersion,
		LabelWorktree:     m.Worktree,
		LabelBranch:       m.Branch,
		LabelWtenvVersion: m.Version,
	}
}

// containerLabels are the labels of a service container: the stack's, the
// service's own from the compose file, and compose's per-container ones.
func (m Meta) containerLabels(s types.ServiceConfig, oneoff bool, hash, imageID string) map[string]string {
	labels := m.labels()
	for k, v := range s.Labels {
		labels[k] = v
	}
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

// projectFilter selects the resources of one wtenv project. Requiring the
// worktree label as well as the project label means a compose project of
// the same name that wtenv did not create is never touched.
func projectFilter(project string) client.Filters {
	return client.Filters{}.Add("label", LabelProject+"="+project, LabelWorktree)
}

// wtenvFilter selects every resource wtenv created, of any project.
func wtenvFilter() client.Filters {
	return client.Filters{}.Add("label", LabelWorktree)
}
