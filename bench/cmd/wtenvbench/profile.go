package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wtenv/wtenv/envs"
)

// profiles are where CPU goes in a status call, a warm up, and a wtenv
// process's start: the three things the CLI's and env_status's times are
// made of.
type profiles struct {
	status, warmUp []string // top of `go tool pprof -top -cum`
	statusN, upN   int
	initTotal      time.Duration // package initialisation, summed
	initEnd        time.Duration // when the last package init started, from process start
	initTop        []string      // slowest package inits
}

// profileInProcess runs n in-process Status calls and n/4 warm Ups under
// the CPU profiler, and summarizes each profile with go tool pprof.
func profileInProcess(ctx context.Context, dir, root string, n int) (profiles, error) {
	pr := profiles{statusN: n, upN: max(n/4, 5)}
	env, err := envs.Open(ctx, root)
	if err != nil {
		return pr, err
	}
	defer env.Close()
	if pr.status, err = cpuProfile(ctx, filepath.Join(dir, "status.pprof"), pr.statusN, func() error {
		_, err := env.Status(ctx)
		return err
	}); err != nil {
		return pr, err
	}
	pr.warmUp, err = cpuProfile(ctx, filepath.Join(dir, "warm-up.pprof"), pr.upN, func() error {
		_, err := env.Up(ctx, envs.UpOptions{})
		return err
	})
	return pr, err
}

// cpuProfile profiles n calls of fn and returns the top cumulative entries,
// leaving out the runtime's and this harness's own frames.
func cpuProfile(ctx context.Context, path string, n int, fn func() error) ([]string, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	for range n {
		if err := fn(); err != nil {
			pprof.StopCPUProfile()
			f.Close()
			return nil, err
		}
	}
	pprof.StopCPUProfile()
	f.Close()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, err := runQuiet(ctx, "", "go", "tool", "pprof", "-top", "-cum", "-nodecount=80", exe, path)
	if err != nil {
		return nil, err
	}
	var top []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Showing nodes") || strings.HasPrefix(line, "Duration:"):
			top = append(top, strings.TrimSpace(line))
		case len(f) == 6 && strings.HasSuffix(f[4], "%") && interesting(f[5]) && len(top) < 30:
			top = append(top, line)
		}
	}
	return top, nil
}

// interesting drops frames that say nothing about wtenv's own work: the
// scheduler, the harness, the closures the profile loop calls.
func interesting(fn string) bool {
	for _, p := range []string{"runtime.", "main.", "sync.", "internal/", "golang.org/x/sync/errgroup"} {
		if strings.HasPrefix(fn, p) {
			return false
		}
	}
	return true
}

// initTrace runs `wtenv help` with GODEBUG=inittrace=1, which prints one
// line per package initialised: "init pkg @start ms, clock ms, bytes, allocs".
func (b *bench) initTrace(ctx context.Context, pr *profiles) error {
	cmd := exec.CommandContext(ctx, b.wtenv, "help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, _ := cmd.CombinedOutput() // help exits 0; the trace is what matters
	type pkg struct {
		name  string
		clock float64
	}
	var pkgs []pkg
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "init" || !strings.HasPrefix(f[2], "@") {
			continue
		}
		at, _ := strconv.ParseFloat(strings.TrimPrefix(f[2], "@"), 64)
		clock, _ := strconv.ParseFloat(f[4], 64)
		pr.initEnd = max(pr.initEnd, time.Duration(at*float64(time.Millisecond)))
		pr.initTotal += time.Duration(clock * float64(time.Millisecond))
		pkgs = append(pkgs, pkg{f[1], clock})
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].clock > pkgs[j].clock })
	for _, p := range pkgs[:min(len(pkgs), 8)] {
		pr.initTop = append(pr.initTop, p.name+" "+strconv.FormatFloat(p.clock, 'f', 1, 64)+" ms")
	}
	return nil
}
