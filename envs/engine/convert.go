package engine

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/platforms"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// containerSpec is everything needed to create one service container. The
// API of older engines (1.41) accepts one network at create time; the others
// are connected before start.
type containerSpec struct {
	create client.ContainerCreateOptions
	extra  map[string]*network.EndpointSettings // networks to connect after create
}

// containerName is the name compose gives a service's first container,
// unless the (already isolated) file fixes one.
func containerName(project string, s types.ServiceConfig) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return fmt.Sprintf("%s-%s-1", project, s.Name)
}

// specFor translates one compose service into the Docker API's create
// options. image is the reference to run (built images get the project's
// tag); labels already hold the stack labels and the config hash.
func specFor(p *types.Project, s types.ServiceConfig, image string, labels map[string]string) (containerSpec, error) {
	cfg := &container.Config{
		Image:      image,
		Cmd:        s.Command,
		Entrypoint: s.Entrypoint,
		Env:        envList(s.Environment),
		User:       s.User,
		WorkingDir: s.WorkingDir,
		Labels:     labels,
		StopSignal: s.StopSignal,
		Hostname:   s.Hostname,
		Domainname: s.DomainName,
		Tty:        s.Tty,
		OpenStdin:  s.StdinOpen,
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod).Seconds())
		cfg.StopTimeout = &secs
	}
	if s.HealthCheck != nil {
		hc, err := healthConfig(s.HealthCheck)
		if err != nil {
			return containerSpec{}, fmt.Errorf("service %q: %w", s.Name, err)
		}
		cfg.Healthcheck = hc
	}
	exposed, bindings, err := portSpecs(s)
	if err != nil {
		return containerSpec{}, err
	}
	cfg.ExposedPorts = exposed

	dns, err := dnsServers(s)
	if err != nil {
		return containerSpec{}, err
	}
	secOpts, unconfined, err := securityOpts(p, s)
	if err != nil {
		return containerSpec{}, err
	}
	host := &container.HostConfig{
		PortBindings:   bindings,
		RestartPolicy:  restartPolicy(s),
		LogConfig:      logConfig(s),
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		Links:          links(p, s),
		DNS:            dns,
		DNSOptions:     s.DNSOpts,
		DNSSearch:      s.DNSSearch,
		Init:           s.Init,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		Privileged:     s.Privileged,
		SecurityOpt:    secOpts,
		GroupAdd:       s.GroupAdd,
		OomScoreAdj:    int(s.OomScoreAdj),
		StorageOpt:     s.StorageOpt,
		Runtime:        s.Runtime,
		ShmSize:        int64(s.ShmSize),
		ReadonlyRootfs: s.ReadOnly,
		Sysctls:        map[string]string(s.Sysctls),
		Tmpfs:          tmpfsMap(s.Tmpfs),
		Resources:      resources(s),
	}
	if unconfined {
		host.MaskedPaths, host.ReadonlyPaths = []string{}, []string{}
	}
	namespaces(p, s, host)
	binds, mounts, err := mountsFor(p, s)
	if err != nil {
		return containerSpec{}, err
	}
	host.Binds, host.Mounts = binds, mounts

	spec := containerSpec{extra: map[string]*network.EndpointSettings{}}
	endpoints, err := joinNetworks(p, s, host, spec.extra)
	if err != nil {
		return containerSpec{}, err
	}
	if s.Platform != "" {
		platform, err := platforms.Parse(s.Platform)
		if err != nil {
			return containerSpec{}, fmt.Errorf("service %q: platform %q: %w", s.Name, s.Platform, err)
		}
		spec.create.Platform = &platform
	}
	spec.create.Name = containerName(p.Name, s)
	spec.create.Config = cfg
	spec.create.HostConfig = host
	spec.create.NetworkingConfig = &network.NetworkingConfig{EndpointsConfig: endpoints}
	return spec, nil
}

// joinNetworks sets the container's network mode and returns the endpoint
// of the network it is created on; the others go into extra, connected
// after create.
func joinNetworks(p *types.Project, s types.ServiceConfig, host *container.HostConfig, extra map[string]*network.EndpointSettings) (map[string]*network.EndpointSettings, error) {
	endpoints := map[string]*network.EndpointSettings{}
	if s.NetworkMode != "" {
		// The host's network, none, the default bridge, or another
		// service's namespace: no network of the project's to join, and
		// outside a namespace of its own a container publishes nothing
		// (the engine refuses port bindings there).
		mode, _ := shared(p, s.NetworkMode, false)
		if mode != s.NetworkMode {
			mode = "container:" + mode
		}
		host.NetworkMode = container.NetworkMode(mode)
		if s.NetworkMode != "bridge" && s.NetworkMode != "none" {
			host.PortBindings = nil
		}
		return endpoints, nil
	}
	for i, key := range sortedNetworks(s) {
		n, ok := p.Networks[key]
		if !ok {
			return nil, fmt.Errorf("service %q: network %q is not declared under networks:", s.Name, key)
		}
		// Links go on each endpoint too: on a user-defined network the
		// engine keeps them there and ignores the host config's.
		ep := &network.EndpointSettings{Aliases: []string{s.Name}, Links: host.Links}
		if sn := s.Networks[key]; sn != nil {
			ep.Aliases = append(ep.Aliases, sn.Aliases...)
			ep.DriverOpts = sn.DriverOpts
		}
		if i == 0 {
			host.NetworkMode = container.NetworkMode(n.Name)
			endpoints[n.Name] = ep
		} else {
			extra[n.Name] = ep
		}
	}
	return endpoints, nil
}

// networks are all the networks the container joins: the one it is
// created on and the extra ones.
func (c containerSpec) networks() map[string]*network.EndpointSettings {
	out := maps.Clone(c.extra)
	maps.Copy(out, c.create.NetworkingConfig.EndpointsConfig)
	return out
}

// MemoryLimit is the service's memory limit in bytes, as the container
// gets it: deploy.resources.limits.memory, which wins as in Compose, else
// mem_limit; 0 when it has none.
func MemoryLimit(s types.ServiceConfig) int64 {
	return resources(s).Memory
}

// sortedNetworks lists the service's networks in a stable order, the one
// with the highest priority first, so the create-time network is
// deterministic.
func sortedNetworks(s types.ServiceConfig) []string {
	keys := make([]string, 0, len(s.Networks))
	for k := range s.Networks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := 0, 0
		if n := s.Networks[keys[i]]; n != nil {
			pi = n.Priority
		}
		if n := s.Networks[keys[j]]; n != nil {
			pj = n.Priority
		}
		if pi != pj {
			return pi > pj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func envList(env types.MappingWithEquals) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v == nil {
			continue // declared without a value and unset in the environment
		}
		out = append(out, k+"="+*v)
	}
	sort.Strings(out)
	return out
}

func healthConfig(h *types.HealthCheckConfig) (*container.HealthConfig, error) {
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if h.StartInterval != nil && h.StartPeriod == nil {
		// As Compose: the engine would ignore it.
		return nil, errors.New("healthcheck.start_interval requires healthcheck.start_period to be set; add start_period")
	}
	hc := &container.HealthConfig{Test: h.Test}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.StartInterval != nil {
		hc.StartInterval = time.Duration(*h.StartInterval)
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc, nil
}

func tmpfsMap(list types.StringList) map[string]string {
	if len(list) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, t := range list {
		path, opts, _ := strings.Cut(t, ":")
		out[path] = opts
	}
	return out
}

// portSpecs maps the service's ports (already rewritten to the project's
// host block) and expose entries into the API's port set and bindings.
func portSpecs(s types.ServiceConfig) (network.PortSet, network.PortMap, error) {
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, e := range s.Expose {
		r, err := network.ParsePortRange(e)
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: expose %q: %w", s.Name, e, err)
		}
		for port := range r.All() {
			exposed[port] = struct{}{}
		}
	}
	for _, pc := range s.Ports {
		proto := pc.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", pc.Target, proto))
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: port %d: %w", s.Name, pc.Target, err)
		}
		exposed[port] = struct{}{}
		b := network.PortBinding{HostPort: pc.Published}
		if pc.HostIP != "" {
			ip, err := netip.ParseAddr(pc.HostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("service %q: host IP %q: %w", s.Name, pc.HostIP, err)
			}
			b.HostIP = ip
		}
		bindings[port] = append(bindings[port], b)
	}
	return exposed, bindings, nil
}

// mountsFor turns the service's volumes, and its secrets and configs read
// from files, into the engine's terms. As in Docker Compose, a bind or
// named volume that needs none of the Mount API's options goes in the
// engine's bind string form (the engine then creates a missing bind
// source itself, and the mount looks as Compose's does); the others, and
// tmpfs, are API mounts. Named volumes take their isolated names.
func mountsFor(p *types.Project, s types.ServiceConfig) (binds []string, mounts []mount.Mount, err error) {
	for _, v := range s.Volumes {
		m := mount.Mount{Target: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeVolume:
			m.Type = mount.TypeVolume
			if v.Source != "" {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return nil, nil, fmt.Errorf("service %q: volume %q is not declared under volumes:", s.Name, v.Source)
				}
				m.Source = vol.Name
				if v.Volume == nil || (!v.Volume.NoCopy && len(v.Volume.Labels) == 0) {
					binds = append(binds, bindString(m.Source, v))
					continue
				}
			}
			if v.Volume != nil && (v.Volume.NoCopy || len(v.Volume.Labels) > 0) {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: v.Volume.NoCopy, Labels: v.Volume.Labels}
			}
		case types.VolumeTypeBind:
			// The SELinux relabel flag (:z, :Z) exists only in the
			// string form.
			if v.Bind == nil || v.Bind.SELinux != "" || (bool(v.Bind.CreateHostPath) && v.Bind.Propagation == "") {
				binds = append(binds, bindString(v.Source, v))
				continue
			}
			m.Type = mount.TypeBind
			m.Source = v.Source
			if v.Bind.Propagation != "" {
				m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
			}
		case types.VolumeTypeTmpfs:
			m.Type = mount.TypeTmpfs
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
			}
		default:
			return nil, nil, fmt.Errorf("service %q: volume type %q is not supported by wtenv; use a named volume, a bind mount or tmpfs", s.Name, v.Type)
		}
		mounts = append(mounts, m)
	}
	files, err := fileMounts(p, s)
	if err != nil {
		return nil, nil, err
	}
	return binds, append(mounts, files...), nil
}

// bindString is a mount in the engine's source:target:options form.
func bindString(source string, v types.ServiceVolumeConfig) string {
	opts := []string{"rw"}
	if v.ReadOnly {
		opts[0] = "ro"
	}
	if v.Bind != nil && v.Bind.SELinux != "" {
		opts = append(opts, v.Bind.SELinux)
	}
	if v.Bind != nil && v.Bind.Propagation != "" {
		opts = append(opts, v.Bind.Propagation)
	}
	return source + ":" + v.Target + ":" + strings.Join(opts, ",")
}
