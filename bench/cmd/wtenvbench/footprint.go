package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/moby/client"
)

// footprint is what one running stack costs the machine: its containers'
// memory (cgroup usage less inactive page cache, as docker stats and wtenv
// count it) plus the engine's helper processes that exist only because the
// stack runs — one containerd-shim-runc-v2 per container, one docker-proxy
// per published port and address family, and, with the fuse-overlayfs
// storage driver, one fuse-overlayfs per container. Processes are counted
// by PSS (shared pages split among their users, so summing does not count
// the shared binary ten times) and by RSS.
type footprint struct {
	containers int64
	procs      map[string]*procGroup // by kind: shim, docker-proxy, fuse-overlayfs
	pids       []int                 // the helper processes, for CPU readings
	mainPids   []int                 // each container's main process, for its cgroup
}

type procGroup struct {
	n        int
	rss, pss int64
}

// total is containers plus the PSS of the helper processes.
func (f footprint) total() int64 {
	t := f.containers
	for _, g := range f.procs {
		t += g.pss
	}
	return t
}

func (f *footprint) add(o footprint) {
	f.containers += o.containers
	f.pids, f.mainPids = append(f.pids, o.pids...), append(f.mainPids, o.mainPids...)
	if f.procs == nil {
		f.procs = map[string]*procGroup{}
	}
	for k, g := range o.procs {
		if f.procs[k] == nil {
			f.procs[k] = &procGroup{}
		}
		f.procs[k].n += g.n
		f.procs[k].rss += g.rss
		f.procs[k].pss += g.pss
	}
}

// procKinds are the helper processes measured, in report order.
var procKinds = []string{"containerd-shim", "docker-proxy", "fuse-overlayfs"}

// measureStack finds the project's containers, reads their cgroups, and
// matches helper processes in /proc to them: a shim by the container ID in
// its command line, a docker-proxy by a published host port and the
// container's IP, a fuse-overlayfs by the container's layer directory.
func measureStack(ctx context.Context, api *client.Client, project string) (footprint, error) {
	f := footprint{procs: map[string]*procGroup{}}
	for _, k := range procKinds {
		f.procs[k] = &procGroup{}
	}
	cs, err := projectContainers(ctx, api, project)
	if err != nil {
		return f, err
	}
	ids, ports, ips, layers := map[string]bool{}, map[string]bool{}, map[string]bool{}, []string{}
	for _, c := range cs {
		ids[c.ID] = true
		for _, p := range c.Ports {
			if p.PublicPort != 0 {
				ports[strconv.Itoa(int(p.PublicPort))] = true
			}
		}
		insp, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return f, err
		}
		ic := insp.Container
		if ic.State != nil && ic.State.Pid > 0 {
			f.containers += cgroupMemory(ic.State.Pid)
			f.mainPids = append(f.mainPids, ic.State.Pid)
		}
		if ic.NetworkSettings != nil {
			for _, n := range ic.NetworkSettings.Networks {
				if n != nil && n.IPAddress.IsValid() {
					ips[n.IPAddress.String()] = true
				}
			}
		}
		if ic.GraphDriver != nil {
			if d := ic.GraphDriver.Data["UpperDir"]; d != "" {
				layers = append(layers, filepath.Dir(d))
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range procs {
		raw, err := os.ReadFile(path)
		if err != nil || len(raw) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		kind := ""
		switch base := filepath.Base(argv[0]); {
		case strings.HasPrefix(base, "containerd-shim") && ids[argAfter(argv, "-id")]:
			kind = "containerd-shim"
		case base == "docker-proxy" && ports[argAfter(argv, "-host-port")] && ips[argAfter(argv, "-container-ip")]:
			kind = "docker-proxy"
		case base == "fuse-overlayfs" && containsAny(string(raw), layers):
			kind = "fuse-overlayfs"
		default:
			continue
		}
		dir := filepath.Dir(path)
		if pid, err := strconv.Atoi(filepath.Base(dir)); err == nil {
			f.pids = append(f.pids, pid)
		}
		g := f.procs[kind]
		g.n++
		g.rss += statusField(dir+"/status", "VmRSS")
		g.pss += statusField(dir+"/smaps_rollup", "Pss")
	}
	return f, nil
}

// argAfter returns the value after name in argv.
func argAfter(argv []string, name string) string {
	for i, a := range argv[:max(len(argv)-1, 0)] {
		if a == name {
			return argv[i+1]
		}
	}
	return ""
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// statusField reads a "Key:   123 kB" line of a /proc file, in bytes.
func statusField(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n * 1024
		}
	}
	return 0
}

// cgroupMemory is a container's memory use: its cgroup's usage less
// inactive file cache, found through the cgroup of its main process
// (cgroup v1 memory controller, or the v2 unified hierarchy).
func cgroupMemory(pid int) int64 {
	dir, v2 := cgroupDir(pid, "memory")
	switch {
	case dir == "":
		return 0
	case !v2:
		return usageLess(dir+"/memory.usage_in_bytes", dir+"/memory.stat", "total_inactive_file")
	}
	return usageLess(dir+"/memory.current", dir+"/memory.stat", "inactive_file")
}

func usageLess(usagePath, statPath, key string) int64 {
	raw, err := os.ReadFile(usagePath)
	if err != nil {
		return 0
	}
	usage, _ := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	stat, _ := os.ReadFile(statPath)
	for _, line := range strings.Split(string(stat), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			if n, _ := strconv.ParseInt(v, 10, 64); n < usage {
				usage -= n
			}
		}
	}
	return usage
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
