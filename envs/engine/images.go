package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/moby/patternmatcher/ignorefile"
)

// ErrImage means an image could be neither found, pulled nor built.
var ErrImage = errors.New("image unavailable")

// BuiltImage is the tag wtenv gives an image it builds for a service of a
// project: per worktree, so two branches never overwrite each other's build.
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

// ensureImage makes the service's image available and returns its reference
// and ID: built for build: services (when missing, or always with rebuild),
// pulled for the others as pull_policy says.
func (e *Docker) ensureImage(ctx context.Context, p *types.Project, s types.ServiceConfig, meta Meta, rebuild bool, progress func(string)) (string, string, error) {
	if s.Build != nil {
		ref := BuiltImage(p.Name, s.Name)
		id, err := e.imageID(ctx, ref)
		if err != nil {
			return "", "", err
		}
		if id == "" || rebuild || s.PullPolicy == types.PullPolicyBuild {
			progress("building " + s.Name)
			if id, err = e.build(ctx, s, ref, meta, progress); err != nil {
				return "", "", err
			}
		}
		return ref, id, nil
	}
	if s.Image == "" {
		return "", "", fmt.Errorf("service %q has neither image nor build; add one of them", s.Name)
	}
	id, err := e.imageID(ctx, s.Image)
	if err != nil {
		return "", "", err
	}
	policy := s.PullPolicy
	if id != "" && policy != types.PullPolicyAlways {
		return s.Image, id, nil
	}
	if policy == types.PullPolicyNever {
		return "", "", fmt.Errorf("%w: service %q: image %q is not on the engine and pull_policy is never; build it or load it locally (docker build -t %s …, or docker load)", ErrImage, s.Name, s.Image, s.Image)
	}
	progress("pulling " + s.Image)
	if err := e.pull(ctx, s.Image); err != nil {
		if id != "" && ctx.Err() == nil {
			return s.Image, id, nil // pull_policy always, but the local copy will do when no registry answers
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
	resp, err := e.api.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	return resp.Wait(ctx)
}

// build runs the classic builder, which every engine has, on the service's
// context honouring .dockerignore, and returns the new image's ID. On
// failure the error carries the tail of the build log.
func (e *Docker) build(ctx context.Context, s types.ServiceConfig, ref string, meta Meta, progress func(string)) (string, error) {
	b := s.Build
	dockerfile := b.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if filepath.IsAbs(dockerfile) {
		rel, err := filepath.Rel(b.Context, dockerfile)
		if err != nil || strings.HasPrefix(rel, "..") {
			return "", fmt.Errorf("%w: service %q: dockerfile %s lies outside the build context %s; move it into the context", ErrImage, s.Name, dockerfile, b.Context)
		}
		dockerfile = rel
	}
	excludes, err := readIgnore(b.Context)
	if err != nil {
		return "", fmt.Errorf("service %q: %w", s.Name, err)
	}
	tar, err := archive.TarWithOptions(b.Context, &archive.TarOptions{ExcludePatterns: excludes})
	if err != nil {
		return "", fmt.Errorf("%w: service %q: build context %s: %w", ErrImage, s.Name, b.Context, err)
	}
	defer tar.Close()
	res, err := e.api.ImageBuild(ctx, tar, client.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  filepath.ToSlash(dockerfile),
		BuildArgs:   map[string]*string(b.Args),
		Target:      b.Target,
		Labels:      meta.imageLabels(),
		Remove:      true,
		ForceRemove: true,
	})
	if err != nil {
		return "", fmt.Errorf("%w: service %q: build: %w", ErrImage, s.Name, err)
	}
	defer res.Body.Close()
	if err := followBuild(res.Body, s.Name, progress); err != nil {
		return "", err
	}
	id, err := e.imageID(ctx, ref)
	if err == nil && id == "" {
		err = fmt.Errorf("%w: service %q: build finished but %s is missing", ErrImage, s.Name, ref)
	}
	return id, err
}

// followBuild reads the build's JSON stream, reports each step, and turns an
// error message into an error with the last lines of the log.
func followBuild(r io.Reader, service string, progress func(string)) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%w: service %q: reading build output: %w", ErrImage, service, err)
		}
		for _, line := range strings.Split(strings.TrimRight(stripANSI(m.Stream), "\n"), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
			if strings.HasPrefix(line, "Step ") {
				crashPoint(CrashBuild)
				progress("building " + service + ": " + line)
			}
		}
		if m.Error != nil {
			return fmt.Errorf("%w: service %q: build failed: %s; %s\n--- last build output ---\n%s", ErrImage, service, m.Error.Message, buildAdvice(tail), strings.Join(tail, "\n"))
		}
	}
}

// buildAdvice names the next action after a failed build. The classic
// builder reports a failed step only as text, so running out of disk space
// is recognised by the kernel's message in the step's output.
func buildAdvice(tail []string) string {
	for _, line := range tail {
		if strings.Contains(strings.ToLower(line), "no space left on device") {
			return "the build ran out of disk space: free space on the engine's disk (`docker system df` shows what uses it; `wtenv gc` and `wtenv down --purge` in idle worktrees free wtenv's share) and run up again"
		}
	}
	return "fix the Dockerfile or the files it uses (the output below shows the failing step) and run up again"
}

// ansi matches terminal colour sequences, which the builder wraps around a
// step's stderr.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

func readIgnore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ignorefile.ReadAll(f)
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
