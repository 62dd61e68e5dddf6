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
	Tar    io.Reader
}

// Fill unpacks a tar stream into a volume of the engine, creating the
// volume when missing: how a worktree's files reach an engine that cannot
// see this machine's filesystem. It writes through a container that mounts
// the volume and is never started, then removed. It returns the volume's
// creation time, which changes when the volume was removed and made again.
func (e *Docker) Fill(ctx context.Context, o FillOptions) (string, error) {
	labels := o.Meta.labels()
	labels[LabelVolume] = o.Key
	vol, err := e.api.VolumeInspect(ctx, o.Volume, client.VolumeInspectOptions{})
	if err != nil {
		if _, err := e.api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: o.Volume, Labels: labels}); err != nil {
			return "", fmt.Errorf("creating volume %q: %w", o.Volume, err)
		}
		if vol, err = e.api.VolumeInspect(ctx, o.Volume, client.VolumeInspectOptions{}); err != nil {
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
	return vol.Volume.CreatedAt, nil
}

// VolumeCreated is a volume's creation time, "" when it does not exist.
func (e *Docker) VolumeCreated(ctx context.Context, name string) (string, error) {
	vol, err := e.api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return vol.Volume.CreatedAt, nil
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
