package runner_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/runner"
)

// A suite whose runs count themselves in a cache path.
const cacheCompose = `services:
  counter:
    image: ` + enginetest.BaseImage + `
    pull_policy: never
    profiles: [test]
`

const cacheYAML = `tests:
  unit:
    service: counter
    command: [sh, -c, 'n=$(cat /cache/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /cache/n; echo "1..1"; echo "ok 1 - run $n"']
    format: tap
    cache: [/cache]
`

// A cache path outlives the run, and the repository's worktrees share it:
// the second worktree's first run sees the first worktree's. ls --caches
// lists it, with its repository and path; gc --caches removes it, and the
// next run starts again.
func TestCachesSurviveRunsAndAreShared(t *testing.T) {
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	repo := enginetest.Repo(t, "cached", map[string][]byte{"compose.yaml": []byte(cacheCompose), "wtenv.yaml": []byte(cacheYAML)})
	other := enginetest.Worktree(t, repo, "feature/cache")
	enginetest.Cleanup(t, repo, other)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	run := func(root, want string) {
		t.Helper()
		env, err := envs.Open(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		r, err := runner.Run(ctx, env, "unit", runner.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Passed || !strings.Contains(r.OutputTail, want) {
			t.Errorf("run in %s: passed=%v, want %q in\n%s", root, r.Passed, want, r.OutputTail)
		}
	}
	run(repo, "run 1")
	run(repo, "run 2")
	run(other, "run 3")

	caches, err := envs.ListCaches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	common := ""
	for _, c := range caches.Caches {
		if strings.HasPrefix(c.Repo, repo) {
			common = c.Repo
			ours = append(ours, c.Volume)
			if c.Path != "/cache" || c.InUse || !strings.HasPrefix(c.Volume, "cached-cache-") {
				t.Errorf("cache %+v", c)
			}
		}
	}
	if len(ours) != 1 {
		t.Fatalf("caches of %s: %v, want one shared by both worktrees", repo, ours)
	}
	// It holds no memory: no stack of the machine counts it.
	if out, err := exec.Command("docker", "volume", "inspect", ours[0]).Output(); err != nil || !strings.Contains(string(out), `"dev.wtenv.cache.path": "/cache"`) {
		t.Errorf("volume %s: %v\n%s", ours[0], err, out)
	}

	removed, err := envs.RemoveCaches(ctx, false, common)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range removed.Caches {
		found = found || c.Volume == ours[0]
	}
	if !found {
		t.Errorf("gc --caches removed %+v, not %s", removed.Caches, ours[0])
	}
	run(other, "run 1")
}

// Two runs that first use a cache at once, whose path the image fills:
// the engine copies the image's content into the new volume once, and
// both runs see it.
func TestCacheFirstUseAtOnce(t *testing.T) {
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	yaml := "tests:\n  unit:\n    service: counter\n    command: [sh, -c, 'test -d /usr/lib/x86_64-linux-gnu && echo \"1..1\" && echo \"ok 1 - seeded\"']\n    format: tap\n    cache: [/usr/lib]\n"
	roots := []string{enginetest.Repo(t, "seeded", map[string][]byte{"compose.yaml": []byte(cacheCompose), "wtenv.yaml": []byte(yaml)})}
	for _, b := range []string{"seeded/a", "seeded/b", "seeded/c"} {
		roots = append(roots, enginetest.Worktree(t, roots[0], b))
	}
	enginetest.Cleanup(t, roots...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Each worktree's env is opened first, so that the runs reach their
	// creates close together.
	var opened []*envs.Env
	for _, root := range roots {
		env, err := envs.Open(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		opened = append(opened, env)
	}
	errs := make(chan error, len(opened))
	for _, env := range opened {
		root := env.Worktree.Root
		go func() {
			r, err := runner.Run(ctx, env, "unit", runner.Options{})
			if err == nil && !r.Passed {
				err = fmt.Errorf("%s: not passed:\n%s", root, r.OutputTail)
			}
			errs <- err
		}()
	}
	for range opened {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Two runs at once in one worktree share its stack's network: neither
// makes a second network of the same name.
func TestTwoRunsAtOnceInOneWorktree(t *testing.T) {
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	repo := enginetest.Repo(t, "twice", map[string][]byte{"compose.yaml": []byte(cacheCompose), "wtenv.yaml": []byte(cacheYAML)})
	enginetest.Cleanup(t, repo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := envs.Open(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			r, err := runner.Run(ctx, env, "unit", runner.Options{})
			if err == nil && !r.Passed {
				err = fmt.Errorf("not passed:\n%s", r.OutputTail)
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
