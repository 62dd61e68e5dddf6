package engine

import (
	"context"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sync/errgroup"
)

// ensureImages obtains every service's image, two groups at a time:
// builds are CPU-bound and small machines have few cores. Services built
// from one context and Dockerfile (stages of one multi-stage file, say)
// form a group built one after another, so that the first build fills the
// layer cache and the others reuse its shared stages instead of compiling
// them again at the same time.
func (e *Docker) ensureImages(ctx context.Context, p *types.Project, meta Meta, rebuild bool, progress func(string)) (map[string]imageRef, error) {
	var mu sync.Mutex
	out := map[string]imageRef{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, group := range buildGroups(p) {
		g.Go(func() error {
			for _, s := range group {
				ref, id, err := e.ensureImage(gctx, p, s, meta, rebuild, progress)
				if err != nil {
					return err
				}
				mu.Lock()
				out[s.Name] = imageRef{ref: ref, id: id}
				mu.Unlock()
			}
			return nil
		})
	}
	return out, g.Wait()
}

// buildGroups puts services built from the same context and Dockerfile
// together, by name; every other service is a group of its own.
func buildGroups(p *types.Project) [][]types.ServiceConfig {
	names := p.ServiceNames()
	sort.Strings(names)
	var groups [][]types.ServiceConfig
	index := map[string]int{}
	for _, name := range names {
		s := p.Services[name]
		if s.Build == nil {
			groups = append(groups, []types.ServiceConfig{s})
			continue
		}
		key := s.Build.Context + "\x00" + s.Build.Dockerfile + "\x00" + s.Build.DockerfileInline
		if i, ok := index[key]; ok {
			groups[i] = append(groups[i], s)
			continue
		}
		index[key] = len(groups)
		groups = append(groups, []types.ServiceConfig{s})
	}
	return groups
}
