package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// load reads the state file. A missing file is an empty state, since the
// first command on a machine has nothing to remember yet.
func (s *Store) load() (*File, error) {
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: Version, Projects: map[string]*Project{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w %s (%v); it is safe to delete it: stacks are rebuilt from their labels, only port blocks and memory history are lost",
			ErrCorrupt, s.Path(), err)
	}
	if f.Version > Version {
		return nil, fmt.Errorf("%w: %s has version %d, this wtenv understands %d; upgrade wtenv",
			ErrNewerVersion, s.Path(), f.Version, Version)
	}
	f.Version = Version
	if f.Projects == nil {
		f.Projects = map[string]*Project{}
	}
	return &f, nil
}

// save replaces the state file atomically: the new content goes to a
// temporary file in the same directory, reaches the disk, and is renamed
// over the old one, so a crash leaves either the old state or the new.
func (s *Store) save(f *File) (err error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, fileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("write state: %w; check that %s is writable", err, s.Dir)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err = os.Rename(tmp.Name(), s.Path()); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	syncDir(s.Dir)
	return nil
}

// syncDir makes the rename itself durable. It is best effort: some systems
// cannot sync a directory, and the rename has already happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
