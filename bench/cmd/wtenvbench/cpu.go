package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// idleCPU is what a running, idle stack costs in CPU: its containers
// (cgroup CPU accounting: the services, and the healthcheck commands the
// engine runs inside them) and its helper processes with the children they
// waited for (a shim runs runc for every healthcheck exec). The engine's
// daemons are shared by every stack on the machine, so they are reported
// apart and include whatever else uses the engine meanwhile.
type idleCPU struct {
	window                      time.Duration
	containers, helpers, daemon time.Duration
}

// idleWindow is how long an idle stack's CPU is watched: two of the shop's
// 5-second healthcheck intervals, long enough for 10 ms clock ticks.
const idleWindow = 10 * time.Second

// measureIdleCPU reads the stack's CPU counters, waits window, and reads
// them again.
func measureIdleCPU(ctx context.Context, f footprint, window time.Duration) idleCPU {
	daemons := daemonPids()
	read := func() (c, h, d time.Duration) {
		for _, pid := range f.mainPids {
			c += cgroupCPU(pid)
		}
		for _, pid := range f.pids {
			h += procCPUWithChildren(pid)
		}
		for _, pid := range daemons {
			d += procCPUWithChildren(pid)
		}
		return
	}
	c0, h0, d0 := read()
	select {
	case <-ctx.Done():
	case <-time.After(window):
	}
	c1, h1, d1 := read()
	return idleCPU{window: window, containers: c1 - c0, helpers: h1 - h0, daemon: d1 - d0}
}

// share renders CPU time used in the window as a percentage of one core.
func (u idleCPU) share(d time.Duration) string {
	if u.window == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(d)/float64(u.window), 'f', 1, 64) + "% of a core"
}

// daemonPids are dockerd's and containerd's processes.
func daemonPids() []int {
	var out []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range procs {
		raw, err := os.ReadFile(path)
		if err != nil || len(raw) == 0 {
			continue
		}
		argv0, _, _ := strings.Cut(string(raw), "\x00")
		if b := filepath.Base(argv0); b == "dockerd" || b == "containerd" {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// procCPUWithChildren is a process's user+system CPU time plus that of the
// children it has waited for (/proc/<pid>/stat fields 14–17).
func procCPUWithChildren(pid int) time.Duration { return statTicks(pid, 11, 12, 13, 14) }

// procCPU is a process's user+system CPU time so far (/proc/<pid>/stat
// fields 14–15), so the server's own cost per call can be told from time
// spent waiting.
func procCPU(pid int) time.Duration { return statTicks(pid, 11, 12) }

// statTicks sums fields of /proc/<pid>/stat, counted after the command
// name (which may hold spaces), in USER_HZ ticks of 10 ms.
func statTicks(pid int, fields ...int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) <= slices.Max(fields) {
		return 0
	}
	var ticks int64
	for _, i := range fields {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// cgroupCPU is the CPU time charged to the cgroup of a container's main
// process: cpuacct.usage (ns) on cgroup v1, cpu.stat usage_usec on v2.
func cgroupCPU(pid int) time.Duration {
	dir, v2 := cgroupDir(pid, "cpuacct")
	switch {
	case dir == "":
		return 0
	case !v2:
		b, _ := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
		n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(n)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "usage_usec "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return time.Duration(n) * time.Microsecond
		}
	}
	return 0
}

// cgroupDir is the directory of the cgroup a process belongs to: for the
// cgroup v1 controller named, or the v2 unified hierarchy (v2 true); ""
// when neither is found.
func cgroupDir(pid int, controller string) (dir string, v2 bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case strings.Contains(","+parts[1]+",", ","+controller+","):
			return filepath.Join("/sys/fs/cgroup", controller, parts[2]), false
		case parts[0] == "0" && parts[1] == "" && fileExists("/sys/fs/cgroup/cgroup.controllers"):
			return filepath.Join("/sys/fs/cgroup", parts[2]), true
		}
	}
	return "", false
}
