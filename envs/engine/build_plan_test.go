package engine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// imageProject is a project whose services build from folders of dir,
// each with the given Dockerfile, under the given image: names.
func imageProject(t *testing.T, services map[string][2]string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	p := &types.Project{Name: "shop-main-1a2b", Services: types.Services{}}
	for name, spec := range services {
		image, dockerfile := spec[0], spec[1]
		s := types.ServiceConfig{Name: name}
		s.Image = image
		if dockerfile != "" {
			ctx := filepath.Join(dir, name)
			if err := os.MkdirAll(ctx, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
				t.Fatal(err)
			}
			s.Build = &types.BuildConfig{Context: ctx}
		}
		p.Services[name] = s
	}
	return p
}

// Services with the same image: and build are built once and tagged for
// each; a service that only names that image runs it; a build whose
// Dockerfile names it comes after, with the image as a named context.
func TestPlanBuildsAnImageOnceAndOrdersItsUsers(t *testing.T) {
	p := imageProject(t, map[string][2]string{
		"app":     {"shop/app", "FROM scratch\n"},
		"app2":    {"shop/app:latest", ""},
		"runner":  {"docker.io/shop/app", ""},
		"db":      {"postgres:15", ""},
		"derived": {"", "ARG BASE=shop/app\nFROM ${BASE} AS b\nFROM b\nCOPY --from=shop/app / /\n"},
	})
	// app2 has the same image and, once its build is set, the same build.
	app2 := p.Services["app2"]
	app2.Build = &types.BuildConfig{Context: p.Services["app"].Build.Context}
	p.Services["app2"] = app2

	plan, err := planImages(p)
	if err != nil {
		t.Fatal(err)
	}
	app := plan.unitOf["app"]
	if app == nil || plan.unitOf["app2"] != app || plan.unitOf["runner"] != app {
		t.Fatalf("app, app2 and runner should share one build: %+v", plan.unitOf)
	}
	if got, want := app.tags(p.Name), []string{"shop-main-1a2b-app", "shop-main-1a2b-app2", "shop/app"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	if app.ref(p.Name) != "shop-main-1a2b-app" {
		t.Errorf("runner runs %s", app.ref(p.Name))
	}
	if plan.unitOf["db"] != nil {
		t.Errorf("db is pulled, not built")
	}
	derived := plan.unitOf["derived"]
	if len(plan.units) != 2 || plan.units[0] != app || plan.units[1] != derived {
		t.Fatalf("build order %v", plan.units)
	}
	if len(derived.bases) != 1 || derived.bases["shop/app"] != app {
		t.Errorf("derived's bases: %v", derived.bases)
	}
	if got := plan.needed([]types.ServiceConfig{p.Services["derived"]}); len(got) != 2 {
		t.Errorf("a one-off of derived needs both builds, got %d", len(got))
	}
	if got := plan.needed([]types.ServiceConfig{p.Services["runner"]}); len(got) != 1 || got[0] != app {
		t.Errorf("a one-off of runner needs app's build, got %v", got)
	}
}

func TestPlanRefusesAmbiguousImagesAndCycles(t *testing.T) {
	p := imageProject(t, map[string][2]string{
		"a":      {"shop/app", "FROM scratch\n"},
		"b":      {"shop/app", "FROM scratch\nLABEL b=1\n"},
		"runner": {"shop/app", ""},
	})
	if _, err := planImages(p); !errors.Is(err, ErrImage) || !strings.Contains(err.Error(), `service "runner" uses image "shop/app", which services "a" and "b" both build`) {
		t.Errorf("ambiguous image: %v", err)
	}
	delete(p.Services, "runner")
	if _, err := planImages(p); err != nil {
		t.Errorf("two builds of one image that nothing else uses are what compose does too: %v", err)
	}
	p = imageProject(t, map[string][2]string{
		"a": {"shop/a", "FROM shop/b\n"},
		"b": {"shop/b", "FROM shop/a\n"},
	})
	if _, err := planImages(p); !errors.Is(err, ErrImage) || !strings.Contains(err.Error(), "a → b → a") {
		t.Errorf("cycle: %v", err)
	}
}

// additional_contexts naming another service (service:NAME) orders the
// builds as a FROM of that service's image does.
func TestPlanFollowsServiceContexts(t *testing.T) {
	p := imageProject(t, map[string][2]string{
		"base": {"", "FROM scratch\n"},
		"app":  {"", "FROM base\n"},
	})
	app := p.Services["app"]
	app.Build.AdditionalContexts = types.Mapping{"base": "service:base"}
	plan, err := planImages(p)
	if err != nil {
		t.Fatal(err)
	}
	if u := plan.unitOf["app"]; u.bases["base"] != plan.unitOf["base"] || plan.units[0] != plan.unitOf["base"] {
		t.Errorf("app should build after base: bases %v, order %v", u.bases, plan.units)
	}
	app.Build.AdditionalContexts = types.Mapping{"base": "service:nope"}
	if _, err := planImages(p); err == nil || !strings.Contains(err.Error(), `names service "nope"`) {
		t.Errorf("unknown service: %v", err)
	}
}

// `up runner` leaves app out of the project (disabled); runner still runs
// app's build of the image rather than pulling it, and where a disabled
// service builds the same image differently, the enabled one wins.
func TestPlanBuildsDisabledServicesThatMakeAnImageInUse(t *testing.T) {
	p := imageProject(t, map[string][2]string{
		"app":    {"shop/app", "FROM scratch\n"},
		"debug":  {"shop/app", "FROM scratch\nLABEL debug=1\n"},
		"runner": {"shop/app", ""},
	})
	p.DisabledServices = types.Services{"app": p.Services["app"], "debug": p.Services["debug"]}
	delete(p.Services, "app")
	delete(p.Services, "debug")
	plan, err := planImages(p)
	if err == nil {
		t.Fatalf("two disabled builds of the image runner uses are ambiguous: %+v", plan.unitOf)
	}
	p.Services["app"] = p.DisabledServices["app"]
	delete(p.DisabledServices, "app")
	plan, err = planImages(p)
	if err != nil {
		t.Fatal(err)
	}
	if u := plan.unitOf["runner"]; u == nil || u.lead().Name != "app" {
		t.Fatalf("runner should run app's build: %+v", plan.unitOf)
	}
	if got := plan.needed([]types.ServiceConfig{p.Services["runner"], p.Services["app"]}); len(got) != 1 {
		t.Errorf("debug's build is not needed: %d units", len(got))
	}
	delete(p.DisabledServices, "debug")
	p.DisabledServices["app"] = p.Services["app"]
	delete(p.Services, "app")
	if plan, err = planImages(p); err != nil || plan.unitOf["runner"] == nil || len(plan.needed([]types.ServiceConfig{p.Services["runner"]})) != 1 {
		t.Errorf("runner alone still takes app's build: %v", err)
	}
}
