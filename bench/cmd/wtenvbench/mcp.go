package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/wtenv/wtenv/envs/stack"
)

// serveSession is `wtenv serve` bound to one worktree, driven over stdio
// by the official MCP go-sdk client, the way an agent's client drives it.
type serveSession struct {
	cs  *mcp.ClientSession
	cmd *exec.Cmd
}

// startServe starts the server; with gcTrace its runtime prints a line per
// garbage collection (GODEBUG=gctrace=1) to base/<logName>.gctrace, which
// tells how much of its resident memory is live heap.
func (b *bench) startServe(ctx context.Context, root, logName string, gcTrace bool) (*serveSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "wtenvbench", Version: "1"}, nil)
	cmd := exec.Command(b.wtenv, "serve", "--worktree", root, "--log-file", filepath.Join(b.base, logName))
	cmd.Env = os.Environ()
	if gcTrace {
		f, err := os.Create(filepath.Join(b.base, logName+".gctrace"))
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child keeps its own descriptor
		cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
		cmd.Stderr = f
	}
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to wtenv serve: %w", err)
	}
	return &serveSession{cs: cs, cmd: cmd}, nil
}

func (s *serveSession) pid() int { return s.cmd.Process.Pid }

func (s *serveSession) close() {
	if s != nil && s.cs != nil {
		s.cs.Close()
	}
}

// call times one tool call from request to decoded result and returns the
// Stack it carries (for env_up and env_status).
func (s *serveSession) call(ctx context.Context, tool string, args map[string]any) (time.Duration, stack.Stack, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var st stack.Stack
	t0 := time.Now()
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	d := time.Since(t0)
	if err != nil {
		return d, st, fmt.Errorf("%s: %w", tool, err)
	}
	if res.IsError {
		var msg []string
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				msg = append(msg, t.Text)
			}
		}
		return d, st, fmt.Errorf("%s returned an error: %s", tool, strings.Join(msg, "\n"))
	}
	raw, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(raw, &st)
	return d, st, nil
}

// procStatus reads the memory lines of /proc/<pid>/status, in bytes:
// VmRSS (resident now), VmHWM (peak resident), RssAnon (heap, stacks),
// RssFile (mapped binary and files).
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 2 && fields[1] == "kB" {
			n, _ := strconv.ParseInt(fields[0], 10, 64)
			out[k] = n * 1024
		}
	}
	return out, sc.Err()
}

// sampler reads a process's VmRSS every interval until stopped and keeps
// the largest value: the peak an env_up costs the server.
type sampler struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	peak  int64
	count int
}

func sampleRSS(pid int, every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := procStatus(pid); err == nil {
				s.mu.Lock()
				s.peak, s.count = max(s.peak, m["VmRSS"]), s.count+1
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) finish() (peak int64, count int) {
	close(s.stop)
	<-s.done
	return s.peak, s.count
}

// serveMemory is the footprint of `wtenv serve` itself.
type serveMemory struct {
	idleStart, idleAfterUse   map[string]int64 // /proc status lines
	peakUp                    int64            // sampled VmRSS peak during a cold env_up
	peakSamples               int
	hwm                       int64 // VmHWM at the end: the lifetime peak
	envUp, envUpWarm, envDown time.Duration
	binarySize                int64
	lastGC                    string // the heap figures of the server's last garbage collection
}

// lastGC returns the heap part of the last gctrace line ("4->4->2 MB, 4 MB
// goal"): heap at GC start, at GC end, live after it, and the next goal.
func lastGC(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	out, n := "", 0
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		n++
		for _, part := range strings.Split(line, ", ") {
			if strings.Contains(part, "->") || strings.HasSuffix(part, "MB goal") {
				if strings.Contains(part, "->") {
					out = part
				} else {
					out += ", " + part
				}
			}
		}
	}
	if out == "" {
		return ""
	}
	return out + " (after " + strconv.Itoa(n) + " collections)"
}

// settle is how long the server sits untouched before an idle reading, so
// the reading is of an idle process, not of one finishing a call.
const settle = 2 * time.Second

// measureServe starts a fresh server on the A/B worktree (its stack is
// absent, with no volume), reads its idle memory, samples it every 20 ms
// through a cold env_up, reads it idle again after env_status calls, and
// takes the stack down.
func (b *bench) measureServe(ctx context.Context) (serveMemory, error) {
	var m serveMemory
	if fi, err := os.Stat(b.wtenv); err == nil {
		m.binarySize = fi.Size()
	}
	s, err := b.startServe(ctx, b.shop, "serve-memory.log", true)
	if err != nil {
		return m, err
	}
	defer s.close()
	time.Sleep(settle)
	if m.idleStart, err = procStatus(s.pid()); err != nil {
		return m, err
	}
	smp := sampleRSS(s.pid(), 20*time.Millisecond)
	d, st, err := s.call(ctx, "env_up", nil)
	m.peakUp, m.peakSamples = smp.finish()
	m.envUp = d
	if err != nil {
		return m, err
	}
	if st.State != stack.StateRunning {
		return m, fmt.Errorf("env_up: stack is %s", st.State)
	}
	if m.envUpWarm, _, err = s.call(ctx, "env_up", nil); err != nil {
		return m, err
	}
	for range 10 {
		if _, _, err := s.call(ctx, "env_status", nil); err != nil {
			return m, err
		}
	}
	time.Sleep(settle)
	if m.idleAfterUse, err = procStatus(s.pid()); err != nil {
		return m, err
	}
	m.hwm = m.idleAfterUse["VmHWM"]
	m.lastGC = lastGC(filepath.Join(b.base, "serve-memory.log.gctrace"))
	if m.envDown, _, err = s.call(ctx, "env_down", nil); err != nil {
		return m, err
	}
	return m, b.removeVolumes(ctx, "dev.wtenv.worktree="+b.shop)
}
