package runner

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/wtenv/wtenv/runner/report"
)

// relocate rewrites each failure's location relative to the worktree, so a
// model in a repository of many packages opens the file without a search:
// a path in the test container (/src/internal/store/x.go) or on the host
// loses what leads to the worktree; a bare file name (go test prints
// store_test.go) becomes the one file of that name in the worktree, or, of
// several, the one in the directory of the failure's package.
func relocate(root string, failures []report.Failure) {
	root = filepath.Clean(root)
	var idx *fileIndex
	for i, f := range failures {
		file, line, ok := splitLocation(f.Location)
		if !ok {
			continue
		}
		if idx == nil {
			idx = indexFiles(root)
		}
		if rel := idx.resolve(root, file, f.Package); rel != "" {
			failures[i].Location = rel + ":" + line
		}
	}
}

func splitLocation(loc string) (file, line string, ok bool) {
	i := strings.LastIndexByte(loc, ':')
	if i <= 0 || i == len(loc)-1 {
		return "", "", false
	}
	return loc[:i], loc[i+1:], true
}

// fileIndex is the worktree's files by base name, as slash paths relative
// to the worktree.
type fileIndex struct {
	byName map[string][]string
	all    map[string]bool
}

// maxIndexed bounds the walk in a huge worktree.
const maxIndexed = 100000

func indexFiles(root string) *fileIndex {
	idx := &fileIndex{byName: map[string][]string{}, all: map[string]bool{}}
	n := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".wtenv", "node_modules", "vendor", ".venv", "__pycache__":
				if p != root {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if n++; n > maxIndexed {
			return filepath.SkipAll
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		idx.all[rel] = true
		idx.byName[d.Name()] = append(idx.byName[d.Name()], rel)
		return nil
	})
	return idx
}

// resolve returns file relative to the worktree, or "" when it cannot
// tell which file it is.
func (x *fileIndex) resolve(root, file, pkg string) string {
	file = path.Clean(filepath.ToSlash(file))
	if strings.Contains(file, "/") {
		// The longest tail of the path that names a file of the worktree:
		// /src/internal/x.go, /home/me/wt/internal/x.go and ./internal/x.go
		// all end in internal/x.go. A bare name is taken from an absolute
		// path only in the worktree or the test container's /src: a
		// testing.go of the toolchain is not the worktree's.
		parts := strings.Split(strings.TrimPrefix(file, "/"), "/")
		for i := range parts {
			tail := strings.Join(parts[i:], "/")
			if !x.all[tail] {
				continue
			}
			if i == len(parts)-1 && path.IsAbs(file) && path.Dir(file) != filepath.ToSlash(root) && path.Dir(file) != "/src" {
				return ""
			}
			return tail
		}
		return ""
	}
	cands := x.byName[file]
	if len(cands) == 1 {
		return cands[0]
	}
	// Of several, the one whose directory ends the package's import path
	// (github.com/me/shop/internal/store holds internal/store/x.go).
	var match string
	for _, c := range cands {
		dir := path.Dir(c)
		if pkg != "" && (pkg == dir || strings.HasSuffix(pkg, "/"+dir)) && len(dir) > len(path.Dir(match)) {
			match = c
		}
	}
	return match
}
