package engine_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// fidelityCompose uses the keys wtenv once refused and now runs as Docker
// Compose runs them: secrets and configs from a file, the environment and
// inline content; one container port over two protocols; logging,
// security_opt, deploy.restart_policy; another service's network
// namespace; a link with depends_on.restart; a service scaled to zero.
const fidelityCompose = `services:
  store:
    image: %[1]s
    environment: {GENERATION: "1"}
    secrets: [filetoken, envtoken]
    configs: [inline, {source: fileconf, target: /etc/app.conf}]
    ports: ["5000:5000/tcp", "5000:5000/udp"]
    logging: {driver: json-file, options: {max-size: 1m}}
    security_opt: ["no-new-privileges:true"]
    deploy: {restart_policy: {condition: on-failure, max_attempts: 2}}
  side:
    image: %[1]s
    network_mode: "service:store"
    environment: {PORT: "8081"}
  front:
    image: %[1]s
    links: ["store:db"]
    depends_on: {store: {condition: service_started, restart: true}}
  off:
    image: %[1]s
    deploy: {replicas: 0}
secrets:
  filetoken: {file: ./token.txt}
  envtoken: {environment: WTENV_FIDELITY_TOKEN}
configs:
  inline: {content: hello}
  fileconf: {file: ./app.conf}
`

func TestUpRunsComposeKeysAsComposeDoes(t *testing.T) {
	sb := enginetest.NewSandbox(t)
	t.Setenv("WTENV_FIDELITY_TOKEN", "from-the-environment")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()

	root := t.TempDir()
	for name, content := range map[string]string{
		"compose.yaml": fmt.Sprintf(fidelityCompose, enginetest.KVImage(t)),
		"token.txt":    "from-a-file",
		"app.conf":     "conf=1",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	name := "fidelity-" + strings.ToLower(strings.TrimPrefix(sb.HostID, "test-"))
	p, err := compose.Load(ctx, root, compose.Config{}, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := compose.Check(p, compose.Config{}); err != nil {
		t.Fatal(err)
	}
	lo, _, _ := strings.Cut(sb.PortRange, "-")
	port, _ := strconv.Atoi(lo)
	if _, err := compose.Isolate(p, name, []int{port}, root); err != nil {
		t.Fatal(err)
	}
	enginetest.Cleanup(t, root)
	meta := engine.Meta{Project: name, Worktree: root, Branch: "main", Version: "test", Host: sb.HostID}
	if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	first := inspectStack(t, api, meta)
	if _, ok := first["off"]; ok || len(first) != 3 {
		t.Fatalf("containers: %v; want store, side and front, and none for a service scaled to zero", keys(first))
	}
	store := first["store"]
	for path, want := range map[string]string{
		"/run/secrets/filetoken": "from-a-file",
		"/run/secrets/envtoken":  "from-the-environment",
		"/inline":                "hello",
		"/etc/app.conf":          "conf=1",
	} {
		if got := readFile(t, api, store.ID, path); got != want {
			t.Errorf("store's %s = %q, want %q", path, got, want)
		}
	}
	tcp, udp := store.HostConfig.PortBindings[network.MustParsePort("5000/tcp")], store.HostConfig.PortBindings[network.MustParsePort("5000/udp")]
	if len(tcp) != 1 || len(udp) != 1 || tcp[0].HostPort != strconv.Itoa(port) || udp[0].HostPort != tcp[0].HostPort {
		t.Errorf("5000/tcp on %v and 5000/udp on %v: want both on host port %d", tcp, udp, port)
	}
	if lc := store.HostConfig.LogConfig; lc.Type != "json-file" || lc.Config["max-size"] != "1m" {
		t.Errorf("store's logging: %+v", lc)
	}
	if so := store.HostConfig.SecurityOpt; len(so) != 1 || so[0] != "no-new-privileges:true" {
		t.Errorf("store's security_opt: %v", so)
	}
	if rp := store.HostConfig.RestartPolicy; rp.Name != "on-failure" || rp.MaximumRetryCount != 2 {
		t.Errorf("store's restart policy: %+v", rp)
	}
	if mode := string(first["side"].HostConfig.NetworkMode); mode != "container:"+store.ID {
		t.Errorf("side's network mode is %q, want store's namespace (container:%s)", mode, store.ID)
	}
	// On a user-defined network a link is an alias of the linked
	// container, kept on the endpoint.
	var links []string
	for _, n := range first["front"].NetworkSettings.Networks {
		links = append(links, n.Links...)
	}
	if want := first["store"].Name[1:] + ":db"; !slices.Contains(links, want) {
		t.Errorf("front's links %q: want %q", links, want)
	}

	// A change to store recreates it; side, in its namespace, is
	// recreated with it; front, which depends on it with restart: true,
	// is restarted in the same container.
	s := p.Services["store"]
	gen := "2"
	s.Environment["GENERATION"] = &gen
	p.Services["store"] = s
	if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	second := inspectStack(t, api, meta)
	if second["store"].ID == store.ID {
		t.Error("store was not recreated after its configuration changed")
	}
	if second["side"].ID == first["side"].ID || string(second["side"].HostConfig.NetworkMode) != "container:"+second["store"].ID {
		t.Errorf("side: %s in %s; want a new container in the new store's namespace", second["side"].ID, second["side"].HostConfig.NetworkMode)
	}
	if second["front"].ID != first["front"].ID || second["front"].State.StartedAt == first["front"].State.StartedAt {
		t.Errorf("front: want the same container restarted; was %s started %s, now %s started %s",
			first["front"].ID[:12], first["front"].State.StartedAt, second["front"].ID[:12], second["front"].State.StartedAt)
	}

	// Unchanged, up changes nothing.
	if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	third := inspectStack(t, api, meta)
	for svc, c := range second {
		if third[svc].ID != c.ID || third[svc].State.StartedAt != c.State.StartedAt {
			t.Errorf("%s changed on an up with nothing to do", svc)
		}
	}

	// A stopped container started again gets the secrets' current
	// values, as under Compose, which writes them before every start.
	if _, err := api.ContainerStop(ctx, third["store"].ID, client.ContainerStopOptions{}); err != nil {
		t.Fatal(err)
	}
	// What the next load reads when the variable has changed: the loader
	// copies an environment secret's value into its content.
	p.Environment["WTENV_FIDELITY_TOKEN"] = "rotated"
	sec := p.Secrets["envtoken"]
	sec.Content = "rotated"
	p.Secrets["envtoken"] = sec
	// A service scaled to zero loses its container, as Compose scales it
	// down.
	front := p.Services["front"]
	zero := 0
	front.Deploy = &types.DeployConfig{Replicas: &zero}
	p.Services["front"] = front
	p = p.WithServicesDisabled("front")
	if err := eng.Up(ctx, p, meta, engine.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	fourth := inspectStack(t, api, meta)
	if got := readFile(t, api, fourth["store"].ID, "/run/secrets/envtoken"); fourth["store"].ID != third["store"].ID || got != "rotated" {
		t.Errorf("store restarted with envtoken %q, want the rotated value in the same container", got)
	}
	if _, ok := fourth["front"]; ok {
		t.Error("front, scaled to zero, still has its container")
	}
}

// inspectStack inspects the stack's service containers, by service.
func inspectStack(t *testing.T, api *client.Client, meta engine.Meta) map[string]container.InspectResponse {
	t.Helper()
	ctx := context.Background()
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", engine.LabelProject+"="+meta.Project, engine.LabelWorktree+"="+meta.Worktree)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]container.InspectResponse{}
	for _, c := range res.Items {
		r, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[c.Labels[engine.LabelService]] = r.Container
	}
	return out
}

// readFile reads one file out of a container through the engine, which
// needs no shell in the image.
func readFile(t *testing.T, api *client.Client, id, path string) string {
	t.Helper()
	res, err := api.CopyFromContainer(context.Background(), id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		t.Errorf("reading %s: %v", path, err)
		return ""
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	if _, err := tr.Next(); err != nil {
		t.Errorf("reading %s: %v", path, err)
		return ""
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		t.Errorf("reading %s: %v", path, err)
	}
	return string(data)
}
