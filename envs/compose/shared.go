package compose

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// sharedBinds warns about each writable bind mount of s whose source lies
// outside the worktree: it is the same directory for every worktree's
// stack, so two stacks writing a database there corrupt each other.
// Sockets and devices (the engine's socket, /dev/fuse) are shared by
// nature and not reported.
func sharedBinds(s types.ServiceConfig, worktree string) []string {
	var out []string
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind || v.ReadOnly || !filepath.IsAbs(v.Source) || inside(worktree, v.Source) {
			continue
		}
		if info, err := os.Stat(v.Source); err == nil && info.Mode()&(fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0 {
			continue
		}
		out = append(out, fmt.Sprintf("service %q: bind mount %s is writable and outside the worktree: every worktree's stack shares it; mount it read-only (:ro), or keep the data in a named volume, which is per worktree", s.Name, v.Source))
	}
	return out
}

// outsideContainers warns about each reference of s to a container outside
// the stack (network_mode, pid, ipc or volumes_from container:<name>,
// external_links): like an external network, it is shared with every
// worktree's stack, on purpose.
func outsideContainers(s types.ServiceConfig) []string {
	var out []string
	refs := map[string]string{"network_mode": s.NetworkMode, "pid": s.Pid, "ipc": s.Ipc}
	for _, key := range slices.Sorted(maps.Keys(refs)) {
		if name, ok := strings.CutPrefix(refs[key], types.ContainerPrefix); ok {
			out = append(out, fmt.Sprintf("service %q: %s joins container %q outside the stack: shared with other stacks", s.Name, key, name))
		}
	}
	for _, v := range s.VolumesFrom {
		if name, ok := strings.CutPrefix(v, types.ContainerPrefix); ok {
			out = append(out, fmt.Sprintf("service %q: volumes_from container %q outside the stack: shared with other stacks", s.Name, name))
		}
	}
	for _, l := range s.ExternalLinks {
		name, _, _ := strings.Cut(l, ":")
		out = append(out, fmt.Sprintf("service %q: external_links to container %q outside the stack: shared with other stacks", s.Name, name))
	}
	return out
}

// inside reports whether path is dir or lies under it.
func inside(dir, path string) bool {
	if dir == "" {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
