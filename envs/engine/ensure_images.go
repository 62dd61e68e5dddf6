package engine

import (
	"context"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"
)

// ensureImages obtains the image of every service of the project.
func (e *Docker) ensureImages(ctx context.Context, p *types.Project, meta Meta, rebuild bool, progress func(string)) (map[string]imageRef, error) {
	services := make([]types.ServiceConfig, 0, len(p.Services))
	for _, s := range p.Services {
		services = append(services, s)
	}
	return e.obtainImages(ctx, p, services, meta, rebuild, progress)
}

// obtainImages obtains the images of services, two builds or pulls at a
// time: builds are CPU-bound and small machines have few cores. What it
// builds follows planImages: a service whose image: another service builds
// runs that build's image and is never pulled; a build waits for the
// builds whose images it uses. Builds from one context and Dockerfile
// (stages of one multi-stage file, say) run one after another, so that the
// first fills the layer cache and the others reuse its shared stages
// instead of compiling them again at the same time.
func (e *Docker) obtainImages(ctx context.Context, p *types.Project, services []types.ServiceConfig, meta Meta, rebuild bool, progress func(string)) (map[string]imageRef, error) {
	plan, err := planImages(p, services...)
	if err != nil {
		return nil, err
	}
	type result struct {
		done chan struct{}
		id   string
	}
	results := map[*buildUnit]*result{}
	units := plan.needed(services)
	for _, u := range units {
		results[u] = &result{done: make(chan struct{})}
	}
	// wait waits for a unit's build, or for the first failure anywhere.
	wait := func(ctx context.Context, u *buildUnit) error {
		select {
		case <-results[u].done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	slots := make(chan struct{}, 2)
	var mu sync.Mutex
	out := map[string]imageRef{}
	g, gctx := errgroup.WithContext(ctx)
	for _, lane := range buildLanes(units) {
		for i, u := range lane {
			g.Go(func() error {
				waits := u.after
				if i > 0 {
					waits = append(waits[:len(waits):len(waits)], lane[i-1])
				}
				for _, w := range waits {
					if err := wait(gctx, w); err != nil {
						return err
					}
				}
				slots <- struct{}{}
				id, err := e.ensureUnit(gctx, p, u, meta, rebuild, progress)
				<-slots
				if err != nil {
					return err
				}
				results[u].id = id
				close(results[u].done)
				return nil
			})
		}
	}
	for _, s := range services {
		if plan.unitOf[s.Name] != nil {
			continue
		}
		g.Go(func() error {
			slots <- struct{}{}
			ref, id, err := e.localOrPulled(gctx, s, progress)
			<-slots
			if err != nil {
				return err
			}
			mu.Lock()
			out[s.Name] = imageRef{ref: ref, id: id}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, s := range services {
		u := plan.unitOf[s.Name]
		if u == nil {
			continue
		}
		ref := u.ref(p.Name)
		if s.Build != nil {
			ref = BuiltImage(p.Name, s.Name)
		}
		out[s.Name] = imageRef{ref: ref, id: results[u].id}
	}
	return out, nil
}

// ensureUnit makes a unit's image available and returns its ID: built when
// a service's tag is missing, or always with rebuild or pull_policy build.
// An image: name that is missing (or was removed) is tagged again on the
// image that is there.
func (e *Docker) ensureUnit(ctx context.Context, p *types.Project, u *buildUnit, meta Meta, rebuild bool, progress func(string)) (string, error) {
	build := rebuild
	id := ""
	for _, s := range u.services {
		if s.PullPolicy == types.PullPolicyBuild {
			build = true
		}
		got, err := e.imageID(ctx, BuiltImage(p.Name, s.Name))
		if err != nil {
			return "", err
		}
		if got == "" || (id != "" && got != id) {
			build = true
		}
		id = got
	}
	if build {
		progress("building " + u.names())
		return e.build(ctx, p, u, meta, progress)
	}
	if u.image != "" {
		if got, err := e.imageID(ctx, u.image); err == nil && got == "" {
			if _, err := e.api.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: u.image}); err != nil {
				return "", err
			}
		}
	}
	return id, nil
}

// buildLanes puts the units built from the same context and Dockerfile
// together, in build order; every other unit is a lane of its own.
func buildLanes(units []*buildUnit) [][]*buildUnit {
	var lanes [][]*buildUnit
	index := map[string]int{}
	for _, u := range units {
		b := u.lead().Build
		key := b.Context + "\x00" + b.Dockerfile + "\x00" + b.DockerfileInline
		if i, ok := index[key]; ok {
			lanes[i] = append(lanes[i], u)
			continue
		}
		index[key] = len(lanes)
		lanes = append(lanes, []*buildUnit{u})
	}
	sort.SliceStable(lanes, func(i, j int) bool { return lanes[i][0].lead().Name < lanes[j][0].lead().Name })
	return lanes
}
