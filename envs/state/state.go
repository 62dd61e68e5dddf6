// Package state keeps what container labels cannot hold: each project's
// host port block and its memory history. It is one small JSON file guarded
// by an OS file lock, so concurrent wtenv processes never lose an update.
// Losing the file loses no stack; stacks are always found by label.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Version is the format of the state file this package reads and writes.
const Version = 1

const (
	fileName = "state.json"
	lockName = "state.lock"
)

// ErrCorrupt reports a state file that cannot be decoded.
var ErrCorrupt = errors.New("corrupt state file")

// ErrNewerVersion reports a state file written by a newer wtenv, which this
// one must not overwrite.
var ErrNewerVersion = errors.New("state file written by a newer wtenv")

// PortBlock is a contiguous run of host ports owned by one project.
type PortBlock struct {
	Start int `json:"start"`
	Size  int `json:"size"`
}

// Project is what the state file remembers about one compose project.
type Project struct {
	Worktree string     `json:"worktree"`
	Branch   string     `json:"branch,omitempty"`
	Ports    *PortBlock `json:"ports,omitempty"`
	// PortsMoved says why the last up moved the stack's ports to another
	// block (status repeats it until an up keeps them).
	PortsMoved string `json:"ports_moved,omitempty"`
	// Engine is the engine of the pool the stack was placed on, by name:
	// it stays there (its volumes live there) until down --purge. Empty
	// without an engines file.
	Engine     string `json:"engine,omitempty"`
	PeakMemory int64  `json:"peak_memory_bytes,omitempty"` // used by the memory budget
	Reserved   int64  `json:"reserved_bytes,omitempty"`    // used by the memory budget
	// Starting is set from admission until the up that was admitted
	// returns: while it is set, the reservation counts even though no
	// container exists yet.
	Starting  bool      `json:"starting,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// TouchedAt is the last time any wtenv call (status, logs, up, a test
	// run, from any process) used the stack: how idle it is.
	TouchedAt time.Time `json:"touched_at,omitzero"`
	// Asleep is set when the stack is put to sleep (before its containers
	// stop) and cleared when a wake has brought it up (after they start):
	// while it is set and no process holds the project's lock, containers
	// that still run are left over from a sleep or wake that was killed.
	Asleep bool `json:"asleep,omitempty"`
	// AsleepSince, AsleepBytes and SleptBy say when the stack was put to
	// sleep, what it held then, and which project's admission did it
	// (empty for an explicit sleep).
	AsleepSince time.Time `json:"asleep_since,omitzero"`
	AsleepBytes int64     `json:"asleep_bytes,omitempty"`
	SleptBy     string    `json:"slept_by,omitempty"`
	// Tenants, on a shared service's project, are the worktrees' projects
	// that use it, each with its databases there; a worktree stays a
	// tenant after down (its databases are kept) until down --purge or gc.
	Tenants map[string][]string `json:"tenants,omitempty"`
	// Drop, on a shared service's project, are databases of purged
	// worktrees to drop when the server next runs.
	Drop []string `json:"drop,omitempty"`
	// Shared marks a shared services' project; Server is its database
	// server's service and Superuser the user its databases are made and
	// dropped as.
	Shared    bool   `json:"shared,omitempty"`
	Server    string `json:"server,omitempty"`
	Superuser string `json:"superuser,omitempty"`
}

// LastUsed is the last time wtenv did anything with the project: touched
// it, or changed its reservation.
func (p *Project) LastUsed() time.Time {
	if p.TouchedAt.After(p.UpdatedAt) {
		return p.TouchedAt
	}
	return p.UpdatedAt
}

// File is the whole state file, keyed by project name.
type File struct {
	Version  int                 `json:"version"`
	Projects map[string]*Project `json:"projects"`
}

// Store is the state directory. Its methods are safe for concurrent use by
// goroutines and by separate processes.
type Store struct {
	Dir string
}

// DefaultDir returns $WTENV_STATE_DIR, else $XDG_STATE_HOME/wtenv, else
// ~/.local/state/wtenv.
func DefaultDir() (string, error) {
	if dir := os.Getenv("WTENV_STATE_DIR"); dir != "" {
		return dir, nil
	}
	// The base directory spec says relative XDG paths are invalid and must
	// be ignored.
	if xdg := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "wtenv"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the state directory: %w; set WTENV_STATE_DIR", err)
	}
	return filepath.Join(home, ".local", "state", "wtenv"), nil
}

// Open returns the store in dir, creating the directory if needed. An empty
// dir means DefaultDir.
func Open(dir string) (*Store, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	// User-only: the file says which worktrees exist and where.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w; set WTENV_STATE_DIR to a writable directory", err)
	}
	return &Store{Dir: dir}, nil
}

// Path is the state file's path.
func (s *Store) Path() string {
	return filepath.Join(s.Dir, fileName)
}

func (s *Store) lockPath() string {
	return filepath.Join(s.Dir, lockName)
}
