package compose

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// nameOverrides says where the project's own name came from, when the
// compose files or the environment named one that isolation replaces:
// Docker Compose would use it, so the replacement is said, not silent.
func nameOverrides(p *types.Project, isolated string) []string {
	var out []string
	if v := p.Environment[givenProjectName]; v != "" && v != isolated {
		out = append(out, fmt.Sprintf("COMPOSE_PROJECT_NAME %q replaced by this worktree's project name %q", v, isolated))
	}
	for _, f := range p.ComposeFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var top struct {
			Name string `yaml:"name"`
		}
		if yaml.Unmarshal(data, &top) == nil && top.Name != "" && top.Name != isolated {
			out = append(out, fmt.Sprintf("name: %q in %s replaced by this worktree's project name %q", top.Name, filepath.Base(f), isolated))
		}
	}
	return out
}
