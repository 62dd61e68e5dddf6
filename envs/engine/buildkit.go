package engine

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerfile/builder"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/moby/client"
	"github.com/tonistiigi/fsutil"
)

// How wtenv builds with BuildKit. It talks to the engine's embedded
// BuildKit through the engine's own API (/grpc and /session, as buildx's
// docker driver does) and runs the Dockerfile frontend of the BuildKit
// module it is built with in its own process, over the gateway API, instead
// of the frontend built into the engine. The engine's built-in frontend is
// as old as the engine (Docker 20.10's knows no heredocs and no named
// contexts); this one is the frontend that `# syntax=docker/dockerfile:1`
// fetches from a registry, without the registry. The image goes into the
// engine's image store through the "moby" exporter under every tag of the
// build.

// buildKitState is what wtenv knows of the engine's BuildKit.
type buildKitState struct {
	on bool
	// why and action, when off: why there is no BuildKit, as the end of
	// "… needs BuildKit, and …", and what to do about it.
	why, action string
}

// buildKitProbe is the cached outcome of one Docker client's probe.
type buildKitProbe struct {
	mu    sync.Mutex
	known bool
	state buildKitState
}

// builder tells whether builds use BuildKit: not when DOCKER_BUILDKIT is
// false (as with the docker CLI), else when the engine answers BuildKit's
// ListWorkers, which takes a few milliseconds. Engines answer neither an
// Info RPC nor a Builder-Version in every version, so the probe is that
// call; an engine without BuildKit refuses /grpc with 404. The answer is
// kept for the client's life. An engine that does not answer at all is
// an error, not a reason to use the classic builder.
func (e *Docker) builder(ctx context.Context) (buildKitState, error) {
	if v, ok := os.LookupEnv("DOCKER_BUILDKIT"); ok {
		if on, err := strconv.ParseBool(v); err == nil && !on {
			return buildKitState{why: "DOCKER_BUILDKIT=" + v + " turns it off", action: "unset DOCKER_BUILDKIT (or set it to 1) and run up again"}, nil
		}
	}
	probe := &e.buildKitProbe
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if probe.known {
		return probe.state, nil
	}
	c, err := e.buildKitClient(ctx)
	if err != nil {
		return buildKitState{}, err
	}
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = c.ListWorkers(pctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return buildKitState{}, context.Cause(ctx)
		}
		if _, perr := e.api.Ping(ctx, client.PingOptions{}); perr != nil {
			return buildKitState{}, fmt.Errorf("%w at %s: %w", ErrUnreachable, e.host.Endpoint, perr)
		}
		probe.state = buildKitState{
			why:    fmt.Sprintf("the engine at %s offers none (%v)", e.host.Endpoint, err),
			action: "build on an engine with BuildKit (Docker 18.09 or newer; on Docker 18.09 to 20.10 with \"features\": {\"buildkit\": true} in daemon.json), or rewrite that part without BuildKit's features",
		}
	} else {
		probe.state = buildKitState{on: true}
	}
	probe.known = true
	return probe.state, nil
}

// buildKitClient is a BuildKit client that reaches the engine's BuildKit
// through the engine API's hijacked /grpc and /session endpoints. It
// connects on its first call.
func (e *Docker) buildKitClient(ctx context.Context) (*bkclient.Client, error) {
	return bkclient.New(ctx, "",
		bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return e.api.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		bkclient.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return e.api.DialHijack(ctx, "/session", proto, meta)
		}))
}

// buildKit builds the job with the engine's BuildKit. The image's ID is
// left for build to look up ("").
func (e *Docker) buildKit(ctx context.Context, p *types.Project, job buildJob, progress func(string)) (string, error) {
	secrets, err := buildSecrets(p, job.service)
	if err != nil {
		return "", err
	}
	opt, cleanup, err := job.solveOpt(secrets)
	defer cleanup()
	if err != nil {
		return "", err
	}
	c, err := e.buildKitClient(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: service %q: BuildKit: %w", ErrImage, job.service.Name, err)
	}
	defer c.Close()
	trace := newBuildTrace(job.service.Name, job.log, progress)
	status := make(chan *bkclient.SolveStatus)
	followed := make(chan struct{})
	go func() {
		trace.follow(status)
		close(followed)
	}()
	var (
		mu          sync.Mutex
		frontendErr error
	)
	_, err = c.Build(ctx, opt, "", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		res, err := builder.Build(ctx, gc)
		mu.Lock()
		frontendErr = err
		mu.Unlock()
		return res, err
	}, status)
	<-followed
	if err == nil {
		return "", nil
	}
	if ctx.Err() != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if df := job.df; df.syntax != "" && atLine(frontendErr, df.syntaxLine) {
		return "", fmt.Errorf("%w: service %q: %s line %d `# syntax=%s` asks BuildKit to fetch that Dockerfile frontend from a registry, and it could not (%v); without the line, wtenv's own Dockerfile frontend builds the file (RUN --mount, heredocs and the other current Dockerfile features included): remove the `# syntax=` line, or make the registry reachable, and run up again",
			ErrImage, job.service.Name, df.path, df.syntaxLine, df.syntax, frontendErr)
	}
	return "", trace.failed(err, frontendErr)
}

// atLine reports whether err points at the given line of the Dockerfile,
// as the frontend's errors about one instruction or directive do.
func atLine(err error, line int) bool {
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			if int(r.GetStart().GetLine()) == line {
				return true
			}
		}
	}
	return false
}

// solveOpt turns the job into BuildKit's solve options: the build context
// and the Dockerfile's folder as local mounts (the frontend applies
// .dockerignore to the context), the build section as frontend
// attributes, the image exported to the engine under every tag, and the
// build secrets served from memory. cleanup removes the folder of a
// dockerfile_inline.
func (job buildJob) solveOpt(secrets map[string][]byte) (opt bkclient.SolveOpt, cleanup func(), err error) {
	s, b, df := job.service, job.service.Build, job.df
	cleanup = func() {}
	fail := func(format string, args ...any) (bkclient.SolveOpt, func(), error) {
		return bkclient.SolveOpt{}, cleanup, fmt.Errorf("%w: service %q: "+format, append([]any{ErrImage, s.Name}, args...)...)
	}
	contextFS, err := fsutil.NewFS(b.Context)
	if err != nil {
		return fail("build context %s: %w; check build.context", b.Context, err)
	}
	dir := df.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "wtenv-dockerfile-"); err != nil {
			return fail("dockerfile_inline: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		if err := os.WriteFile(filepath.Join(dir, df.name), df.data, 0o644); err != nil {
			return fail("dockerfile_inline: %w", err)
		}
	}
	dockerfileFS, err := fsutil.NewFS(dir)
	if err != nil {
		return fail("Dockerfile folder %s: %w; check build.dockerfile", dir, err)
	}
	opt = bkclient.SolveOpt{
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": dockerfileFS},
		FrontendAttrs: map[string]string{"filename": df.name},
		Exports:       []bkclient.ExportEntry{{Type: "moby", Attrs: map[string]string{"name": strings.Join(job.tags, ",")}}},
	}
	attrs := opt.FrontendAttrs
	if b.Target != "" {
		attrs["target"] = b.Target
	}
	for k, v := range b.Args {
		if v != nil {
			attrs["build-arg:"+k] = *v
		}
	}
	for k, v := range job.labels {
		attrs["label:"+k] = v
	}
	if b.NoCache {
		attrs["no-cache"] = ""
	}
	if b.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	if job.platform != "" {
		attrs["platform"] = job.platform
	}
	if len(b.ExtraHosts) > 0 {
		hosts := b.ExtraHosts.AsList("=")
		sort.Strings(hosts)
		attrs["add-hosts"] = strings.Join(hosts, ",")
	}
	if b.ShmSize > 0 {
		attrs["shm-size"] = strconv.FormatInt(int64(b.ShmSize), 10)
	}
	switch b.Network {
	case "", "default":
	case "host":
		attrs["force-network-mode"] = "host"
		opt.AllowedEntitlements = []string{"network.host"}
	case "none":
		attrs["force-network-mode"] = "none"
	default:
		return fail("build.network %s: BuildKit builds on the default network, host or none; set build.network to one of them or remove it", b.Network)
	}
	for name, ref := range job.bases {
		attrs["context:"+name] = "docker-image://" + ref
	}
	for i, name := range slices.Sorted(maps.Keys(b.AdditionalContexts)) {
		value := b.AdditionalContexts[name]
		switch {
		case job.bases[name] != "":
		case strings.HasPrefix(value, types.ServicePrefix):
			attrs["context:"+name] = "docker-image://" + job.serviceImages[strings.TrimPrefix(value, types.ServicePrefix)]
		case strings.Contains(value, "://") || isRemoteContext(value):
			attrs["context:"+name] = value
		default:
			fs, err := fsutil.NewFS(value)
			if err != nil {
				return fail("build.additional_contexts %s: %w; point it at a folder", name, err)
			}
			local := "context-" + strconv.Itoa(i)
			opt.LocalMounts[local] = fs
			attrs["context:"+name] = "local:" + local
		}
	}
	if len(secrets) > 0 {
		opt.Session = []session.Attachable{secretsprovider.FromMap(secrets)}
	}
	return opt, cleanup, nil
}
