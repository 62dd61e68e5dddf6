package compose_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/enginetest"
	"go.yaml.in/yaml/v4"
)

// notIn129 are the corpus folders docker-compose 1.29 rejects as invalid,
// because their syntax came to the Compose specification after it.
// Docker Compose v2 reads them; there is nothing in 1.29 to compare with.
var notIn129 = map[string]string{
	"build-dockerfile-inline": "build.dockerfile_inline came with Compose v2 (1.29: unsupported option)",
	"configs-content":         "configs.*.content came with Compose v2 (1.29's schema has file, external and name only)",
	"configs-environment":     "configs.*.environment came with Compose v2 (1.29's schema has file, external and name only)",
	"secrets-environment":     "secrets.*.environment came with Compose v2 (1.29's schema has file, external and name only)",
	"develop":                 "develop: (compose watch) came with Compose v2.22",
}

// dockerCompose returns the path of the docker-compose binary. Without one
// the test fails, unless WTENV_SKIP_DOCKER=1 says this machine has no
// Docker tools (the policy of enginetest.RequireDocker).
func dockerCompose(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("docker-compose")
	if err == nil {
		return path
	}
	if os.Getenv("WTENV_SKIP_DOCKER") == "1" {
		t.Skipf("no docker-compose binary (%v) and WTENV_SKIP_DOCKER=1", err)
	}
	t.Fatalf("this test compares with docker-compose 1.29's config and found no docker-compose on PATH: %v (install it, or set WTENV_SKIP_DOCKER=1 to skip locally)", err)
	return ""
}

// composeConfig runs `docker-compose [-f file…] config` in the folder, as a
// user would from the worktree root: the files are those wtenv.yaml's
// compose: names, else docker-compose's own discovery.
func composeConfig(t *testing.T, bin, dir string) (map[string]any, error) {
	t.Helper()
	cfg, err := compose.LoadConfig(dir)
	if err != nil {
		t.Fatalf("wtenv.yaml: %v", err)
	}
	var args []string
	for _, f := range cfg.Compose {
		args = append(args, "-f", f)
	}
	cmd := exec.Command(bin, append(args, "config")...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("docker-compose %s: %v: %s", strings.Join(cmd.Args[1:], " "), err, strings.TrimSpace(stderr.String()))
	}
	var doc map[string]any
	if err := yaml.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("docker-compose config printed YAML that does not parse: %v\n%s", err, stdout.String())
	}
	return doc, nil
}

// What compose.Load makes of each corpus folder is what docker-compose
// 1.29's config makes of it, run from the worktree root: the services,
// their images, build contexts, environment (.env interpolation and
// env_file included), commands, working directories, bind sources resolved
// to absolute paths, ports, and the files of secrets and configs.
// everyTier are the folders compared in the default tier: where the
// project directory, .env and relative paths are resolved. The full tier
// compares them all.
var everyTier = map[string]bool{"subfolder": true, "env-interpolation": true, "bind-home": true, "secrets-file": true}

func TestCorpusLoadsAsDockerCompose129(t *testing.T) {
	bin := dockerCompose(t)
	for name, dir := range corpusFolders(t) {
		t.Run(name, func(t *testing.T) {
			if !everyTier[name] {
				// About a second of docker-compose start-up a folder.
				enginetest.Full(t)
			}
			t.Parallel()
			doc, err := composeConfig(t, bin, dir)
			if why, skip := notIn129[name]; skip {
				if err == nil {
					t.Fatalf("docker-compose 1.29 reads this folder now; remove it from notIn129 (%s)", why)
				}
				t.Skipf("docker-compose 1.29 rejects it: %s", why)
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := compose.LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			p, err := compose.Load(context.Background(), dir, cfg, corpusProject(name))
			if err != nil {
				t.Fatalf("compose.Load fails where docker-compose 1.29 reads the file: %v", err)
			}
			compareProject(t, doc, p)
		})
	}
}

func compareProject(t *testing.T, doc map[string]any, p *types.Project) {
	t.Helper()
	services := asMap(doc["services"])
	if got, want := slices.Sorted(maps.Keys(p.Services)), slices.Sorted(maps.Keys(services)); !slices.Equal(got, want) {
		t.Errorf("services: wtenv %v, docker-compose %v", got, want)
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		s, ok := p.Services[name]
		if !ok {
			continue
		}
		c := &comparison{t: t, service: name}
		compareService(c, asMap(services[name]), s)
	}
	for key, def := range asMap(doc["secrets"]) {
		if got, want := p.Secrets[key].File, str(asMap(def)["file"]); got != want {
			t.Errorf("secret %q: file: wtenv %q, docker-compose %q", key, got, want)
		}
	}
	for key, def := range asMap(doc["configs"]) {
		if got, want := p.Configs[key].File, str(asMap(def)["file"]); got != want {
			t.Errorf("config %q: file: wtenv %q, docker-compose %q", key, got, want)
		}
	}
	if got, want := slices.Sorted(maps.Keys(p.Volumes)), slices.Sorted(maps.Keys(asMap(doc["volumes"]))); !slices.Equal(got, want) {
		t.Errorf("volumes: wtenv %v, docker-compose %v", got, want)
	}
}

// comparison reports the differences of one service, naming the key.
type comparison struct {
	t       *testing.T
	service string
}

func (c *comparison) equal(key string, wtenv, compose any) {
	c.t.Helper()
	if fmt.Sprint(wtenv) != fmt.Sprint(compose) {
		c.t.Errorf("service %q: %s: wtenv %v, docker-compose 1.29 %v", c.service, key, wtenv, compose)
	}
}

func compareService(c *comparison, dc map[string]any, s types.ServiceConfig) {
	c.t.Helper()
	c.equal("image", s.Image, str(dc["image"]))
	if b := asMap(dc["build"]); b != nil || s.Build != nil {
		var ctx, dockerfile string
		if s.Build != nil {
			ctx, dockerfile = s.Build.Context, s.Build.Dockerfile
		}
		c.equal("build.context", ctx, str(b["context"]))
		if df := str(b["dockerfile"]); df != "" {
			c.equal("build.dockerfile", dockerfile, df)
		}
	}
	c.equal("environment", envStrings(s.Environment), composeEnv(dc["environment"]))
	if cmd := dc["command"]; cmd != nil || len(s.Command) > 0 {
		c.equal("command", []string(s.Command), composeCommand(cmd))
	}
	c.equal("working_dir", s.WorkingDir, str(dc["working_dir"]))
	c.equal("volumes", wtenvVolumes(s.Volumes), composeVolumes(dc["volumes"]))
	c.equal("ports", wtenvPorts(s.Ports), composePorts(dc["ports"]))
	c.equal("network_mode", s.NetworkMode, str(dc["network_mode"]))
	c.equal("links", []string(s.Links), strList(dc["links"]))
	c.equal("security_opt", s.SecurityOpt, strList(dc["security_opt"]))
	c.equal("platform", s.Platform, str(dc["platform"]))
	c.equal("runtime", s.Runtime, str(dc["runtime"]))
	var driver string
	var options map[string]string
	if s.Logging != nil {
		driver, options = s.Logging.Driver, s.Logging.Options
	}
	lg := asMap(dc["logging"])
	c.equal("logging.driver", driver, str(lg["driver"]))
	c.equal("logging.options", stringMap(options), stringMap(strMap(lg["options"])))
	c.equal("secrets", fileRefs(s.Secrets, "/run/secrets/"), composeFileRefs(dc["secrets"], "/run/secrets/"))
	c.equal("configs", fileRefs(s.Configs, "/"), composeFileRefs(dc["configs"], "/"))
	c.equal("networks", serviceNetworks(s), composeNetworks(dc["networks"], s.NetworkMode))
	var mode, replicas, condition, attempts string
	if d := s.Deploy; d != nil {
		mode = d.Mode
		if d.Replicas != nil {
			replicas = strconv.Itoa(*d.Replicas)
		}
		if r := d.RestartPolicy; r != nil {
			condition = r.Condition
			if r.MaxAttempts != nil {
				attempts = strconv.FormatUint(*r.MaxAttempts, 10)
			}
		}
	}
	d := asMap(dc["deploy"])
	rp := asMap(d["restart_policy"])
	c.equal("deploy.mode", mode, str(d["mode"]))
	c.equal("deploy.replicas", replicas, str(d["replicas"]))
	c.equal("deploy.restart_policy.condition", condition, str(rp["condition"]))
	c.equal("deploy.restart_policy.max_attempts", attempts, str(rp["max_attempts"]))
}

// envStrings is the environment as sorted KEY=value lines; a variable
// declared without a value is KEY alone.
func envStrings(env types.MappingWithEquals) []string {
	out := []string{}
	for k, v := range env {
		if v == nil {
			out = append(out, k)
		} else {
			out = append(out, k+"="+*v)
		}
	}
	slices.Sort(out)
	return out
}

// composeEnv is docker-compose's environment in envStrings' form. Its
// config output escapes $ as $$, so that it can be read again.
func composeEnv(v any) []string {
	out := []string{}
	for k, val := range asMap(v) {
		if val == nil {
			out = append(out, k)
		} else {
			out = append(out, k+"="+unescape(str(val)))
		}
	}
	slices.Sort(out)
	return out
}

func composeCommand(v any) []string {
	var out []string
	switch cmd := v.(type) {
	case string:
		out = strings.Fields(cmd)
	default:
		out = strList(cmd)
	}
	for i := range out {
		out[i] = unescape(out[i])
	}
	return out
}

func unescape(s string) string { return strings.ReplaceAll(s, "$$", "$") }

// volume is one volume or bind of a service, in the terms both tools
// share.
type volume struct {
	typ, source, target string
	readOnly            bool
	selinux             string
	propagation         string
	nocopy              bool
}

func (v volume) String() string {
	s := fmt.Sprintf("%s %s→%s", v.typ, v.source, v.target)
	if v.readOnly {
		s += " ro"
	}
	for _, opt := range []string{v.selinux, v.propagation} {
		if opt != "" {
			s += " " + opt
		}
	}
	if v.nocopy {
		s += " nocopy"
	}
	return s
}

func wtenvVolumes(list []types.ServiceVolumeConfig) []string {
	out := []string{}
	for _, v := range list {
		vol := volume{typ: v.Type, source: v.Source, target: v.Target, readOnly: v.ReadOnly}
		if v.Bind != nil {
			vol.selinux, vol.propagation = v.Bind.SELinux, v.Bind.Propagation
		}
		if v.Volume != nil {
			vol.nocopy = v.Volume.NoCopy
		}
		out = append(out, vol.String())
	}
	slices.Sort(out)
	return out
}

// composeVolumes reads docker-compose 1.29's volumes: the long form as a
// mapping, the short form as source:target:options, where an absolute
// source is a bind and any other a named volume.
func composeVolumes(v any) []string {
	out := []string{}
	for _, item := range asList(v) {
		var vol volume
		if m := asMap(item); m != nil {
			vol = volume{typ: str(m["type"]), source: str(m["source"]), target: str(m["target"]), readOnly: m["read_only"] == true}
			vol.propagation = str(asMap(m["bind"])["propagation"])
			vol.selinux = str(asMap(m["bind"])["selinux"])
			vol.nocopy = asMap(m["volume"])["nocopy"] == true
		} else {
			parts := strings.Split(str(item), ":")
			switch len(parts) {
			case 1:
				vol = volume{typ: "volume", target: parts[0]}
			default:
				vol = volume{typ: "volume", source: parts[0], target: parts[1]}
				if filepath.IsAbs(parts[0]) {
					vol.typ = "bind"
				}
				if len(parts) > 2 {
					for _, opt := range strings.Split(parts[2], ",") {
						switch opt {
						case "ro":
							vol.readOnly = true
						case "z", "Z":
							vol.selinux = opt
						case "nocopy":
							vol.nocopy = true
						case "shared", "rshared", "slave", "rslave", "private", "rprivate":
							vol.propagation = opt
						}
					}
				}
			}
		}
		out = append(out, vol.String())
	}
	slices.Sort(out)
	return out
}

// wtenvPorts lists the ports as host_ip:published:target/protocol.
func wtenvPorts(list []types.ServicePortConfig) []string {
	out := []string{}
	for _, p := range list {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, fmt.Sprintf("%s:%s:%d/%s", p.HostIP, p.Published, p.Target, proto))
	}
	slices.Sort(out)
	return out
}

// composePorts reads docker-compose 1.29's ports, the long form as a
// mapping and the short one as [host_ip:]published:target[/protocol], in
// wtenvPorts' form.
func composePorts(v any) []string {
	out := []string{}
	for _, item := range asList(v) {
		var hostIP, published, target, proto string
		if m := asMap(item); m != nil {
			hostIP, published, target, proto = str(m["host_ip"]), str(m["published"]), str(m["target"]), str(m["protocol"])
		} else {
			spec := str(item)
			spec, proto, _ = strings.Cut(spec, "/")
			parts := strings.Split(spec, ":")
			target = parts[len(parts)-1]
			if len(parts) > 1 {
				published = parts[len(parts)-2]
			}
			if len(parts) > 2 {
				hostIP = strings.Join(parts[:len(parts)-2], ":")
			}
		}
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, fmt.Sprintf("%s:%s:%s/%s", hostIP, published, target, proto))
	}
	slices.Sort(out)
	return out
}

// fileRefs lists a service's secrets or configs as source→target with
// their mode and owner. The target is where the file appears: the loader
// fills in a secret's default target, docker-compose leaves it to up, so
// both are resolved against dir (/run/secrets/ or /) first.
func fileRefs[T types.ServiceSecretConfig | types.ServiceConfigObjConfig](list []T, dir string) []string {
	out := []string{}
	for _, r := range list {
		ref := types.FileReferenceConfig(r)
		mode := ""
		if ref.Mode != nil {
			mode = strconv.FormatInt(int64(*ref.Mode), 10)
		}
		out = append(out, fileRef(ref.Source, ref.Target, mode, ref.UID, ref.GID, dir))
	}
	slices.Sort(out)
	return out
}

func composeFileRefs(v any, dir string) []string {
	out := []string{}
	for _, item := range asList(v) {
		m := asMap(item)
		if m == nil {
			m = map[string]any{"source": item}
		}
		out = append(out, fileRef(str(m["source"]), str(m["target"]), str(m["mode"]), str(m["uid"]), str(m["gid"]), dir))
	}
	slices.Sort(out)
	return out
}

func fileRef(source, target, mode, uid, gid, dir string) string {
	switch {
	case target == "":
		target = dir + source
	case !path.IsAbs(target):
		target = dir + target
	}
	return fmt.Sprintf("%s→%s mode=%s uid=%s gid=%s", source, target, mode, uid, gid)
}

// serviceNetworks lists the networks a service joins, with a fixed
// address when it has one. The loader adds the default network to a
// service that names none, where docker-compose's config leaves it out.
func serviceNetworks(s types.ServiceConfig) []string {
	out := []string{}
	for name, n := range s.Networks {
		if n != nil && n.Ipv4Address != "" {
			name += "@" + n.Ipv4Address
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func composeNetworks(v any, networkMode string) []string {
	out := []string{}
	switch n := v.(type) {
	case nil:
		if networkMode == "" {
			out = append(out, "default")
		}
	case []any:
		out = append(out, strList(n)...)
	default:
		for name, cfg := range asMap(n) {
			if ip := str(asMap(cfg)["ipv4_address"]); ip != "" {
				name += "@" + ip
			}
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func strList(v any) []string {
	var out []string
	for _, item := range asList(v) {
		out = append(out, str(item))
	}
	return out
}

func strMap(v any) map[string]string {
	out := map[string]string{}
	for k, val := range asMap(v) {
		out[k] = str(val)
	}
	return out
}

// stringMap prints a map in a stable order; nil and empty print alike.
func stringMap(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}
