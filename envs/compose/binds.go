package compose

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// inside reports whether path is dir or lies under it.
func inside(dir, path string) bool {
	if dir == "" {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
