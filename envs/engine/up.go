package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"
)

// UpOptions tunes Up.
type UpOptions struct {
	Services []string      // start only these and their dependencies; empty: every enabled service
	Build    bool          // rebuild images of build: services even when present
	Timeout  time.Duration // how long to wait for health; 0: 5 minutes
	// TimeoutFlag names what sets Timeout in the front end (--timeout,
	// timeout_s), for the message that suggests raising it.
	TimeoutFlag string
	Progress    func(string) // one message per step; may be nil; called from one goroutine at a time
	// BeforeStart, when set, runs once the networks and volumes exist and
	// before any container is created or started: a shared service's
	// server joins the stack's networks then, so the services that reach
	// it find it from their first start.
	BeforeStart func(context.Context) error
}

// Up brings the project to its declared state: networks, volumes and images
// exist, every service container exists with the current configuration and
// runs, started in dependency order (independent services in parallel), and
// every service with a healthcheck is healthy. On an unchanged running stack
// it changes nothing. Whatever a cancelled Up created carries the project's
// labels, so the next Up or Down finds it.
func (e *Docker) Up(ctx context.Context, p *types.Project, meta Meta, opts UpOptions) error {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	progress := serialize(opts.Progress)
	p, err := p.WithSelectedServices(opts.Services)
	if err != nil {
		return fmt.Errorf("%w; run `wtenv status` to see the services", err)
	}
	// As in compose: only the networks and volumes the selected services
	// use are created.
	p = p.WithoutUnnecessaryResources()
	// Images come first, as in compose: a build that fails or an image
	// that is missing then leaves nothing behind on the engine.
	images, err := e.ensureImages(ctx, p, meta, opts.Build, progress)
	if err != nil {
		return err
	}
	if err := e.ensureNetworks(ctx, p, meta, progress); err != nil {
		return err
	}
	if err := e.ensureVolumes(ctx, p, meta, progress); err != nil {
		return err
	}
	if opts.BeforeStart != nil {
		if err := opts.BeforeStart(ctx); err != nil {
			return err
		}
	}
	existing, err := e.serviceContainers(ctx, meta.Scope())
	if err != nil {
		return err
	}
	if err := e.scaleDown(ctx, p, existing, progress); err != nil {
		return err
	}
	flag := opts.TimeoutFlag
	if flag == "" {
		flag = "the timeout"
	}
	deadline := waitTime{deadline: time.Now().Add(opts.Timeout), flag: flag}
	started := map[string]chan struct{}{}
	for name := range p.Services {
		started[name] = make(chan struct{})
	}
	changes := &changeSet{of: map[string]change{}}
	g, gctx := errgroup.WithContext(ctx)
	for name, s := range p.Services {
		g.Go(func() error {
			if err := e.awaitDependencies(gctx, p, s, started, deadline, progress); err != nil {
				return err
			}
			c, err := e.reconcile(gctx, p, s, meta, images[name], existing[name], changes.forced(s), progress)
			if err != nil {
				return err
			}
			changes.set(name, c)
			close(started[name])
			return nil
		})
	}
	err = g.Wait()
	if err == nil {
		err = e.awaitHealthy(ctx, p, deadline, progress)
	}
	if err != nil && ctx.Err() != nil {
		return e.undo(ctx, p, meta, existing, err, progress)
	}
	return err
}

// undo stops, after a cancelled Up, the services it started: those of the
// selected services that were not running when it began. What ran before
// runs on (recreated or restarted, it may be, but running as before);
// what it created stays, stopped, for the next Up or Down.
func (e *Docker) undo(ctx context.Context, p *types.Project, meta Meta, existing map[string]container.Summary, cause error, progress func(string)) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	n, err := e.stop(sctx, meta.Scope(), func(service string) bool {
		if _, ok := p.Services[service]; !ok {
			return false
		}
		old, ok := existing[service]
		return !ok || old.State != container.StateRunning
	})
	if err != nil {
		return fmt.Errorf("%w; stopping what up had started failed (%v): run down to remove the stack", cause, err)
	}
	progress(fmt.Sprintf("cancelled: stopped %d container(s) up had started", n))
	return fmt.Errorf("%w: up stopped the %d container(s) it had started, and what it created stays, stopped; up starts the stack again, down removes it", cause, n)
}

type imageRef struct{ ref, id string }

// scaleDown removes the containers of services now scaled to zero, as
// Docker Compose's up scales them down; a service disabled by a profile
// keeps its container, as there.
func (e *Docker) scaleDown(ctx context.Context, p *types.Project, existing map[string]container.Summary, progress func(string)) error {
	for name, s := range p.DisabledServices {
		old, ok := existing[name]
		if !ok || !scaledToZero(s) {
			continue
		}
		progress("removing " + name + " (scaled to zero)")
		if err := e.removeContainer(ctx, old.ID); err != nil {
			return fmt.Errorf("service %q: removing the container of a service scaled to zero: %w", name, err)
		}
	}
	return nil
}

func scaledToZero(s types.ServiceConfig) bool {
	if s.Scale != nil && *s.Scale == 0 {
		return true
	}
	return s.Deploy != nil && s.Deploy.Replicas != nil && *s.Deploy.Replicas == 0
}

// serviceContainers maps service name to its existing (non one-off)
// container of the project.
func (e *Docker) serviceContainers(ctx context.Context, scope Scope) (map[string]container.Summary, error) {
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: scope.services()})
	if err != nil {
		return nil, fmt.Errorf("listing containers of %s: %w", scope.Project, err)
	}
	out := map[string]container.Summary{}
	for _, c := range res.Items {
		out[c.Labels[LabelService]] = c
	}
	return out, nil
}

// reconcile makes one service's container match its configuration and run:
// kept when its config hash and image are unchanged (and forced does not
// say otherwise), recreated otherwise. It returns what it did.
func (e *Docker) reconcile(ctx context.Context, p *types.Project, s types.ServiceConfig, meta Meta, img imageRef, old container.Summary, forced forcedChange, progress func(string)) (change, error) {
	hash, err := configHash(s)
	if err != nil {
		return unchanged, err
	}
	spec, err := specFor(p, s, img.ref, meta.containerLabels(s, false, hash, img.id))
	if err != nil {
		return unchanged, err
	}
	files, err := inlineFiles(p, s)
	if err != nil {
		return unchanged, err
	}
	if old.ID != "" && old.Labels[LabelConfigHash] == hash && old.Labels[LabelImage] == img.id && forced.recreate == "" {
		if old.State == container.StateRunning {
			if forced.restart == "" {
				return unchanged, nil
			}
			progress(fmt.Sprintf("restarting %s (%s was recreated, and it depends on it with restart: true)", s.Name, forced.restart))
			if _, err := e.api.ContainerRestart(ctx, old.ID, client.ContainerRestartOptions{}); err != nil {
				return unchanged, fmt.Errorf("service %q: restarting after %s was recreated: %w; run up again", s.Name, forced.restart, err)
			}
			return restarted, nil
		}
		// A process killed between creating the container and connecting
		// it to its other networks left it short of them (so does a
		// `docker network disconnect`): it joins every network it lacks.
		if err := e.connect(ctx, s.Name, old.ID, spec.networks(), old.NetworkSettings); err != nil {
			return unchanged, err
		}
		if err := e.writeFiles(ctx, s.Name, old.ID, files); err != nil {
			return unchanged, err
		}
		progress("starting " + s.Name)
		if err := e.start(ctx, s.Name, old.ID); err != nil {
			return unchanged, err
		}
		crashPoint(CrashRestarted)
		return restarted, nil
	}
	if old.ID != "" {
		why := ""
		if forced.recreate != "" {
			why = " (" + forced.recreate + " was recreated, and it shares its namespace or volumes)"
		}
		progress("recreating " + s.Name + why)
		if err := e.removeContainer(ctx, old.ID); err != nil {
			return unchanged, fmt.Errorf("service %q: removing the outdated container: %w", s.Name, err)
		}
	}
	if err := e.createHostPaths(s); err != nil {
		return unchanged, err
	}
	progress("creating " + s.Name)
	res, err := e.api.ContainerCreate(ctx, spec.create)
	if err != nil {
		return unchanged, fmt.Errorf("service %q: creating container %s: %w", s.Name, spec.create.Name, err)
	}
	crashPoint(CrashContainerCreated)
	if err := e.connect(ctx, s.Name, res.ID, spec.extra, nil); err != nil {
		return unchanged, err
	}
	if err := e.writeFiles(ctx, s.Name, res.ID, files); err != nil {
		return unchanged, err
	}
	progress("starting " + s.Name)
	return recreated, e.start(ctx, s.Name, res.ID)
}

// connect joins a container to networks (the engine's API before 1.44
// takes one network at create), skipping those it is already on.
func (e *Docker) connect(ctx context.Context, service, id string, nets map[string]*network.EndpointSettings, current *container.NetworkSettingsSummary) error {
	for name, ep := range nets {
		if current != nil && current.Networks[name] != nil {
			continue
		}
		if _, err := e.api.NetworkConnect(ctx, name, client.NetworkConnectOptions{Container: id, EndpointConfig: ep}); err != nil {
			return fmt.Errorf("service %q: connecting to network %s: %w", service, name, err)
		}
	}
	return nil
}

func (e *Docker) start(ctx context.Context, service, id string) error {
	if _, err := e.api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("service %q: starting: %w%s", service, err, e.logTail(ctx, id, 20))
	}
	return nil
}

// dependsOnLabel writes depends_on the way compose records it
// (service:condition:restart, comma-separated), so compose's own down
// orders removal correctly.
func dependsOnLabel(s types.ServiceConfig) string {
	var parts []string
	for name, d := range s.DependsOn {
		parts = append(parts, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// serialize makes a progress callback safe to call from many goroutines.
func serialize(f func(string)) func(string) {
	if f == nil {
		return func(string) {}
	}
	var mu sync.Mutex
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		f(msg)
	}
}
