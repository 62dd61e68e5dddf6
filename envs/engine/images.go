package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrImage means an image could be neither found, pulled nor built.
var ErrImage = errors.New("image unavailable")

// BuiltImage is the tag wtenv gives an image it builds for a service of a
// project: per worktree, so two branches never overwrite each other's build.
// Containers run this tag; the service's image: name, which the build also
// gets (as Compose tags it), is shared by every worktree of the product.
// Service names may hold capitals and separator runs that image names do
// not allow; they are lowercased and each such run becomes one "-".
func BuiltImage(project, service string) string {
	name := separators.ReplaceAllStringFunc(strings.ToLower(service), func(run string) string {
		if run == "." || run == "_" || run == "__" || strings.Trim(run, "-") == "" {
			return run // what image names allow between letters and digits
		}
		return "-"
	})
	if name = strings.Trim(name, "-._"); name == "" {
		name = "service"
	}
	return project + "-" + name
}

var separators = regexp.MustCompile(`[^a-z0-9]+`)

// imageID returns the local image ID for ref, or "" when it is absent.
func (e *Docker) imageID(ctx context.Context, ref string) (string, error) {
	res, err := e.api.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

// ensureImage makes one service's image available and returns its
// reference and ID: built for build: services (when missing, or always with
// rebuild), with the builds it uses first; for the others, the image a
// build of the project tags with their image: name, or else the image
// pulled as pull_policy says.
func (e *Docker) ensureImage(ctx context.Context, p *types.Project, s types.ServiceConfig, meta Meta, rebuild bool, progress func(string)) (string, string, error) {
	images, err := e.obtainImages(ctx, p, []types.ServiceConfig{s}, meta, rebuild, progress)
	if err != nil {
		return "", "", err
	}
	img := images[s.Name]
	return img.ref, img.id, nil
}

// localOrPulled returns the reference and ID of the image of a service
// without a build: the local one, or pulled as pull_policy says (missing,
// always, never, or refreshed when older than daily, weekly or every_<d>),
// for the service's platform when it names one.
func (e *Docker) localOrPulled(ctx context.Context, s types.ServiceConfig, progress func(string)) (string, string, error) {
	if s.Image == "" {
		return "", "", fmt.Errorf("service %q has neither image nor build; add one of them", s.Name)
	}
	policy, refresh, err := s.GetPullPolicy()
	if err != nil {
		return "", "", fmt.Errorf("service %q: %w; use missing, always, never, daily, weekly or every_<duration>", s.Name, err)
	}
	res, err := e.api.ImageInspect(ctx, s.Image)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return "", "", err
	}
	id := res.ID
	stale := policy == types.PullPolicyAlways || (policy == types.PullPolicyRefresh && time.Since(res.Metadata.LastTagTime) >= refresh)
	if id != "" && !stale {
		return s.Image, id, nil
	}
	if policy == types.PullPolicyNever {
		return "", "", fmt.Errorf("%w: service %q: image %q is not on the engine and pull_policy is never; build it or load it locally (docker build -t %s …, or docker load)", ErrImage, s.Name, s.Image, s.Image)
	}
	progress("pulling " + s.Image)
	if err := e.pullFor(ctx, s.Image, s.Platform); err != nil {
		if id != "" && ctx.Err() == nil {
			return s.Image, id, nil // a refresh is due, but the local copy will do when no registry answers
		}
		return "", "", pullFailed(ctx, s.Name, s.Image, err)
	}
	id, err = e.imageID(ctx, s.Image)
	return s.Image, id, err
}

// pullFailed is the error of a pull that failed: a cancellation or timeout
// of the caller's when that is why (the image may well exist), else
// ErrImage with the engine's reason and what to do.
func pullFailed(ctx context.Context, service, image string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("service %q: pulling %s: %w", service, image, context.Cause(ctx))
	}
	return fmt.Errorf("%w: service %q: image %q is not on the engine and could not be pulled (%w); build it or load it locally (docker build -t %s …, or docker load)", ErrImage, service, image, err, image)
}

func (e *Docker) pull(ctx context.Context, ref string) error {
	return e.pullFor(ctx, ref, "")
}

// pullFor pulls ref for platform (os/arch[/variant]), or for the engine's
// own when it is "".
func (e *Docker) pullFor(ctx context.Context, ref, platform string) error {
	var opts client.ImagePullOptions
	if platform != "" {
		p, err := platforms.Parse(platform)
		if err != nil {
			return fmt.Errorf("platform %q: %w", platform, err)
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	resp, err := e.api.ImagePull(ctx, ref, opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	return resp.Wait(ctx)
}

// HasImage reports whether ref is on the engine.
func (e *Docker) HasImage(ctx context.Context, ref string) (bool, error) {
	id, err := e.imageID(ctx, ref)
	return id != "", err
}

// Pull pulls ref from its registry.
func (e *Docker) Pull(ctx context.Context, ref string) error {
	return e.pull(ctx, ref)
}
