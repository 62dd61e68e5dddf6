// Package filesync copies a worktree's files to an engine that cannot see this
// machine's filesystem: it lists what a folder holds (leaving out what
// .gitignore and .dockerignore leave out), compares the list with the one
// of the last copy, and writes what changed as a tar stream for the engine
// to unpack into a volume.
package filesync

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Entry is what the list keeps of one file: enough to tell it changed.
type Entry struct {
	Size    int64       `json:"s"`
	ModTime int64       `json:"t"` // UnixNano
	Mode    fs.FileMode `json:"m"`
	Link    string      `json:"l,omitempty"` // a symlink's target
}

// Manifest maps each file's slash-separated path under the folder to its
// entry. Directories are not listed: unpacking a file makes its parents.
type Manifest map[string]Entry

// Walk lists the files under root that a copy carries: everything but
// .git, wtenv's own .wtenv folder, and what root's .gitignore files or its
// .dockerignore exclude.
func Walk(root string) (Manifest, error) {
	ignored, err := matcher(root)
	if err != nil {
		return nil, err
	}
	out := Manifest{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if rel == ".git" || rel == ".wtenv" || ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := Entry{Size: info.Size(), ModTime: info.ModTime().UnixNano(), Mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if e.Link, err = os.Readlink(path); err != nil {
				return err
			}
		case !info.Mode().IsRegular():
			return nil // sockets, pipes, devices: not copied
		}
		out[rel] = e
		return nil
	})
	return out, err
}

// matcher reports whether a path is left out by .gitignore (every one in
// the tree) or root's .dockerignore.
func matcher(root string) (func(rel string, dir bool) bool, error) {
	ps, err := gitignore.ReadPatterns(osfs.New(root), nil)
	if err != nil {
		return nil, fmt.Errorf("reading .gitignore files under %s: %w", root, err)
	}
	git := gitignore.NewMatcher(ps)
	var docker *patternmatcher.PatternMatcher
	if f, err := os.Open(filepath.Join(root, ".dockerignore")); err == nil {
		lines, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(root, ".dockerignore"), err)
		}
		if docker, err = patternmatcher.New(lines); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(root, ".dockerignore"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return func(rel string, dir bool) bool {
		if git.Match(strings.Split(rel, "/"), dir) {
			return true
		}
		if docker != nil {
			if m, _ := docker.MatchesOrParentMatches(rel); m {
				return true
			}
		}
		return false
	}, nil
}

// Diff lists the files of cur that are new or changed since old, and the
// files of old that cur no longer has, each sorted.
func Diff(old, cur Manifest) (changed, gone []string) {
	for path, e := range cur {
		if o, ok := old[path]; !ok || o != e {
			changed = append(changed, path)
		}
	}
	for path := range old {
		if _, ok := cur[path]; !ok {
			gone = append(gone, path)
		}
	}
	slices.Sort(changed)
	slices.Sort(gone)
	return changed, gone
}

// Tar writes the files of m named by paths, from root, as a tar stream.
// A file that changed since m was made is written as it is now; one gone
// since is skipped (the next copy sees it gone).
func Tar(w io.Writer, root string, m Manifest, paths []string) error {
	tw := tar.NewWriter(w)
	for _, rel := range paths {
		e := m[rel]
		path := filepath.Join(root, filepath.FromSlash(rel))
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, e.Link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.CopyN(tw, f, hdr.Size)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s changed while being copied: %w", path, err)
		}
	}
	return tw.Close()
}
