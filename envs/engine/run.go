package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// RunOptions describe a one-off container run from a service definition,
// as `docker compose run` would make it.
type RunOptions struct {
	Service  string
	Command  []string          // replaces the service's command
	Env      map[string]string // added to the service's environment
	Mount    string            // host directory bound at the working directory (the worktree)
	Output   io.Writer         // stdout and stderr, interleaved
	Progress func(string)
	// Timeout bounds the run itself; the image build and the networks
	// before it are not the suite's time. 0: only ctx bounds it.
	Timeout time.Duration
	// Caches, when set, returns the cache volumes to mount, given the
	// container's environment (the service's over its image's), from
	// which a toolchain's cache paths follow, and its user.
	Caches func(env map[string]string, user string) []Cache
}

// DefaultWorkdir is where the worktree is mounted when the service names
// no working_dir.
const DefaultWorkdir = "/src"

// RunOneOff runs a one-off container of a service of the project — enabled
// or under a profile that up does not start — on the stack's networks, so
// service names resolve to this stack only, and returns its exit code. The
// container carries the project's labels with com.docker.compose.oneoff=True;
// it is removed when the run ends, fails, times out or is cancelled (ctx),
// so none is ever left behind.
func (e *Docker) RunOneOff(ctx context.Context, p *types.Project, meta Meta, opts RunOptions) (int, error) {
	progress := serialize(opts.Progress)
	s, ref, id, err := e.prepareOneOff(ctx, p, meta, opts.Service, progress)
	if err != nil {
		return -1, err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	spec, err := e.oneOffSpec(p, s, meta, ref, id, opts)
	if err != nil {
		return -1, err
	}
	var caches []Cache
	if opts.Caches != nil {
		env, user, err := e.runEnv(ctx, ref, s)
		if err != nil {
			return -1, err
		}
		caches = opts.Caches(env, user)
		if err := e.ensureCaches(ctx, caches); err != nil {
			return -1, err
		}
		host := spec.create.HostConfig
		host.Mounts = append(host.Mounts, cacheMounts(caches, func(target string) bool { return mountsAt(host, target) })...)
		if len(caches) > 0 {
			paths := make([]string, len(caches))
			for i, c := range caches {
				paths[i] = c.Path
			}
			progress("caches kept across runs: " + strings.Join(paths, ", "))
		}
	}
	if err := e.createHostPaths(s); err != nil {
		return -1, err
	}
	if opts.Timeout > 0 {
		spec.create.Config.Labels[LabelDeadline] = time.Now().Add(opts.Timeout).UTC().Format(time.RFC3339)
	}
	// The create is not cancelled with ctx: a cancel while the engine
	// creates the container would leave one whose ID the run never
	// learnt, and so could not remove. It is checked right after.
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	// A new cache volume takes the image's content when the first
	// container that mounts it is created or started; two at once would
	// both copy into it (the engine fails one, or one sees it half
	// filled). Runs take turns from create to start.
	locked, err := lockCaches(ctx, caches)
	if err != nil {
		ccancel()
		return -1, err
	}
	var once sync.Once
	unlock := func() { once.Do(locked) }
	defer unlock()
	res, err := e.api.ContainerCreate(cctx, spec.create)
	ccancel()
	if err != nil {
		return -1, fmt.Errorf("service %q: creating one-off container: %w", s.Name, err)
	}
	// Removal must happen even when ctx is cancelled or timed out.
	defer e.removeRun(context.WithoutCancel(ctx), res.ID)
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	if err := e.connect(ctx, s.Name, res.ID, spec.extra, nil); err != nil {
		return -1, err
	}
	if err := e.injectFiles(ctx, p, s, res.ID); err != nil {
		return -1, err
	}
	// Wait is registered before start so a fast exit is not missed.
	wait := e.api.ContainerWait(ctx, res.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := e.api.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return -1, fmt.Errorf("service %q: starting one-off container: %w", s.Name, err)
	}
	unlock()
	crashPoint(CrashOneOffStarted)
	progress("running " + s.Name + " one-off container " + spec.create.Name)
	logs, err := e.api.ContainerLogs(ctx, res.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return -1, err
	}
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(opts.Output, opts.Output, logs)
		copied <- err
	}()
	defer logs.Close()
	// Every path waits for the log copy to end, so nothing is written to
	// Output after RunOneOff returns.
	select {
	case r := <-wait.Result:
		// The log stream ends when the container exits.
		select {
		case <-copied:
		case <-ctx.Done():
			logs.Close()
			<-copied
		}
		if r.Error != nil {
			return int(r.StatusCode), fmt.Errorf("service %q: %s", s.Name, r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-wait.Error:
		e.kill(ctx, res.ID)
		logs.Close()
		<-copied
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, fmt.Errorf("service %q: waiting for the one-off container: %w", s.Name, err)
	case <-ctx.Done():
		e.kill(ctx, res.ID)
		logs.Close()
		<-copied
		return -1, ctx.Err()
	}
}

// prepareOneOff makes what a one-off run of service needs — the stack's
// networks and volumes, the service's image (built if missing) — and
// returns the service and its image reference and ID.
func (e *Docker) prepareOneOff(ctx context.Context, p *types.Project, meta Meta, service string, progress func(string)) (types.ServiceConfig, string, string, error) {
	s, ok := p.Services[service]
	if !ok {
		if s, ok = p.DisabledServices[service]; !ok {
			return s, "", "", fmt.Errorf("service %q is not in the compose file; name one of its services in wtenv.yaml's tests: section", service)
		}
	}
	progress = serialize(progress)
	if err := e.ensureNetworks(ctx, p, meta, progress); err != nil {
		return s, "", "", err
	}
	if err := e.ensureVolumes(ctx, p, meta, progress); err != nil {
		return s, "", "", err
	}
	ref, id, err := e.ensureImage(ctx, p, s, meta, false, progress)
	return s, ref, id, err
}

// removeRun removes a one-off container with its anonymous volumes,
// however its run ended.
func (e *Docker) removeRun(ctx context.Context, id string) {
	_, _ = e.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

func (e *Docker) kill(ctx context.Context, id string) {
	_, _ = e.api.ContainerKill(context.WithoutCancel(ctx), id, client.ContainerKillOptions{})
}

// oneOffSpec derives the one-off container from the service: same image,
// environment, volumes and networks; the given command; the worktree
// mounted at the working directory; no published ports, no restart.
func (e *Docker) oneOffSpec(p *types.Project, s types.ServiceConfig, meta Meta, ref, id string, opts RunOptions) (containerSpec, error) {
	s.Ports = nil
	s.Restart = ""
	s.ContainerName = ""
	s.HealthCheck = &types.HealthCheckConfig{Disable: true}
	if s.WorkingDir == "" {
		s.WorkingDir = DefaultWorkdir
	}
	if len(opts.Command) > 0 {
		s.Command = opts.Command
	}
	env := types.MappingWithEquals{}
	for k, v := range s.Environment {
		env[k] = v
	}
	keys := make([]string, 0, len(opts.Env))
	for k := range opts.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts.Env[k]
		env[k] = &v
	}
	s.Environment = env
	hash, err := configHash(s)
	if err != nil {
		return containerSpec{}, err
	}
	spec, err := specFor(p, s, ref, meta.containerLabels(s, true, hash, id))
	if err != nil {
		return spec, err
	}
	spec.create.Name = fmt.Sprintf("%s-%s-run-%s", p.Name, s.Name, randomHex(6))
	if opts.Mount != "" && !mountsAt(spec.create.HostConfig, s.WorkingDir) {
		spec.create.HostConfig.Mounts = append(spec.create.HostConfig.Mounts, mount.Mount{Type: mount.TypeBind, Source: opts.Mount, Target: s.WorkingDir})
	}
	spec.create.HostConfig.AutoRemove = false
	// A one-off answers to no service alias, so it never receives traffic
	// meant for the stack's own services.
	for _, ep := range spec.create.NetworkingConfig.EndpointsConfig {
		ep.Aliases = nil
	}
	for _, ep := range spec.extra {
		ep.Aliases = nil
	}
	return spec, nil
}

// mountsAt reports whether the service already mounts something at target
// (a compose file often binds the source itself, e.g. ./:/src).
func mountsAt(host *container.HostConfig, target string) bool {
	for _, m := range host.Mounts {
		if m.Target == target {
			return true
		}
	}
	for _, b := range host.Binds {
		if _, rest, ok := strings.Cut(b, ":"); ok {
			if t, _, _ := strings.Cut(rest, ":"); t == target {
				return true
			}
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
