package compose

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// DefaultHostIP is the address published ports bind to when the compose
// file names none, so a stack is reachable from this machine only.
const DefaultHostIP = "127.0.0.1"

// ErrPortCount reports that Isolate was given a different number of host
// ports than the project publishes.
var ErrPortCount = errors.New("host port count does not match the published ports")

// Result is what Isolate changed that the user should know about.
type Result struct {
	// Warnings describe, one sentence each, names that were rewritten or
	// resources that stay shared with other stacks.
	Warnings []string
	// Ports describe, one sentence each, where each published port went.
	Ports []string
}

// Isolate rewrites p in place so that it can run next to the same project
// of another worktree: under the project name name, with its published
// ports on hostPorts (one per entry of Published(p), in that order), and
// with every fixed name that would collide made unique to the project.
// Services scaled to zero are disabled, as Docker Compose starts none of
// them. What stays shared with other worktrees (the host's network, a
// writable bind mount outside the worktree) is reported.
//
// Container ports are left unchanged, so services reach each other exactly
// as before. External networks and volumes are left shared, as the file
// asks, and reported. Services under a profile that is not enabled are left
// as loaded: they publish nothing, and a one-off container made from one
// takes its name from the project, not from container_name.
func Isolate(p *types.Project, name string, hostPorts []int, worktree string) (Result, error) {
	refs := Published(p)
	if len(refs) != len(hostPorts) {
		return Result{}, fmt.Errorf("%w: %d published ports, %d host ports given; allocate one host port per entry of Published", ErrPortCount, len(refs), len(hostPorts))
	}
	var res Result
	var zero []string
	for _, svc := range slices.Sorted(maps.Keys(p.Services)) {
		if !Starts(p.Services[svc]) {
			zero = append(zero, svc)
			res.warn("service %q is scaled to zero: not started, as Docker Compose does", svc)
		}
	}
	*p = *p.WithServicesDisabled(zero...)
	previous := p.Name
	res.Warnings = append(res.Warnings, nameOverrides(p, name)...)
	p.Name = name
	for i, ref := range refs {
		for _, at := range ref.Indexes {
			port := &p.Services[ref.Service].Ports[at]
			port.Published = strconv.Itoa(hostPorts[i])
			if port.HostIP == "" {
				port.HostIP = DefaultHostIP
			}
		}
		asked := "any free port"
		if ref.Published != "" {
			asked = ref.Published
		}
		res.Ports = append(res.Ports, fmt.Sprintf("service %q: port %d/%s published on %s:%d (the file asks for %s)",
			ref.Service, ref.Target, strings.Join(ref.Protocols, "+"), p.Services[ref.Service].Ports[ref.Indexes[0]].HostIP, hostPorts[i], asked))
	}
	for _, svc := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[svc]
		if s.ContainerName != "" {
			renamed := name + "-" + s.ContainerName
			res.warn("container_name %q rewritten to %q", s.ContainerName, renamed)
			s.ContainerName = renamed
		}
		absoluteBinds(s.Volumes, p.WorkingDir)
		res.Warnings = append(res.Warnings, sharedBinds(s, worktree)...)
		res.Warnings = append(res.Warnings, outsideContainers(s)...)
		if s.NetworkMode == "host" {
			res.warn("service %q uses the host's network (host_network: true in wtenv.yaml): the ports it listens on are the host's own and collide with other worktrees' stacks, and its ports: entries are ignored, as the engine ignores them", svc)
		}
		p.Services[svc] = s
	}
	for _, key := range slices.Sorted(maps.Keys(p.Networks)) {
		n := p.Networks[key]
		n.Name = res.rename("network", key, n.Name, bool(n.External), previous, name)
		p.Networks[key] = n
	}
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[key]
		v.Name = res.rename("volume", key, v.Name, bool(v.External), previous, name)
		p.Volumes[key] = v
	}
	return res, nil
}

// rename returns the name of the network or volume declared under key once
// the project is called project. An external one keeps its name and is
// shared; a name the file fixed would be shared by accident, so it becomes
// the name Docker Compose would have given it.
func (r *Result) rename(kind, key, current string, external bool, previous, project string) string {
	if external {
		if current == "" {
			current = key
		}
		r.warn("%s %q is external: shared with other stacks", kind, current)
		return current
	}
	isolated := project + "_" + key
	if current != "" && current != previous+"_"+key {
		r.warn("%s %q: name %q rewritten to %q", kind, key, current, isolated)
	}
	return isolated
}

func (r *Result) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// absoluteBinds makes relative bind sources absolute against the project
// directory. The loader already does this; doing it again costs nothing and
// keeps the engine from ever resolving against its own working directory.
// Sources outside the worktree are left as they are.
func absoluteBinds(volumes []types.ServiceVolumeConfig, dir string) {
	for i := range volumes {
		v := &volumes[i]
		if v.Type == types.VolumeTypeBind && v.Source != "" && !filepath.IsAbs(v.Source) {
			v.Source = filepath.Join(dir, v.Source)
		}
	}
}
