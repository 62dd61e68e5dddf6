package engine

import (
	"bufio"
	"os"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// The classic builder leaves an untagged image per step, those of a stage
// the target copies from included; down --purge removes them all, and
// never the base image they were built on.
func TestPurgeRemovesClassicBuildSteps(t *testing.T) {
	t.Setenv("DOCKER_BUILDKIT", "0")
	f := newBuildFixture(t, map[string]string{
		"app/Dockerfile": "FROM " + enginetest.BaseImage + " AS build\nRUN echo built > /built.txt\nRUN cp /built.txt /again.txt\n\nFROM " + enginetest.BaseImage + "\nCOPY --from=build /again.txt /again.txt\n",
	})
	f.service("app", "", "app", types.BuildConfig{})
	if _, err := f.images(false); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(stepsFile(f.root))
	if err != nil {
		t.Fatalf("no record of the build's steps: %v", err)
	}
	var ids []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		ids = append(ids, sc.Text())
	}
	file.Close()
	if len(ids) < 3 {
		t.Fatalf("recorded steps %v, want one per step of both stages", ids)
	}
	base, err := f.eng.imageID(f.ctx, enginetest.BaseImage)
	if err != nil || base == "" {
		t.Fatal(err)
	}
	r, err := f.eng.Down(f.ctx, Scope{Project: f.meta.Project, Worktree: f.meta.Worktree}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got, _ := f.eng.imageID(f.ctx, id); got != "" && got != base {
			t.Errorf("step image %s is still there after down --purge", id)
		}
	}
	if got, _ := f.eng.imageID(f.ctx, enginetest.BaseImage); got != base {
		t.Errorf("the base image went with the purge")
	}
	if _, err := os.Stat(stepsFile(f.root)); !os.IsNotExist(err) {
		t.Errorf("the record outlived the purge: %v", err)
	}
	t.Logf("down removed %d images", r.Images)
}
