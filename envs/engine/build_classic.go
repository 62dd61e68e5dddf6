package engine

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/go-archive"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/moby/patternmatcher/ignorefile"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildClassic runs the classic builder, which every engine has, on the
// service's context honouring .dockerignore, and returns "" for build to
// look the image up. A dockerfile_inline travels in the context under a
// name of its own. The images of the project's other builds that the
// Dockerfile names are tagged with those names first (the classic builder
// has no named contexts), so the build uses this worktree's. On failure
// the error carries the tail of the build log.
func (e *Docker) buildClassic(ctx context.Context, job buildJob, progress func(string)) (string, error) {
	s, b, df := job.service, job.service.Build, job.df
	var dockerfile string
	if df.dir == "" {
		dockerfile = ".wtenv-dockerfile-" + randomHex(6)
	} else {
		rel, err := filepath.Rel(b.Context, filepath.Join(df.dir, df.name))
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%w: service %q: dockerfile %s lies outside the build context %s, which only BuildKit builds; move it into the context, or build with BuildKit", ErrImage, s.Name, df.path, b.Context)
		}
		dockerfile = rel
	}
	var plats []ocispec.Platform
	if job.platform != "" {
		p, err := platforms.Parse(job.platform)
		if err != nil {
			return "", fmt.Errorf("%w: service %q: platform %s: %w", ErrImage, s.Name, job.platform, err)
		}
		plats = []ocispec.Platform{p}
	}
	for name, ref := range job.bases {
		if _, err := e.api.ImageTag(ctx, client.ImageTagOptions{Source: ref, Target: name}); err != nil {
			return "", fmt.Errorf("%w: service %q: tagging %s as %s for the build: %w", ErrImage, s.Name, ref, name, err)
		}
	}
	excludes, err := readIgnore(b.Context)
	if err != nil {
		return "", fmt.Errorf("service %q: %w", s.Name, err)
	}
	var context io.ReadCloser
	context, err = archive.TarWithOptions(b.Context, &archive.TarOptions{ExcludePatterns: excludes})
	if err != nil {
		return "", fmt.Errorf("%w: service %q: build context %s: %w", ErrImage, s.Name, b.Context, err)
	}
	if df.dir == "" {
		context = withFile(context, dockerfile, df.data)
	}
	defer context.Close()
	var hosts []string
	if len(b.ExtraHosts) > 0 {
		hosts = b.ExtraHosts.AsList(":")
	}
	res, err := e.api.ImageBuild(ctx, context, client.ImageBuildOptions{
		Tags:        job.tags,
		Dockerfile:  filepath.ToSlash(dockerfile),
		BuildArgs:   map[string]*string(b.Args),
		Target:      b.Target,
		Labels:      job.labels,
		NoCache:     b.NoCache,
		PullParent:  b.Pull,
		NetworkMode: b.Network,
		ExtraHosts:  hosts,
		ShmSize:     int64(b.ShmSize),
		Platforms:   plats,
		Remove:      true,
		ForceRemove: true,
	})
	if err != nil {
		return "", fmt.Errorf("%w: service %q: build: %w", ErrImage, s.Name, err)
	}
	defer res.Body.Close()
	var steps []string
	err = followBuild(res.Body, s.Name, job.log, func(id string) { steps = append(steps, id) }, progress)
	// The classic builder leaves an image per step, untagged; those of
	// stages other than the target's are no parent of the image, so down
	// --purge finds them only through this record.
	recordSteps(job.worktree, steps)
	return "", err
}

// withFile streams a tar archive with one more file at its end.
func withFile(in io.ReadCloser, name string, data []byte) io.ReadCloser {
	r, w := io.Pipe()
	go func() {
		defer in.Close()
		tr, tw := tar.NewReader(in), tar.NewWriter(w)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err == nil {
				err = tw.WriteHeader(h)
			}
			if err == nil {
				_, err = io.Copy(tw, tr)
			}
			if err != nil {
				w.CloseWithError(err)
				return
			}
		}
		err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		if err == nil {
			_, err = tw.Write(data)
		}
		if err == nil {
			err = tw.Close()
		}
		w.CloseWithError(err)
	}()
	return r
}

// followBuild reads the build's JSON stream, reports each step, and turns an
// error message into an error with the last lines of the log.
func followBuild(r io.Reader, service string, log io.Writer, step func(id string), progress func(string)) error {
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
			fmt.Fprintln(log, line)
			if m := stepImage.FindStringSubmatch(line); m != nil {
				step(m[1])
			}
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
			if strings.HasPrefix(line, "Step ") && !ownLabelStep(line) {
				crashPoint(CrashBuild)
				progress("building " + service + ": " + line)
			}
		}
		if m.Error != nil {
			fmt.Fprintln(log, m.Error.Message)
			return fmt.Errorf("%w: service %q: build failed: %s; %s\n--- last build output ---\n%s", ErrImage, service, m.Error.Message, buildAdvice(tail), strings.Join(tail, "\n"))
		}
	}
}

// stepImage matches the classic builder's line naming the image a step
// made.
var stepImage = regexp.MustCompile(`^ ---> ([0-9a-f]{12,64})$`)

// ownLabelStep reports a step that only adds wtenv's labels: the classic
// builder makes each label a step of its own, which says nothing of the
// user's Dockerfile (the log keeps it).
func ownLabelStep(line string) bool {
	_, rest, ok := strings.Cut(line, " : ")
	return ok && strings.HasPrefix(rest, "LABEL ") && (strings.Contains(rest, "com.docker.compose.") || strings.Contains(rest, "dev.wtenv."))
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
