package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

func TestRestartPolicy(t *testing.T) {
	three := uint64(3)
	for _, tt := range []struct {
		restart string
		deploy  *types.RestartPolicy
		want    container.RestartPolicy
	}{
		{"", nil, container.RestartPolicy{Name: container.RestartPolicyDisabled}},
		{"no", nil, container.RestartPolicy{Name: "no"}},
		{"always", nil, container.RestartPolicy{Name: "always"}},
		{"unless-stopped", nil, container.RestartPolicy{Name: "unless-stopped"}},
		{"on-failure:3", nil, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		// deploy.restart_policy wins, with swarm's conditions mapped as
		// Docker Compose maps them.
		{"always", &types.RestartPolicy{Condition: "on-failure", MaxAttempts: &three}, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		{"", &types.RestartPolicy{Condition: "any"}, container.RestartPolicy{Name: "always"}},
		{"", &types.RestartPolicy{Condition: "none"}, container.RestartPolicy{Name: "no"}},
	} {
		s := types.ServiceConfig{Restart: tt.restart}
		if tt.deploy != nil {
			s.Deploy = &types.DeployConfig{RestartPolicy: tt.deploy}
		}
		if got := restartPolicy(s); got != tt.want {
			t.Errorf("restartPolicy(restart %q, deploy %+v) = %+v, want %+v", tt.restart, tt.deploy, got, tt.want)
		}
	}
}

func TestSpecForTranslatesTheService(t *testing.T) {
	grace := types.Duration(7 * time.Second)
	interval := types.Duration(time.Second)
	retries := uint64(5)
	val := "v"
	p := &types.Project{
		Name:     "shop-main-49c6",
		Networks: types.Networks{"default": {Name: "shop-main-49c6_default"}, "back": {Name: "shop-main-49c6_back"}},
		Volumes:  types.Volumes{"data": {Name: "shop-main-49c6_data"}},
	}
	var s types.ServiceConfig
	s.Name = "db"
	s.ContainerName = "shop-main-49c6-db"
	s.Command = types.ShellCommand{"postgres", "-c", "fsync=off"}
	s.Environment = types.MappingWithEquals{"B": &val, "A": &val, "UNSET": nil}
	s.Ports = []types.ServicePortConfig{{Target: 5432, Published: "20001", HostIP: "127.0.0.1", Protocol: "tcp"}}
	s.Expose = types.StringOrNumberList{"9187"}
	s.Volumes = []types.ServiceVolumeConfig{
		{Type: "volume", Source: "data", Target: "/var/lib/postgresql/data"},
		{Type: "bind", Source: "/src/init", Target: "/init", ReadOnly: true},
		{Type: "tmpfs", Target: "/tmp"},
		{Type: "bind", Source: "/src/app", Target: "/app", Bind: &types.ServiceVolumeBind{SELinux: "z", CreateHostPath: true}},
		{Type: "bind", Source: "/src/shared", Target: "/shared", Bind: &types.ServiceVolumeBind{Propagation: "rslave", CreateHostPath: true}},
		{Type: "volume", Source: "data", Target: "/copy", Volume: &types.ServiceVolumeVolume{NoCopy: true}},
	}
	s.Networks = map[string]*types.ServiceNetworkConfig{"default": nil, "back": {Aliases: []string{"database"}}}
	s.HealthCheck = &types.HealthCheckConfig{Test: []string{"CMD", "pg_isready"}, Interval: &interval, Retries: &retries}
	s.StopGracePeriod = &grace
	s.MemLimit = 256 << 20
	s.Restart = "unless-stopped"
	s.Tmpfs = types.StringList{"/run:size=1m"}
	spec, err := specFor(p, s, "postgres:15", map[string]string{"l": "1"})
	if err != nil {
		t.Fatal(err)
	}
	c, h := spec.create.Config, spec.create.HostConfig
	if spec.create.Name != "shop-main-49c6-db" || c.Image != "postgres:15" {
		t.Errorf("name %q image %q", spec.create.Name, c.Image)
	}
	if !reflect.DeepEqual(c.Env, []string{"A=v", "B=v"}) {
		t.Errorf("env %v: want sorted, unset variables left out", c.Env)
	}
	if *c.StopTimeout != 7 || c.Healthcheck.Retries != 5 || c.Healthcheck.Interval != time.Second {
		t.Errorf("stop timeout %d, health %+v", *c.StopTimeout, c.Healthcheck)
	}
	pg := network.MustParsePort("5432/tcp")
	if b := h.PortBindings[pg]; len(b) != 1 || b[0].HostPort != "20001" || b[0].HostIP.String() != "127.0.0.1" {
		t.Errorf("bindings %+v", h.PortBindings)
	}
	if _, ok := c.ExposedPorts[network.MustParsePort("9187/tcp")]; !ok {
		t.Errorf("expose missing: %v", c.ExposedPorts)
	}
	// As in Docker Compose: the string form unless an option needs the
	// Mount API; an SELinux flag exists only in the string form.
	wantBinds := []string{"shop-main-49c6_data:/var/lib/postgresql/data:rw", "/src/init:/init:ro", "/src/app:/app:rw,z"}
	if !reflect.DeepEqual(h.Binds, wantBinds) {
		t.Errorf("binds %q, want %q", h.Binds, wantBinds)
	}
	wantMounts := []mount.Mount{
		{Type: mount.TypeTmpfs, Target: "/tmp"},
		{Type: mount.TypeBind, Source: "/src/shared", Target: "/shared", BindOptions: &mount.BindOptions{Propagation: "rslave"}},
		{Type: mount.TypeVolume, Source: "shop-main-49c6_data", Target: "/copy", VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
	}
	if !reflect.DeepEqual(h.Mounts, wantMounts) {
		t.Errorf("mounts %+v", h.Mounts)
	}
	if h.Memory != 256<<20 || h.RestartPolicy.Name != "unless-stopped" || h.Tmpfs["/run"] != "size=1m" {
		t.Errorf("memory %d restart %+v tmpfs %v", h.Memory, h.RestartPolicy, h.Tmpfs)
	}
	// One network at create time (API 1.41 takes only one), the other
	// connected afterwards; both answer to the service name.
	if h.NetworkMode != "shop-main-49c6_back" || len(spec.create.NetworkingConfig.EndpointsConfig) != 1 {
		t.Errorf("create-time network %q %v", h.NetworkMode, spec.create.NetworkingConfig.EndpointsConfig)
	}
	if ep := spec.create.NetworkingConfig.EndpointsConfig["shop-main-49c6_back"]; ep == nil || !reflect.DeepEqual(ep.Aliases, []string{"db", "database"}) {
		t.Errorf("aliases on back: %+v", ep)
	}
	if ep := spec.extra["shop-main-49c6_default"]; ep == nil || !reflect.DeepEqual(ep.Aliases, []string{"db"}) {
		t.Errorf("extra network: %+v", spec.extra)
	}
}

func TestConfigHashIgnoresHowTheImageIsObtained(t *testing.T) {
	var base types.ServiceConfig
	base.Name, base.Image, base.Environment = "api", "x", types.MappingWithEquals{}
	h1, _ := configHash(base)
	built := base
	built.Build = &types.BuildConfig{Context: "."}
	built.PullPolicy = "always"
	built.Profiles = []string{"dev"}
	if h2, _ := configHash(built); h2 != h1 {
		t.Errorf("build/pull_policy/profiles changed the hash")
	}
	changed := base
	changed.Command = types.ShellCommand{"serve"}
	if h3, _ := configHash(changed); h3 == h1 {
		t.Errorf("a changed command kept the hash")
	}
}
