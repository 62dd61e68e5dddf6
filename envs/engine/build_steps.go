package engine

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/worktree"
)

// stepsFile is where a worktree's classic builds list the images of their
// steps, one ID a line.
func stepsFile(root string) string {
	return filepath.Join(root, worktree.StateDir, "build-steps")
}

// recordSteps adds a build's step images to the worktree's record. A
// record that cannot be written costs only disk space later.
func recordSteps(root string, ids []string) {
	if root == "" || len(ids) == 0 {
		return
	}
	if _, err := worktree.LogDir(root); err != nil { // makes .wtenv, ignored by git
		return
	}
	f, err := os.OpenFile(stepsFile(root), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(strings.Join(ids, "\n") + "\n")
}

// removeSteps removes the recorded step images that are left untagged,
// and forgets the record. The engine refuses to remove one that another
// image builds on or a container uses, and wtenv never forces it, so an
// image someone else uses stays.
func (e *Docker) removeSteps(ctx context.Context, root string) int {
	if root == "" {
		return 0
	}
	f, err := os.Open(stepsFile(root))
	if err != nil {
		return 0
	}
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	f.Close()
	removed := 0
	// Latest first: a step's image is the parent of the next step's.
	for i := len(ids) - 1; i >= 0; i-- {
		res, err := e.api.ImageInspect(ctx, ids[i])
		if err != nil || len(res.RepoTags) > 0 {
			continue
		}
		if _, err := e.api.ImageRemove(ctx, ids[i], client.ImageRemoveOptions{PruneChildren: true}); err == nil {
			removed++
		}
	}
	_ = os.Remove(stepsFile(root))
	return removed
}
