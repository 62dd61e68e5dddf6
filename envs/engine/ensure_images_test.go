package engine

import (
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestBuildLanesJoinServicesOfOneDockerfile(t *testing.T) {
	build := func(ctx, file, target string) types.WorkloadSpec {
		return types.WorkloadSpec{Build: &types.BuildConfig{Context: ctx, Dockerfile: file, Target: target}}
	}
	p := &types.Project{Name: "shop", Services: types.Services{
		"web":    {Name: "web", WorkloadSpec: build("/src", "Dockerfile", "web")},
		"api":    {Name: "api", WorkloadSpec: build("/src", "Dockerfile", "api")},
		"db":     {Name: "db", ContainerSpec: types.ContainerSpec{Image: "postgres:15"}},
		"queue":  {Name: "queue", ContainerSpec: types.ContainerSpec{Image: "redis:7"}},
		"docs":   {Name: "docs", WorkloadSpec: build("/src/docs", "Dockerfile", "")},
		"tools":  {Name: "tools", WorkloadSpec: build("/src", "tools.Dockerfile", "")},
		"worker": {Name: "worker", WorkloadSpec: build("/src", "Dockerfile", "worker")},
	}}
	plan, err := planImages(p)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, lane := range buildLanes(plan.units) {
		var names []string
		for _, u := range lane {
			names = append(names, u.names())
		}
		got = append(got, names)
	}
	want := [][]string{{"api", "web", "worker"}, {"docs"}, {"tools"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lanes %v, want %v", got, want)
	}
	if plan.unitOf["db"] != nil || plan.unitOf["queue"] != nil {
		t.Errorf("services without build are planned as builds: %v", plan.unitOf)
	}
}
