package main

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine are the facts a reader needs to judge the figures.
type machine struct {
	date, cores, memory, kernel, engine, storage   string
	compose, goVersion, commit, loadStart, loadEnd string
}

func (b *bench) machineFacts(ctx context.Context) machine {
	m := machine{date: time.Now().UTC().Format("2006-01-02 15:04 MST")}
	m.cores = strconv.Itoa(runtime.NumCPU())
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				m.memory = strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:"))
			}
		}
	}
	m.kernel = firstLine(os.ReadFile("/proc/sys/kernel/osrelease"))
	m.engine = quiet(ctx, "docker", "version", "--format", "Docker Engine {{.Server.Version}} (API {{.Server.APIVersion}}), {{.Server.Os}}/{{.Server.Arch}}")
	m.storage = quiet(ctx, "docker", "info", "--format", "storage driver {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}} driver), userland proxy: see docker-proxy processes below")
	m.compose = b.compose.variant + " " + b.compose.version
	m.goVersion = quiet(ctx, "go", "version")
	m.commit = quiet(ctx, "git", "-C", b.repo, "rev-parse", "--short", "HEAD")
	if s := quiet(ctx, "git", "-C", b.repo, "status", "--porcelain", "--untracked-files=no"); s != "" {
		m.commit += " plus uncommitted changes in the working tree"
	}
	m.loadStart = loadAvg()
	return m
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute figures: on a shared
// machine they say how quiet it was while the figures were taken.
func loadAvg() string {
	f := strings.Fields(firstLine(os.ReadFile("/proc/loadavg")))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func quiet(ctx context.Context, argv ...string) string {
	out, err := runQuiet(ctx, "", argv...)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(out)
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// awaitQuiet waits, for at most -quiet-wait, until the machine is quiet:
// on average over a second no more runnable tasks than cores (plus one for
// the harness). On a machine shared with other test runs, a round taken at
// a quieter moment measures wtenv rather than the neighbours; the load at
// each round's start is reported either way.
func (b *bench) awaitQuiet(ctx context.Context) {
	if b.cfg.quietWait <= 0 {
		return
	}
	deadline := time.Now().Add(b.cfg.quietWait)
	for {
		running := runnable(ctx)
		if running <= float64(runtime.NumCPU()+1) {
			return
		}
		if time.Now().After(deadline) {
			b.logf("the machine stays busy (%.0f runnable tasks on %d cores); going on", running, runtime.NumCPU())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// runnable averages procs_running of /proc/stat over ten samples in a
// second: the load right now, which the load average only shows minutes
// later.
func runnable(ctx context.Context) float64 {
	var sum float64
	for range 10 {
		raw, _ := os.ReadFile("/proc/stat")
		for _, l := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(l, "procs_running "); ok {
				n, _ := strconv.ParseFloat(v, 64)
				sum += n
			}
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(100 * time.Millisecond):
		}
	}
	return sum / 10
}
