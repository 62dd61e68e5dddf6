package envs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/state"
)

// Conductor, an app that runs coding agents in git worktrees, reserves ten
// consecutive host ports for each of its workspaces and names the first in
// CONDUCTOR_PORT. A stack that fits in them publishes there rather than in
// a block of WTENV_PORT_RANGE, so Conductor's own view of the workspace's
// ports is right.
const (
	conductorPortVar = "CONDUCTOR_PORT"
	conductorSpan    = 10
)

// portNote says where a stack's host ports came from when CONDUCTOR_PORT
// had a say.
type portNote struct {
	// Conductor is set when the ports are the ones Conductor reserved.
	Conductor bool
	// Warning says why CONDUCTOR_PORT is set but not used, or why the
	// ports moved.
	Warning string
	// Moved says why the stack's ports moved to another block, when they
	// did.
	Moved string
}

// conductorBlock is the block a stack publishing n host ports takes from
// CONDUCTOR_PORT, or nil when it takes one of wtenv's own; a note says why
// when CONDUCTOR_PORT is set and not used. An invalid CONDUCTOR_PORT is a
// configuration error naming it.
func (e *Env) conductorBlock(f *state.File, n int, free func(int) bool) (*state.PortBlock, portNote, error) {
	// The shared stack serves every worktree of the repository, so no
	// one workspace's ports are its own.
	if n <= 0 || e.sharedStack() {
		return nil, portNote{}, nil
	}
	raw := strings.TrimSpace(os.Getenv(conductorPortVar))
	if raw == "" {
		// A block taken from CONDUCTOR_PORT (ten ports; wtenv's own are
		// whole blocks of 32) stays the stack's when a later run lacks the
		// variable, such as `wtenv up` in a terminal outside Conductor, so
		// its ports do not move; that is Conductor's range for the
		// workspace still.
		if cur := currentBlock(f, e.Project); cur != nil && cur.Size == conductorSpan && n <= conductorSpan && e.conductorUnfit(f, *cur, n, free) == "" {
			return cur, portNote{Conductor: true}, nil
		}
		return nil, portNote{}, nil
	}
	start, err := strconv.Atoi(raw)
	if err != nil || start < 1 || start+conductorSpan-1 > 65535 {
		return nil, portNote{}, &settingError{
			msg: fmt.Sprintf("%s=%q is not a port: Conductor sets it to the first of the %d ports it reserved for the workspace, a number from 1 to %d; unset it or fix its value",
				conductorPortVar, os.Getenv(conductorPortVar), conductorSpan, 65535-conductorSpan+1),
		}
	}
	// The ports are those of the workspace this process runs in: a
	// command or server run there for another worktree (--worktree, the
	// worktree argument) must not take them.
	if cwd, err := os.Getwd(); err != nil || !inside(cwd, e.Worktree.Root) {
		return nil, portNote{Warning: fmt.Sprintf("%s is set for the workspace this process runs in, not for %s: the stack's ports are in wtenv's own port block",
			conductorPortVar, e.Worktree.Root)}, nil
	}
	if n > conductorSpan {
		return nil, portNote{Warning: fmt.Sprintf("%s=%d is set, but the stack publishes %d host ports and Conductor reserves %d: they are in wtenv's own port block instead",
			conductorPortVar, start, n, conductorSpan)}, nil
	}
	b := state.PortBlock{Start: start, Size: conductorSpan}
	if why := e.conductorUnfit(f, b, n, free); why != "" {
		return nil, portNote{Warning: fmt.Sprintf("%s=%d is set, but %s: the stack's ports are in wtenv's own port block instead",
			conductorPortVar, start, why)}, nil
	}
	return &b, portNote{Conductor: true}, nil
}

// conductorUnfit says why the stack cannot publish its n ports at the start
// of b, or "" when it can: b overlaps another project's block, or one of
// the ports is busy.
func (e *Env) conductorUnfit(f *state.File, b state.PortBlock, n int, free func(int) bool) string {
	others := e.otherBlocks(f)
	names := make([]string, 0, len(others))
	for name := range others {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		o := others[name]
		if b.Start < o.Start+o.Size && o.Start < b.Start+b.Size {
			return fmt.Sprintf("ports %d-%d overlap %d-%d, the ports of stack %s", b.Start, b.Start+b.Size-1, o.Start, o.Start+o.Size-1, name)
		}
	}
	for p := b.Start; p < b.Start+n; p++ {
		if !free(p) {
			return fmt.Sprintf("port %d is in use", p)
		}
	}
	return ""
}

// otherBlocks are the port blocks other projects hold, by project. A
// worktree deleted from disk no longer holds its block; if its stack still
// runs, its published ports keep them out.
func (e *Env) otherBlocks(f *state.File) map[string]state.PortBlock {
	out := map[string]state.PortBlock{}
	for name, p := range f.Projects {
		if name == e.Project || p.Ports == nil {
			continue
		}
		if _, err := os.Stat(p.Worktree); err != nil {
			continue
		}
		out[name] = *p.Ports
	}
	return out
}

func currentBlock(f *state.File, project string) *state.PortBlock {
	if p, ok := f.Projects[project]; ok {
		return p.Ports
	}
	return nil
}

// inside reports whether dir is root or below it (symbolic links resolved).
func inside(dir, root string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// sharedStack reports whether e is the Env of the repository's shared
// services, whose worktree is the common git directory (see sharedEnv).
func (e *Env) sharedStack() bool {
	return e.Worktree.CommonDir != "" && e.Worktree.Root == e.Worktree.CommonDir
}

// settingError is a bad environment setting: a configuration error whose
// message names the setting itself rather than wtenv.yaml.
type settingError struct{ msg string }

func (s *settingError) Error() string { return s.msg }
func (s *settingError) Unwrap() error { return compose.ErrInvalidConfig }
