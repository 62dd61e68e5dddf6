package engine

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// buildJob is one build as either builder runs it.
type buildJob struct {
	service  types.ServiceConfig // the lead service: its build section and name
	df       *dockerfile
	tags     []string          // the services' own tags first, then image: and build.tags
	labels   map[string]string // build.labels with wtenv's over them
	platform string            // "" for the engine's own
	// bases are the images of the project's other builds that this one
	// uses, by the name the Dockerfile or additional_contexts gives them,
	// as the per-worktree tags to use for those names.
	bases map[string]string
	// serviceImages are the images of the services that
	// additional_contexts names (service:NAME) and the project does not
	// build: they run a pulled or local image.
	serviceImages map[string]string
	// log takes the build's whole output (io.Discard without a worktree).
	log io.Writer
	// worktree is the stack's, where a classic build records the images
	// of its steps for down --purge.
	worktree string
}

// build builds a unit's image with BuildKit when the engine offers it (and
// DOCKER_BUILDKIT does not turn it off), else with the classic builder,
// and returns the image's ID. Every error wraps ErrImage and names the
// next action, except a cancellation, which is the caller's.
func (e *Docker) build(ctx context.Context, p *types.Project, u *buildUnit, meta Meta, progress func(string)) (string, error) {
	job, err := newBuildJob(p, u, meta)
	if err != nil {
		return "", err
	}
	log, logPath := openBuildLog(meta.Worktree, job.service.Name)
	defer log.Close()
	job.log, job.worktree = log, meta.Worktree
	kit, err := e.builder(ctx)
	if err != nil {
		return "", fmt.Errorf("service %q: %w", job.service.Name, err)
	}
	var id string
	if kit.on {
		id, err = e.buildKit(ctx, p, job, progress)
	} else {
		if err := job.classicRefusal(kit); err != nil {
			return "", err
		}
		id, err = e.buildClassic(ctx, job, progress)
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("service %q: building: %w", job.service.Name, context.Cause(ctx))
		}
		if logPath != "" {
			err = fmt.Errorf("%w\nthe whole build output: %s", err, logPath)
		}
		return "", err
	}
	if id == "" {
		id, err = e.imageID(ctx, job.tags[0])
	}
	if err == nil && id == "" {
		err = fmt.Errorf("%w: service %q: build finished but %s is missing; run up again", ErrImage, job.service.Name, job.tags[0])
	}
	return id, err
}

func newBuildJob(p *types.Project, u *buildUnit, meta Meta) (buildJob, error) {
	s := u.lead()
	b := s.Build
	if isRemoteContext(b.Context) {
		return buildJob{}, fmt.Errorf("%w: service %q: build.context %s is not a local directory; wtenv builds from local directories: clone it and point build.context at the clone", ErrImage, s.Name, b.Context)
	}
	df, err := readDockerfile(s.Name, b)
	if err != nil {
		return buildJob{}, err
	}
	platform, err := buildPlatform(s)
	if err != nil {
		return buildJob{}, err
	}
	labels := map[string]string{}
	maps.Copy(labels, b.Labels)
	maps.Copy(labels, meta.imageLabels())
	bases := map[string]string{}
	for name, base := range u.bases {
		bases[name] = base.ref(p.Name)
	}
	images := map[string]string{}
	for name, value := range b.AdditionalContexts {
		other, ok := strings.CutPrefix(value, types.ServicePrefix)
		if !ok || bases[name] != "" {
			continue
		}
		o, ok := p.Services[other]
		if !ok {
			o = p.DisabledServices[other]
		}
		if o.Image == "" {
			return buildJob{}, fmt.Errorf("%w: service %q: build.additional_contexts %s names service %q, which has no image of its own; name a service with an image: or a build", ErrImage, s.Name, name, other)
		}
		images[other] = o.Image
	}
	return buildJob{service: s, df: df, tags: u.tags(p.Name), labels: labels, platform: platform, bases: bases, serviceImages: images}, nil
}

// buildPlatform is the one platform to build for: the service's platform,
// else the only one of build.platforms. The engine's image store keeps one
// platform under a tag, so several cannot be built into it.
func buildPlatform(s types.ServiceConfig) (string, error) {
	list := s.Build.Platforms
	switch {
	case s.Platform != "":
		if len(list) > 0 && !slices.Contains(list, s.Platform) {
			return "", fmt.Errorf("%w: service %q: platform %s is not among build.platforms %v; add it there or change platform", ErrImage, s.Name, s.Platform, []string(list))
		}
		return s.Platform, nil
	case len(list) == 1:
		return list[0], nil
	case len(list) > 1:
		return "", fmt.Errorf("%w: service %q: build.platforms lists %d platforms, and the engine's image store keeps one per tag; set the service's platform: to the one to run, or list only that one", ErrImage, s.Name, len(list))
	}
	return "", nil
}

// isRemoteContext tells a Git or HTTP build context from a directory, as
// compose-go does.
func isRemoteContext(ctx string) bool {
	if strings.Contains(ctx, "://") {
		return true
	}
	for _, prefix := range []string{"github.com/", "git@"} {
		if strings.HasPrefix(ctx, prefix) {
			return true
		}
	}
	return false
}

// buildSecrets reads the service's build secrets, by the ID a Dockerfile's
// RUN --mount=type=secret,id=… names (the target when set, else the
// secret's name), from the top-level secrets: a file, or an environment
// variable of the project's environment.
func buildSecrets(p *types.Project, s types.ServiceConfig) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, ref := range s.Build.Secrets {
		id := ref.Source
		if ref.Target != "" {
			id = ref.Target
		}
		cfg, ok := p.Secrets[ref.Source]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: service %q: build.secrets names %q, which the top-level secrets: section does not declare; declare it there with file: or environment:", ErrImage, s.Name, ref.Source)
		case cfg.File != "":
			data, err := os.ReadFile(cfg.File)
			if err != nil {
				return nil, fmt.Errorf("%w: service %q: build secret %q: %w; create the file or point the secret's file: at an existing one", ErrImage, s.Name, ref.Source, err)
			}
			out[id] = data
		case cfg.Environment != "":
			v, ok := p.Environment[cfg.Environment]
			if !ok {
				return nil, fmt.Errorf("%w: service %q: build secret %q takes its value from the environment variable %s, which is not set; set it (or write it in the project's .env file) and run up again", ErrImage, s.Name, ref.Source, cfg.Environment)
			}
			out[id] = []byte(v)
		case cfg.Content != "":
			out[id] = []byte(cfg.Content)
		default:
			return nil, fmt.Errorf("%w: service %q: build secret %q has neither file: nor environment:; a build reads its secrets from one of them", ErrImage, s.Name, ref.Source)
		}
	}
	return out, nil
}

// classicRefusal says why the classic builder cannot build the job, and
// what to do, or returns nil when it can.
func (job buildJob) classicRefusal(kit buildKitState) error {
	b, df := job.service.Build, job.df
	var what string
	switch {
	case df.syntax != "":
		what = fmt.Sprintf("%s line %d asks for the Dockerfile frontend %s (# syntax=), which", df.path, df.syntaxLine, df.syntax)
	case df.kitOnly != "":
		what = fmt.Sprintf("%s %s", df.path, df.kitOnly)
	case len(b.Secrets) > 0:
		what = "build.secrets"
	case len(b.AdditionalContexts) > 0:
		what = "build.additional_contexts"
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("%w: service %q: %s needs BuildKit, and %s; %s", ErrImage, job.service.Name, what, kit.why, kit.action)
}
