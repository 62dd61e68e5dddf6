package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/mem"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/state"
)

// step is one part of a status call and its median over the repetitions.
type step struct {
	name string
	d    samples
}

// statusBreakdown repeats, in-process and in order, the steps env_status
// (envs.Env.Status) takes, each timed on its own, next to whole Status
// calls, so the report can say where a status call's time goes. It also
// times what only the CLI pays: opening the worktree and connecting to the
// engine. The stack must be running.
func statusBreakdown(ctx context.Context, root string, n int) ([]step, samples, error) {
	env, err := envs.Open(ctx, root)
	if err != nil {
		return nil, nil, err
	}
	defer env.Close()
	eng, err := engine.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer eng.Close()
	store, err := state.Open(os.Getenv("WTENV_STATE_DIR"))
	if err != nil {
		return nil, nil, err
	}
	scope := engine.Scope{Project: env.Project, Worktree: env.Worktree.Root}
	names := []string{"envs.Open (CLI only: git worktree, state, engine connect)", "wtenv.yaml (compose.LoadConfig)",
		"compose file (compose.Load)", "isolate (compose.Isolate)", "list + cgroup memory of every wtenv container, inspect of this stack's (engine.Snapshot)",
		"state file read (state.Store.Read)", "host memory (gopsutil mem.VirtualMemory)"}
	steps := make([]step, len(names))
	var whole samples
	for range n {
		var ds []time.Duration
		t := time.Now()
		lap := func() { ds = append(ds, time.Since(t)); t = time.Now() }
		e2, err := envs.Open(ctx, root)
		if err != nil {
			return nil, nil, err
		}
		lap()
		e2.Close()
		t = time.Now()
		cfg, err := compose.LoadConfig(root)
		if err != nil {
			return nil, nil, err
		}
		lap()
		p, err := compose.Load(ctx, root, cfg, env.Project)
		if err != nil {
			return nil, nil, err
		}
		lap()
		if _, err := compose.Isolate(p, env.Project, make([]int, len(compose.Published(p))), root); err != nil {
			return nil, nil, err
		}
		lap()
		if _, err := eng.Snapshot(ctx, scope); err != nil {
			return nil, nil, err
		}
		lap()
		if _, err := store.Read(ctx); err != nil {
			return nil, nil, err
		}
		lap()
		if _, err := mem.VirtualMemoryWithContext(ctx); err != nil {
			return nil, nil, err
		}
		lap()
		for i, d := range ds {
			steps[i].d = append(steps[i].d, d)
		}
		t0 := time.Now()
		if _, err := env.Status(ctx); err != nil {
			return nil, nil, err
		}
		whole = append(whole, time.Since(t0))
	}
	for i := range steps {
		steps[i].name = names[i]
	}
	return steps, whole, nil
}

// inProcess times envs.Env calls on an Env opened once, as the MCP server
// holds one: Status, and Up on the running, unchanged stack with its step
// messages stamped, so the difference to the CLI is the process's own cost.
type inProcess struct {
	status, warmUp samples
	warmLines      []stamped // of the median warm up
}

func measureInProcess(ctx context.Context, root string, n int) (inProcess, error) {
	var r inProcess
	env, err := envs.Open(ctx, root)
	if err != nil {
		return r, err
	}
	defer env.Close()
	for range n {
		t0 := time.Now()
		st, err := env.Status(ctx)
		if err != nil {
			return r, err
		}
		if st.State != "running" {
			return r, fmt.Errorf("in-process status: stack is %s", st.State)
		}
		r.status = append(r.status, time.Since(t0))
	}
	var runs [][]stamped
	for range max(n/4, 3) {
		var mu sync.Mutex
		var lines []stamped
		t0 := time.Now()
		progress := func(msg string) {
			mu.Lock()
			lines = append(lines, stamped{at: time.Since(t0), text: msg})
			mu.Unlock()
		}
		if _, err := env.Up(ctx, envs.UpOptions{Progress: progress}); err != nil {
			return r, err
		}
		d := time.Since(t0)
		r.warmUp = append(r.warmUp, d)
		runs = append(runs, append(lines, stamped{at: d, text: "(Up returned)"}))
	}
	r.warmLines = runs[medianIndex(r.warmUp)]
	return r, nil
}

// medianIndex is the index of the sample closest to the median, so a
// timeline shown is that of a typical run, not an outlier.
func medianIndex(s samples) int {
	m, best := s.median(), 0
	for i, d := range s {
		if (d - m).Abs() < (s[best] - m).Abs() {
			best = i
		}
	}
	return best
}
