package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
)

const (
	// callTimeout bounds one tool call; env_up's own health wait is 5
	// minutes, a suite's timeout 5 minutes plus its image and needs.
	callTimeout = 12 * time.Minute
	// refusalBackoff is how long an agent waits after a budget refusal
	// before it calls again, as an agent told "no room" would.
	refusalBackoff = 15 * time.Second
	// maxRefusals ends an agent's loop as unfinished.
	maxRefusals = 20
	// errorKindMeta is wtenv's _meta key of an error result's kind.
	errorKindMeta = "dev.wtenv/error"
)

// call is one tool call of one agent, as the agent saw it.
type call struct {
	agent      int
	tool       string
	start, end time.Duration // from the run's start
	kind       string        // error kind from _meta; "" when the call succeeded
	msg        string        // the error's first line
	full       string        // the whole error text (a refusal lists every holder)
	adm        *stack.Admission
	passed     bool // run_e2e_tests: the suite passed
	state      string
	progress   []stamped // notifications/progress messages, from the call's start
}

func (c call) dur() time.Duration { return c.end - c.start }

// agentRun is one agent's loop.
type agentRun struct {
	plan     plan
	finished bool // every step returned without an error
	passed   int  // e2e runs that passed
	calls    []call
	err      string
}

// scenarioRun is one run of the N agents under one budget.
type scenarioRun struct {
	name, budgetEnv string
	budget          int64 // 0: unlimited
	idleAfter       time.Duration
	wall            time.Duration
	agents          []agentRun
	mem             memTrace
	serveLogs       string // directory of the serves' --log-file output
	loadStart       string // load average when the first agent started
	loadEnd         string // and when the last one was done
}

// scenario starts one `wtenv serve` per worktree with the run's budget
// and idle policy, samples memory every second, runs every agent's loop
// from its planned start, and returns what they saw. The stacks stay as
// the agents left them; the caller resets them.
func (b *bench) scenario(ctx context.Context, name, budgetEnv string, budget int64, plans []plan) (*scenarioRun, error) {
	run := &scenarioRun{name: name, budgetEnv: budgetEnv, budget: budget, idleAfter: b.cfg.agents.idleAfter, agents: make([]agentRun, len(plans))}
	run.serveLogs = filepath.Join(b.base, "agents-"+name)
	if err := os.MkdirAll(run.serveLogs, 0o755); err != nil {
		return nil, err
	}
	// In-process envs.List (the sampler's budget view) reads the budget
	// from this process's environment.
	os.Setenv("WTENV_MEMORY_BUDGET", budgetEnv)
	os.Setenv("WTENV_IDLE_AFTER", b.cfg.agents.idleAfter.String())
	defer os.Setenv("WTENV_MEMORY_BUDGET", b.cfg.budget)
	defer os.Unsetenv("WTENV_IDLE_AFTER")
	sessions := make([]*agentSession, len(plans))
	defer func() {
		for _, s := range sessions {
			s.close()
		}
	}()
	for i := range plans {
		s, err := b.startAgentServe(ctx, b.trees[i], filepath.Join(run.serveLogs, fmt.Sprintf("serve-%02d.log", i+1)))
		if err != nil {
			return nil, err
		}
		sessions[i] = s
	}
	b.logf("agents: %s run (WTENV_MEMORY_BUDGET=%s, WTENV_IDLE_AFTER=%s): %d agents", name, budgetEnv, b.cfg.agents.idleAfter, len(plans))
	run.loadStart = loadAvg()
	t0 := time.Now()
	active := &activeCount{}
	smp := b.sampleMemory(ctx, t0, active)
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(p.start):
			}
			run.agents[i] = b.agentLoop(ctx, i, p, sessions[i], t0, active)
		})
	}
	wg.Wait()
	run.wall = time.Since(t0)
	run.mem = smp.finish()
	run.loadEnd = loadAvg()
	return run, ctx.Err()
}

// agentSession is one agent's client session, with the progress
// messages of its calls, by progress token.
type agentSession struct {
	*serveSession
	mu       sync.Mutex
	seq      int
	started  map[string]time.Time
	messages map[string][]stamped
}

func (s *agentSession) close() {
	if s != nil {
		s.serveSession.close()
	}
}

// token starts recording a call's progress and returns its token.
func (s *agentSession) token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	t := fmt.Sprint(s.seq)
	s.started[t] = time.Now()
	return t
}

func (s *agentSession) progress(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := fmt.Sprint(req.Params.ProgressToken)
	if start, ok := s.started[t]; ok {
		s.messages[t] = append(s.messages[t], stamped{at: time.Since(start), text: req.Params.Message})
	}
}

// take returns and forgets a call's progress messages.
func (s *agentSession) take(t string) []stamped {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.messages[t]
	delete(s.messages, t)
	delete(s.started, t)
	return out
}

// startAgentServe starts `wtenv serve` on one worktree, as an agent's
// host registers it, with its log in logPath (stderr too, for a crash).
// Its calls carry a progress token, so wtenv reports their steps.
func (b *bench) startAgentServe(ctx context.Context, root, logPath string) (*agentSession, error) {
	as := &agentSession{started: map[string]time.Time{}, messages: map[string][]stamped{}}
	client := mcp.NewClient(&mcp.Implementation{Name: "wtenvbench-agent", Version: "1"},
		&mcp.ClientOptions{ProgressNotificationHandler: as.progress})
	cmd := exec.Command(b.wtenv, "serve", "--worktree", root, "--log-file", logPath)
	cmd.Env = os.Environ()
	f, err := os.Create(logPath + ".stderr")
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child keeps its own descriptor
	cmd.Stderr = f
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to wtenv serve in %s: %w", root, err)
	}
	as.serveSession = &serveSession{cs: cs, cmd: cmd}
	return as, nil
}

// agentLoop is one agent: env_up, run_e2e_tests, idle, run_e2e_tests. A
// budget refusal is retried after refusalBackoff (each one recorded); any
// other error ends the loop unfinished.
func (b *bench) agentLoop(ctx context.Context, i int, p plan, s *agentSession, t0 time.Time, active *activeCount) agentRun {
	a := agentRun{plan: p}
	steps := []string{"env_up", "run_e2e_tests", "", "run_e2e_tests"}
	for _, tool := range steps {
		if tool == "" {
			select {
			case <-ctx.Done():
				a.err = ctx.Err().Error()
				return a
			case <-time.After(p.idle):
			}
			continue
		}
		for refusals := 0; ; refusals++ {
			active.add(1)
			c := agentCall(ctx, s, i, tool, t0)
			active.add(-1)
			a.calls = append(a.calls, c)
			b.logf("agents: agent %02d %s %s%s", i+1, tool, dur(c.dur()), c.note())
			if c.kind == "budget_refused" {
				// The holders and their idle times: the evidence of why.
				fmt.Fprintln(os.Stderr, "        "+strings.ReplaceAll(c.full, "\n", "\n        "))
			}
			if c.kind == "budget_refused" && refusals < maxRefusals && ctx.Err() == nil {
				time.Sleep(refusalBackoff)
				continue
			}
			if c.kind != "" {
				a.err = fmt.Sprintf("%s: %s: %s", tool, c.kind, c.msg)
				return a
			}
			if c.passed {
				a.passed++
			}
			break
		}
	}
	a.finished = true
	return a
}

// note renders what admission did and how the call ended, for the log.
func (c call) note() string {
	var parts []string
	if c.kind != "" {
		parts = append(parts, c.kind+": "+c.msg)
	}
	if c.adm != nil {
		if c.adm.Woke {
			parts = append(parts, fmt.Sprintf("woke in %d ms", c.adm.WakeMS))
		}
		for _, e := range c.adm.Evicted {
			parts = append(parts, fmt.Sprintf("evicted %s (idle %ds)", e.Branch, e.IdleSeconds))
		}
	}
	if c.tool == "run_e2e_tests" && c.kind == "" {
		parts = append(parts, fmt.Sprintf("passed %t", c.passed))
	}
	if len(parts) == 0 {
		return ""
	}
	return " — " + strings.Join(parts, ", ")
}

// agentCall makes one tool call and reads the admission and outcome from
// its structured result, or the error kind from its _meta.
func agentCall(ctx context.Context, s *agentSession, agent int, tool string, t0 time.Time) call {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c := call{agent: agent, tool: tool, start: time.Since(t0)}
	params := &mcp.CallToolParams{Name: tool}
	tok := s.token()
	params.SetProgressToken(tok)
	res, err := s.cs.CallTool(ctx, params)
	c.end = time.Since(t0)
	c.progress = s.take(tok)
	switch {
	case err != nil:
		c.kind, c.msg = "protocol", err.Error()
		return c
	case res.IsError:
		c.kind = "failed"
		if m, ok := res.Meta[errorKindMeta].(map[string]any); ok {
			if k, ok := m["kind"].(string); ok {
				c.kind = k
			}
		}
		for _, ct := range res.Content {
			if t, ok := ct.(*mcp.TextContent); ok {
				c.full = t.Text
				c.msg, _, _ = strings.Cut(t.Text, "\n")
				break
			}
		}
		return c
	}
	raw, _ := json.Marshal(res.StructuredContent)
	if tool == "env_up" {
		var st stack.Stack
		_ = json.Unmarshal(raw, &st)
		c.adm, c.state = st.Admission, st.State
	} else {
		var tr runner.TestRun
		_ = json.Unmarshal(raw, &tr)
		c.adm, c.passed = tr.Admission, tr.Passed
	}
	return c
}

// activeCount is how many agents are inside a tool call right now.
type activeCount struct {
	mu sync.Mutex
	n  int
}

func (a *activeCount) add(d int) {
	a.mu.Lock()
	a.n += d
	a.mu.Unlock()
}

func (a *activeCount) get() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}
