package worktree

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// repoName names the repository. The origin remote is preferred because it
// is the same for every clone and worktree of a project; without one, the
// main worktree's directory is the name a person would recognise.
func repoName(repo *git.Repository, root string) string {
	if remote, err := repo.Remote("origin"); err == nil {
		if urls := remote.Config().URLs; len(urls) > 0 {
			if name := nameFromURL(urls[0]); name != "" {
				return name
			}
		}
	}
	if common := commonDir(repo); common != "" {
		return nameFromGitDir(common)
	}
	return filepath.Base(root)
}

// nameFromURL returns the last path element of a remote URL without ".git".
// It accepts URLs ("https://host/org/shop.git"), scp-like addresses
// ("git@host:org/shop.git") and local paths.
func nameFromURL(url string) string {
	url = strings.TrimRight(url, `/\`)
	url = strings.TrimSuffix(url, ".git")
	url = strings.TrimRight(url, `/\`)
	if i := strings.LastIndexAny(url, `/\:`); i >= 0 {
		url = url[i+1:]
	}
	return url
}

// nameFromGitDir names a repository after its common git directory: the
// parent of ".git" for a normal repository, or the directory itself without
// ".git" for a bare one.
func nameFromGitDir(dir string) string {
	dir = filepath.Clean(dir)
	base := filepath.Base(dir)
	if base == ".git" {
		return filepath.Base(filepath.Dir(dir))
	}
	return strings.TrimSuffix(base, ".git")
}

// commonDir returns the common git directory of a linked worktree, or ""
// for a main worktree, whose own directory already names the repository.
func commonDir(repo *git.Repository) string {
	storage, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return ""
	}
	gitDir := storage.Filesystem().Root()
	b, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return ""
	}
	common := strings.TrimSpace(string(b))
	if common == "" {
		return ""
	}
	if !filepath.IsAbs(common) {
		common = filepath.Join(gitDir, common)
	}
	if resolved, err := filepath.EvalSymlinks(common); err == nil {
		common = resolved
	}
	return common
}

// gitCommonDir is the repository's common git directory: a linked
// worktree's commondir, else the repository's own git directory.
func gitCommonDir(repo *git.Repository) string {
	dir := commonDir(repo)
	if dir == "" {
		storage, ok := repo.Storer.(*filesystem.Storage)
		if !ok {
			return ""
		}
		dir = storage.Filesystem().Root()
	}
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	return dir
}
