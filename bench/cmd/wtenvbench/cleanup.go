package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// composeProject is the Compose side's project name, fixed so that the
// images Compose builds for it are reused by the next run.
const composeProject = "wtenvbenchcompose"

// cleanup removes every container, network and volume this run (or a
// crashed earlier one) created, found by label: wtenv's worktree label
// under the run's directory, and the Compose side's project label. Images
// stay, so the next run need not build them; -purge-images removes them
// too. It runs with its own context, so it also runs after Ctrl-C.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prefix := b.base + string(filepath.Separator)
	mine := func(labels map[string]string) bool {
		return strings.HasPrefix(labels["dev.wtenv.worktree"], prefix) || labels["com.docker.compose.project"] == composeProject
	}
	if b.api == nil {
		return
	}
	for _, key := range []string{"dev.wtenv.worktree", "com.docker.compose.project=" + composeProject} {
		f := client.Filters{}.Add("label", key)
		if cs, err := b.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
			for _, c := range cs.Items {
				if mine(c.Labels) {
					_, err := b.api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
					b.warn(err)
				}
			}
		}
		if ns, err := b.api.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
			for _, n := range ns.Items {
				if mine(n.Labels) {
					_, err := b.api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
					b.warn(err)
				}
			}
		}
		if vs, err := b.api.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
			for _, v := range vs.Items {
				if mine(v.Labels) {
					_, err := b.api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
					b.warn(err)
				}
			}
		}
		if b.cfg.purgeImages {
			b.purgeImages(ctx, f, mine)
		}
	}
	if err := os.RemoveAll(b.base); err != nil {
		b.logf("cleanup: %v", err)
	}
}

// purgeImages removes the images built for this run's worktrees (wtenv
// labels them) and for the Compose side (named <project>_<service> or
// <project>-<service>, unlabelled by Compose v1).
func (b *bench) purgeImages(ctx context.Context, f client.Filters, mine func(map[string]string) bool) {
	if is, err := b.api.ImageList(ctx, client.ImageListOptions{Filters: f}); err == nil {
		for _, im := range is.Items {
			if mine(im.Labels) {
				_, err := b.api.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
				b.warn(err)
			}
		}
	}
	for _, svc := range b.builds {
		for _, ref := range []string{composeProject + "_" + svc, composeProject + "-" + svc} {
			if _, err := b.api.ImageInspect(ctx, ref); err == nil {
				_, err := b.api.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true})
				b.warn(err)
			}
		}
	}
}

// removeVolumes removes the volumes of one stack between timed runs, so
// every cold up starts without data (Postgres initialises its database
// each time, on both sides). Scoped by the stack's own label.
func (b *bench) removeVolumes(ctx context.Context, label string) error {
	f := client.Filters{}.Add("label", label)
	vs, err := b.api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return err
	}
	for _, v := range vs.Items {
		if _, err := b.api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) warn(err error) {
	if err != nil {
		b.logf("cleanup: %v", err)
	}
}

// mountedVolumes names the volumes mounted in the containers carrying label.
func (b *bench) mountedVolumes(ctx context.Context, label string) ([]string, error) {
	res, err := b.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", label)})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range res.Items {
		for _, m := range c.Mounts {
			if m.Type == "volume" && m.Name != "" {
				out = append(out, m.Name)
			}
		}
	}
	return out, nil
}
