package engine

import (
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestBuildGroupsJoinServicesOfOneDockerfile(t *testing.T) {
	build := func(ctx, file, target string) types.WorkloadSpec {
		return types.WorkloadSpec{Build: &types.BuildConfig{Context: ctx, Dockerfile: file, Target: target}}
	}
	p := &types.Project{Services: types.Services{
		"web":    {Name: "web", WorkloadSpec: build("/src", "Dockerfile", "web")},
		"api":    {Name: "api", WorkloadSpec: build("/src", "Dockerfile", "api")},
		"db":     {Name: "db", ContainerSpec: types.ContainerSpec{Image: "postgres:15"}},
		"queue":  {Name: "queue", ContainerSpec: types.ContainerSpec{Image: "redis:7"}},
		"docs":   {Name: "docs", WorkloadSpec: build("/src/docs", "Dockerfile", "")},
		"tools":  {Name: "tools", WorkloadSpec: build("/src", "tools.Dockerfile", "")},
		"worker": {Name: "worker", WorkloadSpec: build("/src", "Dockerfile", "worker")},
	}}
	var got [][]string
	for _, g := range buildGroups(p) {
		var names []string
		for _, s := range g {
			names = append(names, s.Name)
		}
		got = append(got, names)
	}
	want := [][]string{{"api", "web", "worker"}, {"db"}, {"docs"}, {"queue"}, {"tools"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}
