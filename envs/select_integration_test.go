package envs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// An up of some services creates only the networks and volumes those
// services use, as compose does, and says which it created; an up of all
// creates the rest.
func TestUpOfSomeServicesCreatesOnlyWhatTheyUse(t *testing.T) {
	enginetest.Isolate(t)
	files := enginetest.FixtureFiles(t)
	root := enginetest.Repo(t, "select", map[string][]byte{
		"compose.yaml": []byte(`services:
  store:
    build: ./kv
    volumes:
      - data:/data
  cache:
    build: ./kv
    networks: [back]
networks:
  back:
volumes:
  data:
`),
		"kv/Dockerfile": files["kv/Dockerfile"],
		"kv/kv":         files["kv/kv"],
	})
	enginetest.Cleanup(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := open(ctx, t, root)

	var steps []string
	if _, err := e.Up(ctx, envs.UpOptions{Services: []string{"cache"}, Progress: func(m string) { steps = append(steps, m) }}); err != nil {
		t.Fatal(err)
	}
	label := "com.docker.compose.project=" + e.Project
	got := kinds(enginetest.Leftovers(ctx, t, label), "network", "volume")
	if want := []string{"network " + e.Project + "_back"}; !slices.Equal(got, want) {
		t.Errorf("up cache made %q, want %q", got, want)
	}
	if !slices.Contains(steps, "creating network "+e.Project+"_back") {
		t.Errorf("up cache reported %q, without its network", steps)
	}

	if _, err := e.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	got = kinds(enginetest.Leftovers(ctx, t, label), "network", "volume")
	want := []string{"network " + e.Project + "_back", "network " + e.Project + "_default", "volume " + e.Project + "_data"}
	if !slices.Equal(got, want) {
		t.Errorf("up of all made %q, want %q", got, want)
	}
}

// kinds keeps the objects of the given kinds, sorted.
func kinds(objects []string, keep ...string) []string {
	var out []string
	for _, o := range objects {
		kind, _, _ := strings.Cut(o, " ")
		if slices.Contains(keep, kind) {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}
