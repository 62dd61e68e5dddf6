package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
)

// The translations below follow Docker Compose's own (its create.go), so
// that a key means on a wtenv stack what it means under `docker compose up`.

// resources maps the service's cgroup limits: the service-level keys, then
// deploy.resources, which win as in Compose.
func resources(s types.ServiceConfig) container.Resources {
	r := container.Resources{
		CgroupParent:       s.CgroupParent,
		Memory:             int64(s.MemLimit),
		MemorySwap:         int64(s.MemSwapLimit),
		MemoryReservation:  int64(s.MemReservation),
		CPUPeriod:          s.CPUPeriod,
		CPUQuota:           s.CPUQuota,
		CPURealtimePeriod:  s.CPURTPeriod,
		CPURealtimeRuntime: s.CPURTRuntime,
		CPUShares:          s.CPUShares,
		NanoCPUs:           int64(s.CPUS * 1e9),
		CpusetCpus:         s.CPUSet,
		DeviceCgroupRules:  s.DeviceCgroupRules,
	}
	if s.MemSwappiness != 0 {
		v := int64(s.MemSwappiness)
		r.MemorySwappiness = &v
	}
	if s.OomKillDisable {
		r.OomKillDisable = &s.OomKillDisable
	}
	if s.PidsLimit != 0 {
		v := s.PidsLimit
		r.PidsLimit = &v
	}
	blkio(s.BlkioConfig, &r)
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			if l.MemoryBytes != 0 {
				r.Memory = int64(l.MemoryBytes)
			}
			if l.NanoCPUs != 0 {
				r.NanoCPUs = int64(l.NanoCPUs * 1e9)
			}
			if l.Pids > 0 {
				v := l.Pids
				r.PidsLimit = &v
			}
		}
		// A CPU reservation is swarm's; only memory maps to the engine.
		if res := s.Deploy.Resources.Reservations; res != nil && res.MemoryBytes != 0 {
			r.MemoryReservation = int64(res.MemoryBytes)
		}
	}
	for _, d := range s.Devices {
		perms := d.Permissions
		if perms == "" {
			perms = "rwm"
		}
		r.Devices = append(r.Devices, container.DeviceMapping{PathOnHost: d.Source, PathInContainer: d.Target, CgroupPermissions: perms})
	}
	for name, u := range s.Ulimits {
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		r.Ulimits = append(r.Ulimits, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	return r
}

func blkio(b *types.BlkioConfig, r *container.Resources) {
	if b == nil {
		return
	}
	r.BlkioWeight = b.Weight
	for _, w := range b.WeightDevice {
		r.BlkioWeightDevice = append(r.BlkioWeightDevice, &blkiodev.WeightDevice{Path: w.Path, Weight: w.Weight})
	}
	throttle := func(list []types.ThrottleDevice) []*blkiodev.ThrottleDevice {
		var out []*blkiodev.ThrottleDevice
		for _, t := range list {
			out = append(out, &blkiodev.ThrottleDevice{Path: t.Path, Rate: uint64(t.Rate)})
		}
		return out
	}
	r.BlkioDeviceReadBps = throttle(b.DeviceReadBps)
	r.BlkioDeviceReadIOps = throttle(b.DeviceReadIOps)
	r.BlkioDeviceWriteBps = throttle(b.DeviceWriteBps)
	r.BlkioDeviceWriteIOps = throttle(b.DeviceWriteIOps)
}

// restartPolicy is restart:, or deploy.restart_policy, which wins, with
// swarm's condition names mapped to the engine's.
func restartPolicy(s types.ServiceConfig) container.RestartPolicy {
	rp := container.RestartPolicy{Name: container.RestartPolicyDisabled}
	if s.Restart != "" {
		name, count, _ := strings.Cut(s.Restart, ":")
		rp.Name = restartMode(name)
		fmt.Sscan(count, &rp.MaximumRetryCount)
	}
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		policy := s.Deploy.RestartPolicy
		rp = container.RestartPolicy{Name: restartMode(policy.Condition)}
		if policy.MaxAttempts != nil {
			rp.MaximumRetryCount = int(*policy.MaxAttempts)
		}
	}
	return rp
}

func restartMode(condition string) container.RestartPolicyMode {
	switch condition {
	case "", "none", "no":
		return container.RestartPolicyDisabled
	case "any", "always":
		return container.RestartPolicyAlways
	}
	return container.RestartPolicyMode(condition)
}

func logConfig(s types.ServiceConfig) container.LogConfig {
	if s.Logging == nil {
		return container.LogConfig{}
	}
	return container.LogConfig{Type: s.Logging.Driver, Config: s.Logging.Options}
}

// securityOpts passes security_opt on, reading a seccomp profile named by
// path (relative to the project directory) into the option as the engine
// wants it. systempaths=unconfined is the CLI's spelling for unmasking
// /proc and /sys, reported through unconfined.
func securityOpts(p *types.Project, s types.ServiceConfig) (opts []string, unconfined bool, err error) {
	for _, opt := range s.SecurityOpt {
		if opt == "systempaths=unconfined" {
			unconfined = true
			continue
		}
		key, value, ok := strings.Cut(opt, "=")
		if !ok {
			key, value, _ = strings.Cut(opt, ":")
		}
		if key != "seccomp" || value == "unconfined" || value == "builtin" {
			opts = append(opts, opt)
			continue
		}
		data, err := os.ReadFile(p.RelativePath(value))
		if err != nil {
			return nil, false, fmt.Errorf("service %q: security_opt seccomp profile: %w; fix the path (relative to %s)", s.Name, err, p.WorkingDir)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			return nil, false, fmt.Errorf("service %q: security_opt seccomp profile %s is not JSON: %w", s.Name, value, err)
		}
		opts = append(opts, "seccomp="+compact.String())
	}
	return opts, unconfined, nil
}

// links are links: and external_links: in the engine's name:alias form.
// A link names a service of the project; its container's name is the
// isolated one.
func links(p *types.Project, s types.ServiceConfig) []string {
	var out []string
	for _, l := range s.Links {
		service, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = service
		}
		target, found := p.Services[service]
		if !found {
			continue // the loader has checked links; a disabled service has no container
		}
		// Compose also names the link after the container's number.
		name := containerName(p.Name, target)
		for _, a := range []string{alias, service + "-1", p.Name + "-" + service + "-1"} {
			if l := name + ":" + a; !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	for _, l := range s.ExternalLinks {
		name, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = name
		}
		out = append(out, name+":"+alias)
	}
	return out
}

// shared resolves a namespace or volumes_from reference to another
// service ("service:db", or for volumes_from a bare "db") into the
// engine's container:<name> form, and returns the service it names.
func shared(p *types.Project, ref string, bare bool) (string, string) {
	name, ok := strings.CutPrefix(ref, types.ServicePrefix)
	if !ok && !bare {
		return ref, ""
	}
	svc, rest, _ := strings.Cut(name, ":")
	target, found := p.Services[svc]
	if !found {
		return ref, ""
	}
	resolved := containerName(p.Name, target)
	if rest != "" {
		resolved += ":" + rest
	}
	return resolved, svc
}

// namespaces sets the pid, ipc, uts, user and cgroup namespaces, and
// volumes_from, resolving references to services of the project.
func namespaces(p *types.Project, s types.ServiceConfig, host *container.HostConfig) {
	if mode, svc := shared(p, s.Pid, false); svc != "" {
		host.PidMode = container.PidMode("container:" + mode)
	} else {
		host.PidMode = container.PidMode(s.Pid)
	}
	if mode, svc := shared(p, s.Ipc, false); svc != "" {
		host.IpcMode = container.IpcMode("container:" + mode)
	} else {
		host.IpcMode = container.IpcMode(s.Ipc)
	}
	host.UTSMode = container.UTSMode(s.Uts)
	host.UsernsMode = container.UsernsMode(s.UserNSMode)
	host.CgroupnsMode = container.CgroupnsMode(s.Cgroup)
	for _, v := range s.VolumesFrom {
		if name, ok := strings.CutPrefix(v, types.ContainerPrefix); ok {
			host.VolumesFrom = append(host.VolumesFrom, name)
			continue
		}
		resolved, _ := shared(p, v, true)
		host.VolumesFrom = append(host.VolumesFrom, resolved)
	}
}

// sharesWith lists the services whose container this one's configuration
// names (network, pid or ipc namespace, volumes_from): when one of those is
// recreated, this container must be too, since it still points at the old
// one.
func sharesWith(s types.ServiceConfig) []string {
	var out []string
	for _, ref := range []string{s.NetworkMode, s.Pid, s.Ipc} {
		if svc, ok := strings.CutPrefix(ref, types.ServicePrefix); ok {
			out = append(out, svc)
		}
	}
	for _, v := range s.VolumesFrom {
		if !strings.HasPrefix(v, types.ContainerPrefix) {
			svc, _, _ := strings.Cut(v, ":")
			out = append(out, svc)
		}
	}
	return out
}

func dnsServers(s types.ServiceConfig) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, d := range s.DNS {
		ip, err := netip.ParseAddr(d)
		if err != nil {
			return nil, fmt.Errorf("service %q: dns %q is not an IP address: %w", s.Name, d, err)
		}
		out = append(out, ip)
	}
	return out, nil
}
