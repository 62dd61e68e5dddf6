package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// Secrets and configs run as Docker Compose runs them without swarm: one
// read from a file is bind-mounted read-only at its target; one whose
// content comes from an environment variable (or, for a config, inline)
// is written into the container after it is created and before it starts.

// fileRef is a service's use of one secret or config.
type fileRef struct {
	ref    types.FileReferenceConfig
	source types.FileObjectConfig
	kind   string // secret or config
}

// target is where the file appears: secrets under /run/secrets, configs
// at the root, unless the file gives an absolute path.
func (f fileRef) target() string {
	dir := "/"
	if f.kind == "secret" {
		dir = "/run/secrets/"
	}
	switch {
	case f.ref.Target == "":
		return dir + f.ref.Source
	case path.IsAbs(f.ref.Target):
		return f.ref.Target
	}
	return dir + f.ref.Target
}

// fileRefs lists the service's secrets and configs with their
// definitions.
func fileRefs(p *types.Project, s types.ServiceConfig) ([]fileRef, error) {
	var out []fileRef
	for _, r := range s.Secrets {
		def, ok := p.Secrets[r.Source]
		if !ok {
			return nil, fmt.Errorf("service %q: secret %q is not declared under secrets:", s.Name, r.Source)
		}
		out = append(out, fileRef{types.FileReferenceConfig(r), types.FileObjectConfig(def), "secret"})
	}
	for _, r := range s.Configs {
		def, ok := p.Configs[r.Source]
		if !ok {
			return nil, fmt.Errorf("service %q: config %q is not declared under configs:", s.Name, r.Source)
		}
		out = append(out, fileRef{types.FileReferenceConfig(r), types.FileObjectConfig(def), "config"})
	}
	return out, nil
}

// fileMounts are the bind mounts of the secrets and configs read from
// files.
func fileMounts(p *types.Project, s types.ServiceConfig) ([]mount.Mount, error) {
	refs, err := fileRefs(p, s)
	if err != nil {
		return nil, err
	}
	var out []mount.Mount
	for _, f := range refs {
		if f.source.File == "" || f.source.Environment != "" || f.source.Content != "" {
			continue
		}
		if slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == f.target() }) {
			continue // a volume mounts there already, and Compose lets it win
		}
		out = append(out, mount.Mount{Type: mount.TypeBind, Source: f.source.File, Target: f.target(), ReadOnly: true})
	}
	return out, nil
}

// inlineFile is a secret or config whose content is written into the
// container.
type inlineFile struct {
	ref     fileRef
	content string
}

// inlineFiles reads the content of the service's secrets and configs that
// are not files, so that a missing variable is reported before anything
// on the engine changes.
func inlineFiles(p *types.Project, s types.ServiceConfig) ([]inlineFile, error) {
	refs, err := fileRefs(p, s)
	if err != nil {
		return nil, err
	}
	var out []inlineFile
	for _, f := range refs {
		content, ok, err := inlineContent(p, f)
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", s.Name, err)
		}
		if !ok {
			continue
		}
		if s.ReadOnly {
			return nil, fmt.Errorf("service %q: %s %q comes from the environment, which cannot be written into a read_only container; read it from a file instead", s.Name, f.kind, f.ref.Source)
		}
		out = append(out, inlineFile{ref: f, content: content})
	}
	return out, nil
}

// writeFiles writes the files into container id, which is created and not
// running. As Docker Compose does, this happens before every start, so a
// stopped container that starts again gets the current values.
func (e *Docker) writeFiles(ctx context.Context, service, id string, files []inlineFile) error {
	for _, f := range files {
		archive, err := tarOf(f.ref.target(), f.content, f.ref.ref)
		if err != nil {
			return fmt.Errorf("service %q: %s %q: %w; fix its uid or gid", service, f.ref.kind, f.ref.ref.Source, err)
		}
		if _, err := e.api.CopyToContainer(ctx, id, client.CopyToContainerOptions{
			DestinationPath: "/",
			Content:         archive,
			CopyUIDGID:      f.ref.ref.UID != "" || f.ref.ref.GID != "",
		}); err != nil {
			return fmt.Errorf("service %q: writing %s %q into the container: %w; run up again", service, f.ref.kind, f.ref.ref.Source, err)
		}
	}
	return nil
}

// injectFiles reads and writes the inline files of s into container id.
func (e *Docker) injectFiles(ctx context.Context, p *types.Project, s types.ServiceConfig, id string) error {
	files, err := inlineFiles(p, s)
	if err != nil {
		return err
	}
	return e.writeFiles(ctx, s.Name, id, files)
}

// inlineContent is the content of a secret or config that is not read
// from a file: an environment variable's value, or inline content.
func inlineContent(p *types.Project, f fileRef) (string, bool, error) {
	switch {
	case f.source.Content != "":
		return f.source.Content, true, nil
	case f.source.Environment != "":
		v, ok := p.Environment[f.source.Environment]
		if !ok {
			return "", false, fmt.Errorf("%s %q reads the environment variable %s, which is not set; set it (or put it in .env) and run up again", f.kind, f.ref.Source, f.source.Environment)
		}
		return v, true, nil
	}
	return "", false, nil
}

// tarOf is a one-file archive of content at target, with the reference's
// owner and mode (0444 by default, as in Compose).
func tarOf(target, content string, ref types.FileReferenceConfig) (*bytes.Buffer, error) {
	mode := int64(0o444)
	if ref.Mode != nil {
		mode = int64(*ref.Mode)
	}
	var uid, gid int
	var err error
	if ref.UID != "" {
		if uid, err = strconv.Atoi(ref.UID); err != nil {
			return nil, fmt.Errorf("uid %q is not a number", ref.UID)
		}
	}
	if ref.GID != "" {
		if gid, err = strconv.Atoi(ref.GID); err != nil {
			return nil, fmt.Errorf("gid %q is not a number", ref.GID)
		}
	}
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	if err := w.WriteHeader(&tar.Header{
		Name:    target,
		Size:    int64(len(content)),
		Mode:    mode,
		Uid:     uid,
		Gid:     gid,
		ModTime: time.Now(),
	}); err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(content)); err != nil {
		return nil, err
	}
	return &buf, w.Close()
}
