package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// fillImage is the image of the containers Fill writes through: empty (it
// never runs), imported on the engine the first time it is needed, so no
// registry and no build is involved.
const fillImage = "wtenv-fill:1"

// fillAt is where a fill container mounts the volume.
const fillAt = "/wtenv-fill"

// FillOptions say what Fill writes into which volume.
type FillOptions struct {
	Meta   Meta   // the stack whose volume it is: its labels
	Volume string // the volume's name; created, labelled, when missing
	Key    string // the volume's key in the project (com.docker.compose.volume)
	// Token labels a volume Fill creates (LabelCopy): what tells this
	// copy from a volume of the same name made since by anyone else.
	Token string
	Tar   io.Reader
}

// LabelCopy holds the token of a volume that Fill made.
const LabelCopy = "dev.wtenv.copy"

// Fill unpacks a tar stream into a volume of the engine, creating the
// volume when missing: how a worktree's files reach an engine that cannot
// see this machine's filesystem. It writes through a container that mounts
// the volume and is never started, then removed. It returns the volume's
// token (LabelCopy), o.Token when it made the volume.
func (e *Docker) Fill(ctx context.Context, o FillOptions) (string, error) {
	labels := o.Meta.labels()
	labels[LabelVolume], labels[LabelCopy] = o.Key, o.Token
	token, err := e.VolumeToken(ctx, o.Volume)
	if err != nil {
		return "", err
	}
	if token == "" {
		if _, err := e.api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: o.Volume, Labels: labels}); err != nil {
			return "", fmt.Errorf("creating volume %q: %w", o.Volume, err)
		}
		if token, err = e.VolumeToken(ctx, o.Volume); err != nil {
			return "", err
		}
	}
	if err := e.ensureFillImage(ctx); err != nil {
		return "", err
	}
	cl := o.Meta.labels()
	cl[LabelOneoff] = "True"
	created, err := e.api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: fillImage, Cmd: []string{fillAt + "/.none"}, Labels: cl},
		HostConfig: &container.HostConfig{
			Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: o.Volume, Target: fillAt}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("filling volume %q: %w", o.Volume, err)
	}
	defer e.api.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
	if _, err := e.api.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: fillAt, Content: o.Tar}); err != nil {
		return "", fmt.Errorf("filling volume %q: %w", o.Volume, err)
	}
	return token, nil
}

// VolumeToken is the token Fill labelled a volume with: "" when the volume
// does not exist, "-" when it has none (someone else made it).
func (e *Docker) VolumeToken(ctx context.Context, name string) (string, error) {
	vol, err := e.api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if t := vol.Volume.Labels[LabelCopy]; t != "" {
		return t, nil
	}
	return "-", nil
}

// ensureFillImage imports the empty fill image when the engine lacks it.
func (e *Docker) ensureFillImage(ctx context.Context) error {
	if ok, err := e.HasImage(ctx, fillImage); err != nil || ok {
		return err
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: fillAt[1:] + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.Close()
	r, err := e.api.ImageImport(ctx, client.ImageImportSource{Source: &b, SourceName: "-"}, fillImage,
		client.ImageImportOptions{Changes: []string{`LABEL ` + LabelWtenvVersion + `="fill"`}})
	if err != nil {
		return fmt.Errorf("importing the empty image %s that volumes are filled through: %w", fillImage, err)
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// RemoveVolume removes a volume nothing uses; one in use, or gone, stays
// as it is, without an error: a copy's earlier generation.
func (e *Docker) RemoveVolume(ctx context.Context, name string) error {
	_, err := e.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return err
	}
	return nil
}
