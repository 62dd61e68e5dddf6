package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// Labels of a test cache volume.
const (
	// LabelCache is on every cache volume: the repository's common git
	// directory, whose worktrees share it.
	LabelCache = "dev.wtenv.cache"
	// LabelCachePath is the path in the test container the volume holds.
	LabelCachePath = "dev.wtenv.cache.path"
)

// Cache is a named volume that keeps one path of a test container across
// runs (a build or package cache), shared by a repository's worktrees.
type Cache struct {
	Volume string
	Path   string
	Labels map[string]string
}

// CacheInfo is a cache volume as the engine has it.
type CacheInfo struct {
	Volume    string `json:"volume"`
	Repo      string `json:"repo"`
	Path      string `json:"path"`
	SizeBytes int64  `json:"size_bytes"` // -1 when the engine did not say
	InUse     bool   `json:"in_use"`
}

// ensureCaches creates the cache volumes that do not exist yet. An empty
// volume takes the image's content at its path on first mount, so a cache
// the image already warmed starts warm.
func (e *Docker) ensureCaches(ctx context.Context, caches []Cache) error {
	for _, c := range caches {
		if _, err := e.api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: c.Volume, Labels: c.Labels}); err != nil {
			return fmt.Errorf("creating cache volume %s for %s: %w", c.Volume, c.Path, err)
		}
	}
	return nil
}

// cacheMounts are the caches' mounts, less those at a path the service
// already mounts something at.
func cacheMounts(caches []Cache, taken func(target string) bool) []mount.Mount {
	var out []mount.Mount
	for _, c := range caches {
		if taken(c.Path) {
			continue
		}
		out = append(out, mount.Mount{Type: mount.TypeVolume, Source: c.Volume, Target: c.Path})
	}
	return out
}

// Caches lists the engine's cache volumes, with their sizes when the engine
// reports them and whether a container uses them.
func (e *Docker) Caches(ctx context.Context) ([]CacheInfo, error) {
	vs, err := e.api.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("label", LabelCache)})
	if err != nil {
		return nil, fmt.Errorf("listing cache volumes: %w", err)
	}
	sizes := map[string]int64{}
	inUse := map[string]bool{}
	if du, err := e.api.DiskUsage(ctx, client.DiskUsageOptions{Volumes: true}); err == nil {
		for _, v := range du.Volumes.Items {
			if v.UsageData != nil {
				sizes[v.Name] = v.UsageData.Size
				inUse[v.Name] = v.UsageData.RefCount > 0
			}
		}
	}
	out := make([]CacheInfo, 0, len(vs.Items))
	for _, v := range vs.Items {
		size, ok := sizes[v.Name]
		if !ok {
			size = -1
		}
		out = append(out, CacheInfo{Volume: v.Name, Repo: v.Labels[LabelCache], Path: v.Labels[LabelCachePath], SizeBytes: size, InUse: inUse[v.Name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Volume < out[j].Volume })
	return out, nil
}

// RemoveCache removes a cache volume; one a container uses stays, and the
// error says so.
func (e *Docker) RemoveCache(ctx context.Context, name string) error {
	if _, err := e.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil {
		if strings.Contains(err.Error(), "in use") {
			return fmt.Errorf("cache %s is in use by a container (a test running now, or one a killed run left: `wtenv gc` removes those); run gc --caches again after", name)
		}
		return err
	}
	return nil
}

// runEnv is the environment a one-off container of s starts with (the
// image's, with the service's on top) and its user.
func (e *Docker) runEnv(ctx context.Context, ref string, s types.ServiceConfig) (map[string]string, string, error) {
	env := map[string]string{}
	res, err := e.api.ImageInspect(ctx, ref)
	if err != nil {
		return nil, "", fmt.Errorf("service %q: reading image %s: %w", s.Name, ref, err)
	}
	user := s.User
	if res.Config != nil {
		for _, kv := range res.Config.Env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		if user == "" {
			user = res.Config.User
		}
	}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env, user, nil
}
