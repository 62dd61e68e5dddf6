package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// parityCompose uses the keys whose meaning lies in how the container is
// created, in a form docker-compose 1.29 reads too. Every container only
// sleeps.
const parityCompose = `services:
  app:
    image: %[1]s
    command: ["sleep", "infinity"]
    init: true
    hostname: apphost
    user: "1000:1000"
    working_dir: /srv
    env_file: app.env
    environment:
      OVERRIDDEN: from-environment
      DOLLAR: "a$$b"
    labels:
      com.example.role: app
    logging:
      driver: json-file
      options:
        max-size: 1m
        max-file: "2"
    security_opt: ["no-new-privileges:true"]
    restart: on-failure:3
    secrets:
      - token
      - source: token
        target: renamed
    tmpfs: ["/scratch:size=1m,mode=1777"]
    ulimits:
      nproc: 512
      nofile: {soft: 1024, hard: 2048}
    dns: [10.0.0.53]
    dns_search: [corp.example]
    dns_opt: ["ndots:2"]
    sysctls:
      net.core.somaxconn: "1024"
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    read_only: true
    extra_hosts: ["host.example:10.0.0.1"]
    shm_size: 16m
    mem_limit: 64m
    mem_reservation: 32m
    cpus: 0.5
    pids_limit: 64
    oom_score_adj: 100
    group_add: ["44"]
    stop_signal: SIGINT
    stop_grace_period: 5s
    expose: ["9000"]
    ports: ["8080"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      timeout: 2s
      retries: 3
      start_period: 2s
    volumes:
      - ./shared:/shared:z
      - ./private:/private:ro,Z
      - type: bind
        source: ./prop
        target: /prop
        bind:
          propagation: rprivate
      - data:/data
      - ./created:/created
  side:
    image: %[1]s
    command: ["sleep", "infinity"]
    network_mode: "service:app"
    pid: "service:app"
    deploy:
      restart_policy:
        condition: on-failure
        max_attempts: 2
  db:
    image: %[1]s
    command: sleep infinity
    mem_swappiness: 10
    devices: ["/dev/null:/dev/mynull"]
    volumes:
      - type: tmpfs
        target: /cache
        tmpfs:
          size: 1048576
    restart: unless-stopped
    tty: true
    stdin_open: true
    domainname: example.internal
    cpu_shares: 512
    cpuset: "0"
    networks:
      default:
        aliases: [database.internal]
  web:
    image: %[1]s
    entrypoint: ["sleep"]
    command: ["infinity"]
    links: ["db:database", "db"]
    volumes_from: ["app:ro"]
volumes:
  data: {}
secrets:
  token:
    file: ./token.txt
`

// paritySources are the files and bind sources next to the compose file.
var paritySources = map[string]string{
	"app.env":   "FROM_ENV_FILE=yes\nOVERRIDDEN=from-env-file\n",
	"token.txt": "s3cret\n",
}

// A compose file that docker-compose 1.29 runs makes, under wtenv's engine,
// containers configured as docker-compose's: both tools bring up the same
// file, and every field of the created containers is compared but those
// that legitimately differ (names, project-derived network and volume
// names, host ports, wtenv's labels). Each difference is reported with the
// compose key that sets it.
func TestEngineCreatesContainersAsDockerCompose(t *testing.T) {
	enginetest.Full(t)
	sb := enginetest.NewSandbox(t)
	enginetest.LocalImages(t)
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("WTENV_SKIP_DOCKER") == "1" {
			t.Skipf("no docker-compose binary (%v) and WTENV_SKIP_DOCKER=1", err)
		}
		t.Fatalf("this test compares with docker-compose and found none on PATH: %v (install it, or set WTENV_SKIP_DOCKER=1 to skip locally)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	root := t.TempDir()
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	files := maps.Clone(paritySources)
	files["docker-compose.yml"] = fmt.Sprintf(parityCompose, enginetest.BaseImage)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"shared", "private", "prop"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	suffix := strings.TrimPrefix(sb.HostID, "test-")
	dcProject, wtProject := "parity-dc-"+suffix, "parity-wt-"+suffix

	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()

	// docker-compose first, removed by its own down and then by its
	// project's label, which no one else's resources carry.
	enginetest.CleanupLabelled(t, engine.LabelProject+"="+dcProject)
	t.Cleanup(func() {
		cmd := exec.Command(bin, "-p", dcProject, "down", "-v", "-t", "1")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("docker-compose down: %v\n%s", err, out)
		}
	})
	start := time.Now()
	up := exec.CommandContext(ctx, bin, "-p", dcProject, "up", "-d")
	up.Dir = root
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose up: %v\n%s", err, out)
	}
	t.Logf("docker-compose 1.29 up: %v", time.Since(start).Round(time.Millisecond))

	// Then wtenv, as envs.Up drives it: load, check, isolate, up.
	cfg, err := compose.LoadConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compose.Load(ctx, root, cfg, wtProject)
	if err != nil {
		t.Fatal(err)
	}
	if err := compose.Check(p, cfg); err != nil {
		t.Fatalf("compose.Check refuses a file docker-compose runs: %v", err)
	}
	lo, _, _ := strings.Cut(sb.PortRange, "-")
	first, _ := strconv.Atoi(lo)
	ports := make([]int, len(compose.Published(p)))
	for i := range ports {
		ports[i] = first + i
	}
	if _, err := compose.Isolate(p, wtProject, ports, root); err != nil {
		t.Fatal(err)
	}
	enginetest.Cleanup(t, root)
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	meta := engine.Meta{Project: wtProject, Worktree: root, Branch: "main", Version: "test", Host: sb.HostID, ConfigFiles: filepath.Join(root, "docker-compose.yml")}
	start = time.Now()
	if err := eng.Up(ctx, p, meta, engine.UpOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("wtenv up: %v", err)
	}
	t.Logf("wtenv up: %v", time.Since(start).Round(time.Millisecond))

	dc := inspectProject(ctx, t, api, dcProject)
	wt := inspectProject(ctx, t, api, wtProject)
	if got, want := slices.Sorted(maps.Keys(wt.containers)), slices.Sorted(maps.Keys(dc.containers)); !slices.Equal(got, want) {
		t.Fatalf("services with a container: wtenv %v, docker-compose %v", got, want)
	}
	for _, svc := range slices.Sorted(maps.Keys(dc.containers)) {
		hostname := p.Services[svc].Hostname != ""
		want := dc.normalized(svc, hostname)
		got := wt.normalized(svc, hostname)
		t.Logf("service %s: %d fields compared", svc, len(want))
		for _, field := range slices.Sorted(maps.Keys(want)) {
			if got[field] != want[field] {
				t.Errorf("service %s, %s (compose key %s):\n  docker-compose 1.29: %s\n  wtenv:               %s", svc, field, composeKey(field), want[field], got[field])
			}
		}
		for _, field := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[field]; !ok {
				t.Errorf("service %s, %s (compose key %s): docker-compose 1.29 has none, wtenv %s", svc, field, composeKey(field), got[field])
			}
		}
	}
}

// parityStack is the inspected containers of one project, by service, and
// what names them (their IDs and names, the project's name) replaced by
// placeholders.
type parityStack struct {
	project    string
	containers map[string]map[string]any // service → container inspect JSON
	names      *strings.Replacer
}

// inspectProject inspects every container labelled with the compose
// project name.
func inspectProject(ctx context.Context, t *testing.T, api *client.Client, project string) parityStack {
	t.Helper()
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", engine.LabelProject+"="+project)})
	if err != nil {
		t.Fatal(err)
	}
	s := parityStack{project: project, containers: map[string]map[string]any{}}
	var ids, names, short []string
	for _, c := range res.Items {
		svc := c.Labels[engine.LabelService]
		insp, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(insp.Raw, &doc); err != nil {
			t.Fatal(err)
		}
		s.containers[svc] = doc
		ref := "<container " + svc + ">"
		ids = append(ids, c.ID, ref)
		names = append(names, strings.TrimPrefix(insp.Container.Name, "/"), ref)
		short = append(short, c.ID[:12], ref)
	}
	// Earlier pairs win where two match: a container's name before the
	// project name it contains.
	s.names = strings.NewReplacer(slices.Concat(ids, names, short, []string{project, "<project>"})...)
	return s
}

// parityUnordered are the fields whose lists mean a set: their order is not
// compared.
var parityUnordered = map[string]bool{
	"Config.Env": true, "HostConfig.Links": true, "HostConfig.ExtraHosts": true,
	"HostConfig.CapAdd": true, "HostConfig.CapDrop": true, "HostConfig.GroupAdd": true,
	"HostConfig.SecurityOpt": true, "HostConfig.Ulimits": true,
}

// parityIgnored are the fields that differ between two projects by design.
var parityIgnored = map[string]string{
	// docker-compose 1.x (docker-py) also lists the mount targets in the
	// legacy Config.Volumes; the mounts themselves are compared (Mounts).
	"Config.Volumes":  "",
	"Config.Labels":   "compared without com.docker.compose.* and dev.wtenv.*",
	"Config.Hostname": "the container's ID unless hostname: sets it",
	// Binds and Mounts are two spellings of one mount: the mounts the
	// container ends up with are compared instead (Mounts).
	"HostConfig.Binds":        "",
	"HostConfig.Mounts":       "",
	"HostConfig.PortBindings": "compared without the host side, which wtenv moves into the stack's block on 127.0.0.1",
}

// normalized flattens what the container's configuration says into
// field → JSON, with the project's names replaced by placeholders.
func (s parityStack) normalized(svc string, hostname bool) map[string]string {
	doc := s.containers[svc]
	out := map[string]string{}
	put := func(field string, v any) {
		v = parityNormalize(field, v)
		if v == nil {
			return
		}
		out[field] = s.names.Replace(parityJSON(v))
		if parityUnordered[field] {
			if list, ok := v.([]any); ok {
				items := make([]string, len(list))
				for i, item := range list {
					items[i] = s.names.Replace(parityJSON(item))
				}
				slices.Sort(items)
				out[field] = "[" + strings.Join(items, ",") + "]"
			}
		}
	}
	for _, section := range []string{"Config", "HostConfig"} {
		for key, v := range doc[section].(map[string]any) {
			field := section + "." + key
			if _, skip := parityIgnored[field]; skip {
				continue
			}
			put(field, v)
		}
	}
	config := doc["Config"].(map[string]any)
	if hostname {
		put("Config.Hostname", config["Hostname"])
	}
	labels := map[string]any{}
	for k, v := range parityMap(config["Labels"]) {
		if !strings.HasPrefix(k, "com.docker.compose.") && !strings.HasPrefix(k, "dev.wtenv.") {
			labels[k] = v
		}
	}
	put("Config.Labels", labels)
	var bound []string
	for port := range parityMap(parityMap(doc["HostConfig"])["PortBindings"]) {
		bound = append(bound, port)
	}
	slices.Sort(bound)
	put("HostConfig.PortBindings (container side)", bound)
	for _, key := range []string{"Path", "Args", "AppArmorProfile", "MountLabel", "ProcessLabel", "Platform"} {
		put(key, doc[key])
	}
	for _, m := range parityMounts(doc["Mounts"]) {
		put("Mount "+fmt.Sprint(m["Destination"]), m)
	}
	for name, ep := range parityMap(parityMap(doc["NetworkSettings"])["Networks"]) {
		net := "network " + s.names.Replace(name)
		e := parityMap(ep)
		aliases := []string{}
		for _, a := range parityList(e["Aliases"]) {
			aliases = append(aliases, s.names.Replace(fmt.Sprint(a)))
		}
		slices.Sort(aliases)
		put(net+" Aliases", aliases)
		put(net+" Links", parityLinks(e["Links"]))
		put(net+" DriverOpts", e["DriverOpts"])
		put(net+" IPAMConfig", e["IPAMConfig"])
	}
	return out
}

// parityLinks sorts a network's links and removes repeats, drops the one
// whose alias is the linked container's own name (the network's DNS
// answers to it anyway, and the two tools name containers differently),
// and writes docker-compose 1.29's numbered alias (db_1) as Docker
// Compose v2 and wtenv name containers (db-1).
func parityLinks(v any) any {
	var out []string
	for _, l := range parityList(v) {
		link := fmt.Sprint(l)
		if target, alias, ok := strings.Cut(link, ":"); ok && strings.TrimPrefix(target, "/") == alias {
			continue
		}
		if i := strings.LastIndex(link, "_"); i > strings.LastIndex(link, ":") {
			if _, err := strconv.Atoi(link[i+1:]); err == nil {
				link = link[:i] + "-" + link[i+1:]
			}
		}
		out = append(out, link)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// parityJSON is v as JSON, with < and > as they are.
func parityJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

// parityNormalize makes equal what the engine treats as equal: an empty
// list or map and none, a capability with and without its CAP_ prefix
// (the Go client adds it, docker-py does not), and the restart policy ""
// and "no". It returns nil for nothing.
func parityNormalize(field string, v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return nil
		}
		if field == "HostConfig.CapAdd" || field == "HostConfig.CapDrop" {
			out := make([]any, len(x))
			for i, c := range x {
				out[i] = strings.TrimPrefix(fmt.Sprint(c), "CAP_")
			}
			return out
		}
	case []string:
		if len(x) == 0 {
			return nil
		}
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		if field == "HostConfig.RestartPolicy" && x["Name"] == "" {
			x = maps.Clone(x)
			x["Name"] = "no"
			return x
		}
	}
	return v
}

// parityMounts are the container's mounts as the engine reports them,
// keeping of the mode only the SELinux relabel flag: the rest of it spells
// out RW and Propagation, and only the bind string form has it.
func parityMounts(v any) []map[string]any {
	var out []map[string]any
	for _, m := range parityList(v) {
		mp := maps.Clone(parityMap(m))
		var selinux []string
		for _, opt := range strings.Split(fmt.Sprint(mp["Mode"]), ",") {
			if opt == "z" || opt == "Z" {
				selinux = append(selinux, opt)
			}
		}
		mp["Mode"] = strings.Join(selinux, ",")
		out = append(out, mp)
	}
	return out
}

// composeKey names the compose key that sets a container field, for the
// failure messages.
func composeKey(field string) string {
	keys := map[string]string{
		"Config.Env": "environment, env_file", "Config.Cmd": "command", "Config.Entrypoint": "entrypoint",
		"Config.User": "user", "Config.WorkingDir": "working_dir", "Config.Labels": "labels",
		"Config.StopSignal": "stop_signal", "Config.StopTimeout": "stop_grace_period",
		"Config.Healthcheck": "healthcheck", "Config.ExposedPorts": "expose, ports", "Config.Hostname": "hostname",
		"Config.Image": "image", "HostConfig.LogConfig": "logging", "HostConfig.SecurityOpt": "security_opt",
		"HostConfig.RestartPolicy": "restart, deploy.restart_policy", "HostConfig.Links": "links",
		"HostConfig.NetworkMode": "network_mode, networks", "HostConfig.Tmpfs": "tmpfs",
		"HostConfig.Ulimits": "ulimits", "HostConfig.Dns": "dns", "HostConfig.DnsSearch": "dns_search",
		"HostConfig.DnsOptions": "dns_opt", "HostConfig.Sysctls": "sysctls", "HostConfig.CapAdd": "cap_add",
		"HostConfig.CapDrop": "cap_drop", "HostConfig.ReadonlyRootfs": "read_only",
		"HostConfig.ExtraHosts": "extra_hosts", "HostConfig.ShmSize": "shm_size", "HostConfig.Memory": "mem_limit",
		"HostConfig.MemoryReservation": "mem_reservation", "HostConfig.MemorySwap": "memswap_limit",
		"HostConfig.NanoCpus": "cpus", "HostConfig.PidsLimit": "pids_limit", "HostConfig.OomScoreAdj": "oom_score_adj",
		"HostConfig.GroupAdd": "group_add", "HostConfig.Init": "init", "HostConfig.VolumesFrom": "volumes_from",
		"HostConfig.PortBindings (container side)": "ports",
	}
	if k, ok := keys[field]; ok {
		return k
	}
	if strings.HasPrefix(field, "network ") {
		return "networks, links"
	}
	if strings.HasPrefix(field, "Mount ") {
		return "volumes, secrets, volumes_from"
	}
	return "none; a default"
}

func parityMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func parityList(v any) []any {
	l, _ := v.([]any)
	return l
}
