// Package worktree finds the git worktree a command or server is bound to:
// its root, branch, repository name and HEAD. Everything else in wtenv
// derives a stack's identity from these four values.
package worktree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// ErrNotWorktree reports that a directory is not inside a git worktree.
var ErrNotWorktree = errors.New("not inside a git worktree: run inside a git worktree or pass --worktree DIR")

// Worktree describes the git worktree that a stack belongs to.
type Worktree struct {
	// Root is the absolute root of the (possibly linked) worktree, with
	// symlinks resolved so that the same checkout always hashes the same.
	Root string
	// Branch is the branch name as git spells it ("feature/billing"), or
	// "detached-<short sha>" when HEAD is detached.
	Branch string
	// Repo is the repository name: the origin remote's base name, else the
	// directory name of the main worktree.
	Repo string
	// Head is the full commit sha of HEAD, empty before the first commit.
	Head string
	// CommonDir is the repository's common git directory, the same for
	// all its worktrees (for a bare repository, the repository itself),
	// with symlinks resolved.
	CommonDir string
}

// Open finds the worktree that contains dir, which may be any folder below
// the worktree root.
func Open(dir string) (Worktree, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Worktree{}, fmt.Errorf("resolve %s: %w", dir, err)
	}
	// The discovery below walks up from missing directories too, so a typo
	// in --worktree would silently open an enclosing repository.
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return Worktree{}, fmt.Errorf("%s is not a directory: %w", abs, ErrNotWorktree)
	}
	// Linked worktrees keep refs and objects in the common git directory;
	// without EnableDotGitCommonDir their HEAD cannot be resolved.
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{
		DetectDotGit:          true,
		EnableDotGitCommonDir: true,
	})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return Worktree{}, fmt.Errorf("%s: %w", abs, ErrNotWorktree)
	}
	if err != nil {
		return Worktree{}, fmt.Errorf("open git repository at %s: %w", abs, err)
	}
	wt, err := repo.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
		return Worktree{}, fmt.Errorf("%s is a bare repository: %w", abs, ErrNotWorktree)
	}
	if err != nil {
		return Worktree{}, fmt.Errorf("open worktree at %s: %w", abs, err)
	}
	root, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return Worktree{}, fmt.Errorf("resolve worktree root: %w", err)
	}
	branch, head, err := readHead(repo)
	if err != nil {
		return Worktree{}, err
	}
	return Worktree{Root: root, Branch: branch, Repo: repoName(repo, root), Head: head, CommonDir: gitCommonDir(repo)}, nil
}

// readHead returns the branch name and commit of HEAD. A repository without
// commits has a symbolic HEAD pointing at a branch that does not exist yet;
// its name is still the branch the first commit will land on.
func readHead(repo *git.Repository) (branch, head string, err error) {
	ref, err := repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return "", "", fmt.Errorf("read HEAD: %w", err)
	}
	if ref.Type() == plumbing.SymbolicReference {
		branch = strings.TrimPrefix(ref.Target().String(), "refs/heads/")
		resolved, err := repo.Head()
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return branch, "", nil
		}
		if err != nil {
			return "", "", fmt.Errorf("resolve HEAD: %w", err)
		}
		return branch, resolved.Hash().String(), nil
	}
	head = ref.Hash().String()
	return "detached-" + head[:7], head, nil
}
