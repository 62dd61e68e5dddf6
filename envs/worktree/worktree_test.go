package worktree

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runGit runs the git CLI in dir with a fixed identity and no user or system
// configuration, so the tests behave the same on every machine.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.invalid",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.invalid",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// tempDir returns a fresh directory with symlinks resolved, because Open
// reports resolved roots.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// newRepo creates base/name with one commit on main.
func newRepo(t *testing.T, base, name string) string {
	t.Helper()
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "init", "-q")
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "add", "README")
	runGit(t, dir, "commit", "-q", "-m", "first")
	return dir
}

func mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	dir := filepath.Join(parts...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name string
		// setup builds a repository under base and returns the directory
		// to open and the worktree Open must report.
		setup func(t *testing.T, base string) (string, Worktree)
	}{
		{"normal repo from a subfolder", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "shop")
			sub := mkdir(t, repo, "internal", "orders")
			return sub, Worktree{Root: repo, Branch: "main", Repo: "shop", Head: runGit(t, repo, "rev-parse", "HEAD"), CommonDir: filepath.Join(repo, ".git")}
		}},
		{"branch with a slash", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "shop")
			runGit(t, repo, "checkout", "-q", "-b", "feature/billing")
			return repo, Worktree{Root: repo, Branch: "feature/billing", Repo: "shop", Head: runGit(t, repo, "rev-parse", "HEAD"), CommonDir: filepath.Join(repo, ".git")}
		}},
		{"linked worktree on another branch", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "shop")
			runGit(t, repo, "worktree", "add", "-q", "-b", "feature/x", "../wt2")
			wt2 := filepath.Join(base, "wt2")
			runGit(t, wt2, "commit", "-q", "--allow-empty", "-m", "on x")
			sub := mkdir(t, wt2, "docs")
			return sub, Worktree{Root: wt2, Branch: "feature/x", Repo: "shop", Head: runGit(t, wt2, "rev-parse", "HEAD"), CommonDir: filepath.Join(repo, ".git")}
		}},
		{"linked worktree of a bare repository", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "src")
			runGit(t, base, "clone", "-q", "--bare", repo, "shop.git")
			bare := filepath.Join(base, "shop.git")
			runGit(t, bare, "remote", "remove", "origin")
			runGit(t, bare, "worktree", "add", "-q", "-b", "topic", filepath.Join(base, "wt3"))
			wt3 := filepath.Join(base, "wt3")
			return wt3, Worktree{Root: wt3, Branch: "topic", Repo: "shop", Head: runGit(t, wt3, "rev-parse", "HEAD"), CommonDir: bare}
		}},
		{"detached HEAD", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "shop")
			runGit(t, repo, "checkout", "-q", "--detach")
			head := runGit(t, repo, "rev-parse", "HEAD")
			return repo, Worktree{Root: repo, Branch: "detached-" + head[:7], Repo: "shop", Head: head, CommonDir: filepath.Join(repo, ".git")}
		}},
		{"repository without commits", func(t *testing.T, base string) (string, Worktree) {
			repo := mkdir(t, base, "fresh")
			runGit(t, repo, "init", "-q", "-b", "trunk")
			return repo, Worktree{Root: repo, Branch: "trunk", Repo: "fresh", CommonDir: filepath.Join(repo, ".git")}
		}},
		{"origin remote names the repository", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "checkout-dir")
			runGit(t, repo, "remote", "add", "origin", "git@example.invalid:org/Billing-Service.git")
			return repo, Worktree{Root: repo, Branch: "main", Repo: "Billing-Service", Head: runGit(t, repo, "rev-parse", "HEAD"), CommonDir: filepath.Join(repo, ".git")}
		}},
		{"origin remote seen from a linked worktree", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "checkout-dir")
			runGit(t, repo, "remote", "add", "origin", "https://example.invalid/org/shop.git")
			runGit(t, repo, "worktree", "add", "-q", "-b", "fix", "../other")
			other := filepath.Join(base, "other")
			return other, Worktree{Root: other, Branch: "fix", Repo: "shop", Head: runGit(t, repo, "rev-parse", "HEAD"), CommonDir: filepath.Join(repo, ".git")}
		}},
		{"symlinked path resolves to the real root", func(t *testing.T, base string) (string, Worktree) {
			repo := newRepo(t, base, "shop")
			link := filepath.Join(base, "link")
			if err := os.Symlink(repo, link); err != nil {
				t.Fatal(err)
			}
			return link, Worktree{Root: repo, Branch: "main", Repo: "shop", Head: runGit(t, repo, "rev-parse", "HEAD"), CommonDir: filepath.Join(repo, ".git")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, want := tt.setup(t, tempDir(t))
			got, err := Open(dir)
			if err != nil {
				t.Fatalf("Open(%s): %v", dir, err)
			}
			if got != want {
				t.Errorf("Open(%s)\n got %+v\nwant %+v", dir, got, want)
			}
			if want.Head != "" && len(got.Head) != 40 {
				t.Errorf("Head %q is not a full sha", got.Head)
			}
		})
	}
}

func TestOpenNotWorktree(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, base string) string
	}{
		{"plain directory", func(t *testing.T, base string) string {
			return mkdir(t, base, "plain", "sub")
		}},
		{"missing directory", func(t *testing.T, base string) string {
			return filepath.Join(base, "missing")
		}},
		{"missing directory inside a repository", func(t *testing.T, base string) string {
			return filepath.Join(newRepo(t, base, "shop"), "missing")
		}},
		{"bare repository", func(t *testing.T, base string) string {
			bare := mkdir(t, base, "shop.git")
			runGit(t, bare, "init", "-q", "--bare")
			return bare
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t, tempDir(t))
			_, err := Open(dir)
			if !errors.Is(err, ErrNotWorktree) {
				t.Fatalf("Open(%s) = %v, want ErrNotWorktree", dir, err)
			}
			if !strings.Contains(err.Error(), "--worktree DIR") {
				t.Errorf("error %q does not name the next action", err)
			}
		})
	}
}

func TestNameFromURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://example.invalid/org/shop.git", "shop"},
		{"https://example.invalid/org/shop", "shop"},
		{"https://example.invalid/org/shop/", "shop"},
		{"git@example.invalid:org/shop.git", "shop"},
		{"git@example.invalid:shop.git", "shop"},
		{"ssh://git@example.invalid:2222/org/shop.git", "shop"},
		{"/srv/git/shop.git", "shop"},
		{"/srv/git/shop/.git", "shop"},
		{`C:\repos\shop.git`, "shop"},
		{"shop", "shop"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := nameFromURL(tt.url); got != tt.want {
			t.Errorf("nameFromURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestNameFromGitDir(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"/src/shop/.git", "shop"},
		{"/src/shop/.git/", "shop"},
		{"/src/shop.git", "shop"},
		{"/src/shop", "shop"},
	}
	for _, tt := range tests {
		if got := nameFromGitDir(tt.dir); got != tt.want {
			t.Errorf("nameFromGitDir(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}
