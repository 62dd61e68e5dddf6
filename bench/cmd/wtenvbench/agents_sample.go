package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
)

// memEvery is how often the memory held is sampled during an agents run.
const memEvery = time.Second

// memSample is one reading of the memory the run's stacks hold.
type memSample struct {
	at       time.Duration
	services int64 // the run's service containers: what the budget governs
	oneOffs  int64 // the run's one-off test containers (outside the budget)
	others   int64 // other wtenv stacks on the engine (other users of the engine)
	running  int   // the run's stacks with a running service container
	active   int   // agents inside a tool call
	used     int64 // wtenv's own view: the budget's used_bytes (env_list)
	asleep   int   // wtenv's own view: stacks asleep
}

// memTrace is every sample of a run.
type memTrace struct {
	samples []memSample
	listErr string // the last env_list error, if any
}

type memSampler struct {
	stop, done chan struct{}
	mu         sync.Mutex
	trace      memTrace
}

// sampleMemory reads, every memEvery until finished, the cgroup memory of
// every running wtenv container on the engine (each container's cgroup is
// found once, through its main process) split into the run's service
// containers, the run's test containers and everything else; and wtenv's
// own budget view through an in-process envs.List, which reads without
// touching any stack (a status would make it look used, and never idle).
func (b *bench) sampleMemory(ctx context.Context, t0 time.Time, active *activeCount) *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	mine := b.base + string(filepath.Separator)
	dirs := map[string]string{} // container ID → memory cgroup directory
	go func() {
		defer close(s.done)
		t := time.NewTicker(memEvery)
		defer t.Stop()
		for {
			m := memSample{at: time.Since(t0), active: active.get()}
			b.readContainers(ctx, mine, dirs, &m)
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			l, err := envs.List(lctx)
			cancel()
			s.mu.Lock()
			if err == nil {
				m.used, m.asleep = l.Budget.UsedBytes, l.Budget.AsleepStacks
			} else {
				s.trace.listErr = err.Error()
			}
			s.trace.samples = append(s.trace.samples, m)
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// readContainers fills m's container figures.
func (b *bench) readContainers(ctx context.Context, mine string, dirs map[string]string, m *memSample) {
	f := client.Filters{}.Add("label", "dev.wtenv.worktree")
	res, err := b.api.ContainerList(ctx, client.ContainerListOptions{Filters: f})
	if err != nil {
		return
	}
	running := map[string]bool{}
	seen := map[string]bool{}
	for _, c := range res.Items {
		seen[c.ID] = true
		dir, ok := dirs[c.ID]
		if !ok {
			insp, err := b.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if err != nil || insp.Container.State == nil || insp.Container.State.Pid <= 0 {
				continue
			}
			dir, _ = cgroupDir(insp.Container.State.Pid, "memory")
			dirs[c.ID] = dir
		}
		bytes := cgroupDirMemory(dir)
		switch {
		case !strings.HasPrefix(c.Labels["dev.wtenv.worktree"], mine):
			m.others += bytes
		case c.Labels["com.docker.compose.oneoff"] == "True":
			m.oneOffs += bytes
		default:
			m.services += bytes
			running[c.Labels["com.docker.compose.project"]] = true
		}
	}
	for id := range dirs {
		if !seen[id] {
			delete(dirs, id) // stopped: a restart gets a new process
		}
	}
	m.running = len(running)
}

// cgroupDirMemory is cgroupMemory for a known cgroup directory.
func cgroupDirMemory(dir string) int64 {
	switch {
	case dir == "":
		return 0
	case fileExists(dir + "/memory.usage_in_bytes"):
		return usageLess(dir+"/memory.usage_in_bytes", dir+"/memory.stat", "total_inactive_file")
	}
	return usageLess(dir+"/memory.current", dir+"/memory.stat", "inactive_file")
}

func (s *memSampler) finish() memTrace {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trace
}

// peak returns the sample with the largest value of f.
func (t memTrace) peak(f func(memSample) int64) memSample {
	var best memSample
	for _, s := range t.samples {
		if f(s) > f(best) {
			best = s
		}
	}
	return best
}

// over counts the samples in which f exceeds limit.
func (t memTrace) over(f func(memSample) int64, limit int64) int {
	n := 0
	for _, s := range t.samples {
		if limit > 0 && f(s) > limit {
			n++
		}
	}
	return n
}
