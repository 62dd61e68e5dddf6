package envs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/identity"
	"github.com/wtenv/wtenv/envs/stack"
)

// Test caches: a named volume per path of a suite's container, kept
// across runs and shared by the repository's worktrees, so a suite
// compiles only what changed since any worktree's last run. They hold no
// memory, so the budget does not count them; ls --caches lists them and
// gc --caches removes them.

// Caches returns what a run of suite s mounts as caches, given the
// container's environment: wtenv.yaml's paths, else the defaults of the
// toolchain the environment shows.
func (e *Env) Caches(s compose.Suite) func(env map[string]string, user string) []engine.Cache {
	return func(env map[string]string, user string) []engine.Cache {
		repo := e.cacheRepo()
		var out []engine.Cache
		for _, p := range s.Caches(env, user) {
			out = append(out, engine.Cache{
				Volume: CacheVolume(e.Worktree.Repo, repo, p),
				Path:   p,
				Labels: map[string]string{
					engine.LabelCache:        repo,
					engine.LabelCachePath:    p,
					engine.LabelHost:         e.machine,
					engine.LabelWtenvVersion: Version,
				},
			})
		}
		return out
	}
}

// cacheRepo is what the repository's worktrees have in common: its
// common git directory (the worktree itself outside git, which a worktree
// never is).
func (e *Env) cacheRepo() string {
	if e.Worktree.CommonDir != "" {
		return e.Worktree.CommonDir
	}
	return e.Worktree.Root
}

// CacheVolume names the cache volume of one path for a repository:
// "<repo>-cache-<h4>-<h8>", h4 from the repository as in project names, h8
// from the path.
func CacheVolume(repo, commonDir, path string) string {
	h := fnv.New32a()
	h.Write([]byte(path))
	return fmt.Sprintf("%s-%08x", identity.ProjectName(repo, "cache", commonDir), h.Sum32())
}

// cacher is the part of an engine that keeps test caches.
type cacher interface {
	Caches(ctx context.Context) ([]engine.CacheInfo, error)
	RemoveCache(ctx context.Context, name string) error
}

// ListCaches lists the test caches on every engine that answers.
func ListCaches(ctx context.Context) (stack.Caches, error) {
	return eachCache(ctx, func(context.Context, cacher, stack.Cache) (bool, error) { return true, nil })
}

// RemoveCaches removes the test caches no container uses (with dryRun,
// only says which it would), of one repository (its common git
// directory) or, with repo "", of all, and returns them; the next run of a
// suite starts its caches again from its image's content.
func RemoveCaches(ctx context.Context, dryRun bool, repo string) (stack.Caches, error) {
	out, err := eachCache(ctx, func(ctx context.Context, c cacher, cache stack.Cache) (bool, error) {
		if cache.InUse || (repo != "" && cache.Repo != repo) {
			return false, nil
		}
		if dryRun {
			return true, nil
		}
		err := c.RemoveCache(ctx, cache.Volume)
		return err == nil, err
	})
	out.DryRun = dryRun
	return out, err
}

// eachCache lists the caches of every engine that answers and keeps those
// keep says to, in one connection to each engine; the errors of keep are
// joined, and do not stop the others.
func eachCache(ctx context.Context, keep func(context.Context, cacher, stack.Cache) (bool, error)) (stack.Caches, error) {
	out := stack.Caches{Caches: []stack.Cache{}}
	var errs []error
	err := eachEngine(ctx, &out.Unreachable, func(name string, eng Engine) error {
		c, ok := eng.(cacher)
		if !ok {
			return nil
		}
		infos, err := c.Caches(ctx)
		for _, i := range infos {
			cache := stack.Cache{Engine: name, Volume: i.Volume, Repo: i.Repo, Path: i.Path, SizeBytes: i.SizeBytes, InUse: i.InUse}
			ok, kerr := keep(ctx, c, cache)
			if kerr != nil {
				errs = append(errs, kerr)
			}
			if ok {
				out.Caches = append(out.Caches, cache)
			}
		}
		return err
	})
	return out, errors.Join(append(errs, err)...)
}

// eachEngine calls fn for the engine Docker's settings name, or for each
// engine of the pool that answers, noting the others in unreachable.
func eachEngine(ctx context.Context, unreachable *[]string, fn func(name string, eng Engine) error) error {
	_, pl, err := openPool()
	if err != nil {
		return err
	}
	if pl == nil {
		eng, err := connect(ctx)
		if err != nil {
			return err
		}
		defer eng.Close()
		return fn(defaultEngineName, eng)
	}
	ms := dialPool(ctx, pl)
	defer closeMembers(ms, nil)
	var errs []error
	for _, m := range ms {
		if m.eng == nil {
			if unreachable != nil {
				*unreachable = append(*unreachable, m.Name+": "+m.err.Error())
			}
			continue
		}
		errs = append(errs, fn(m.Name, m.eng))
	}
	return errors.Join(errs...)
}
