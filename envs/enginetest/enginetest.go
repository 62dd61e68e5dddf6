// Package enginetest helps tests that need the real Docker engine: it
// insists on one (failing, not skipping, unless WTENV_SKIP_DOCKER=1 says
// otherwise), builds the static fixture service, makes fixture git
// repositories with linked worktrees, and removes by label whatever a test
// created, even when the test fails.
package enginetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// RequireDocker fails the test when no Docker engine answers. Only an
// explicit WTENV_SKIP_DOCKER=1 turns that into a skip, for machines
// without Docker; CI never sets it.
func RequireDocker(t testing.TB) {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		api.Close()
	}
	if err == nil {
		return
	}
	if os.Getenv("WTENV_SKIP_DOCKER") == "1" {
		t.Skipf("no Docker engine (%v) and WTENV_SKIP_DOCKER=1", err)
	}
	t.Fatalf("this test needs a Docker engine and none answered: %v (start one, or set WTENV_SKIP_DOCKER=1 to skip locally)", err)
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
)

// Build compiles the Go package at pkg (relative to the module root) once
// per test process and returns the binary's path. static builds a
// CGO_ENABLED=0 linux binary fit for a FROM scratch image.
func Build(t testing.TB, pkg string, static bool) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := buildCache[pkg]; ok {
		return path
	}
	dir, err := os.MkdirTemp("", "wtenv-build-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(pkg))
	_, self, _, _ := runtime.Caller(0)
	// No -trimpath: the build then shares go's cache with the test
	// binaries, which compiled the same packages already.
	cmd := exec.Command("go", "build", "-o", path, "./"+pkg)
	cmd.Dir = filepath.Join(filepath.Dir(self), "..", "..")
	cmd.Env = os.Environ()
	if static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0", "GOOS=linux")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	buildCache[pkg] = path
	return path
}

// KVBinary returns the static fixture service.
func KVBinary(t testing.TB) string {
	t.Helper()
	return Build(t, "envs/enginetest/kv", true)
}

// Git runs git in dir with an identity that needs no global config.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=wtenv test", "GIT_AUTHOR_EMAIL=test@wtenv.invalid",
		"GIT_COMMITTER_NAME=wtenv test", "GIT_COMMITTER_EMAIL=test@wtenv.invalid",
		"GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Repo makes a git repository named name under a temporary directory with
// the given files committed on branch main, and returns its root.
func Repo(t testing.TB, name string, files map[string][]byte) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), name)
	for path, body := range files {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(path, "/kv") {
			mode = 0o755
		}
		if err := os.WriteFile(full, body, mode); err != nil {
			t.Fatal(err)
		}
	}
	Git(t, root, "init", "-q", "-b", "main")
	Git(t, root, "add", "-A")
	Git(t, root, "commit", "-q", "-m", "fixture")
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	return root
}

// Worktree adds a linked worktree of repo on a new branch beside it.
func Worktree(t testing.TB, repo, branch string) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(repo), strings.NewReplacer("/", "-").Replace(branch))
	Git(t, repo, "worktree", "add", "-q", "-b", branch, dir)
	return dir
}

// Cleanup removes, when the test ends, every container, network, volume and
// image that carries the label dev.wtenv.worktree=<one of roots>, and the
// test caches of the repositories whose main worktree is among roots
// (dev.wtenv.cache=<root>/.git). It runs even when the test fails.
func Cleanup(t testing.TB, roots ...string) {
	t.Helper()
	var labels []string
	for _, root := range roots {
		labels = append(labels, "dev.wtenv.worktree="+root)
		if git, err := filepath.EvalSymlinks(filepath.Join(root, ".git")); err == nil {
			labels = append(labels, "dev.wtenv.cache="+git)
		}
	}
	CleanupLabelled(t, labels...)
}

// CleanupLabelled removes, when the test ends, every container, network,
// volume and image that carries one of the labels (key=value), such as
// the project label of a stack another tool made. It runs even when the
// test fails.
func CleanupLabelled(t testing.TB, labels ...string) {
	t.Helper()
	t.Cleanup(func() {
		api, err := client.New(client.FromEnv)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer api.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, label := range labels {
			removeLabelled(ctx, t, api, label)
		}
	})
}

func removeLabelled(ctx context.Context, t testing.TB, api *client.Client, label string) {
	f := client.Filters{}.Add("label", label)
	if cs, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
		for _, c := range cs.Items {
			if _, err := api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
				t.Logf("cleanup: container %s: %v", c.ID[:12], err)
			}
		}
	}
	if ns, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range ns.Items {
			// Another stack's container may have joined it (a shared
			// server, whose own cleanup may come later).
			if insp, err := api.NetworkInspect(ctx, n.ID, client.NetworkInspectOptions{}); err == nil {
				for id := range insp.Network.Containers {
					_, _ = api.NetworkDisconnect(ctx, n.ID, client.NetworkDisconnectOptions{Container: id, Force: true})
				}
			}
			if _, err := api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
				t.Logf("cleanup: network %s: %v", n.Name, err)
			}
		}
	}
	if vs, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
		for _, v := range vs.Items {
			if _, err := api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil {
				t.Logf("cleanup: volume %s: %v", v.Name, err)
			}
		}
	}
	if is, err := api.ImageList(ctx, client.ImageListOptions{Filters: f}); err == nil {
		for _, im := range is.Items {
			if _, err := api.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true}); err != nil {
				t.Logf("cleanup: image %s: %v", im.ID, err)
			}
		}
	}
}

// FullEnv is the switch of the full test tier: crash points, concurrency
// rounds, the engine restart, builds of the example product, the demo.
// The README's test command runs without it; .ci/run runs both.
const FullEnv = "WTENV_TEST_FULL"

// Full skips the test unless the full tier runs (WTENV_TEST_FULL=1).
func Full(t testing.TB) {
	t.Helper()
	if os.Getenv(FullEnv) != "1" {
		t.Skipf("full tier: set %s=1 to run it", FullEnv)
	}
}
