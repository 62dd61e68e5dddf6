// Package stack holds the JSON shapes that wtenv's CLI (--json) and its MCP
// tools (structuredContent) share. They are the contract of DESIGN.md; a
// field renamed here is a breaking change for every client.
package stack

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker/go-units"
)

// States of a stack or of one of its services.
const (
	StateAbsent  = "absent"  // nothing of the stack exists on the engine
	StatePartial = "partial" // some services run, others are stopped or missing
	StateRunning = "running" // every service that up starts is running
	StateStopped = "stopped" // containers exist, none runs
	StateAsleep  = "asleep"  // put to sleep: containers, data, names and ports kept, none runs, no memory held
	// StateUnreachable: the stack lives on an engine of the pool that
	// does not answer; what it holds there is unknown, not gone.
	StateUnreachable = "unreachable"
)

// EngineRef names the engine a stack lives on: its name in the engines
// file ("default" without one) and its address.
type EngineRef struct {
	Name string `json:"name" jsonschema:"the engine's name in the engines file, default without one"`
	Host string `json:"host" jsonschema:"the engine's address"`
}

// Stack is one worktree's compose stack as the engine sees it.
type Stack struct {
	Project     string    `json:"project" jsonschema:"compose project name derived from repository, branch and worktree path"`
	Worktree    string    `json:"worktree" jsonschema:"absolute root of the worktree this stack belongs to"`
	Branch      string    `json:"branch" jsonschema:"branch of the worktree as git spells it"`
	State       string    `json:"state" jsonschema:"absent, partial, running, stopped, asleep, or unreachable (its engine does not answer)"`
	Engine      EngineRef `json:"engine" jsonschema:"the engine the stack lives on, or will be placed on"`
	Services    []Service `json:"services" jsonschema:"one entry per service container"`
	MemoryBytes int64     `json:"memory_bytes" jsonschema:"measured memory of all the stack's containers"`
	// SharedMemoryBytes is the stack's share of the shared services it
	// uses, not in MemoryBytes: the budget counts a shared service once.
	SharedMemoryBytes int64    `json:"shared_memory_bytes,omitempty" jsonschema:"this worktree's share of the shared services it uses (not in memory_bytes)"`
	Warnings          []string `json:"warnings,omitempty" jsonschema:"rewrites wtenv made to keep the stack isolated, and resources it shares"`
	Budget            Budget   `json:"budget" jsonschema:"machine-wide memory budget"`
	// Admission is set when bringing the stack up woke it or put other
	// stacks to sleep to make room.
	Admission *Admission `json:"admission,omitempty" jsonschema:"what admission did to run this call: woke this stack, put idle stacks to sleep"`
}

// Admission is what admission did for a call that needed the stack
// running: whether it woke the stack and how long that took, and which
// idle stacks it put to sleep to make room.
type Admission struct {
	Woke    bool       `json:"woke" jsonschema:"the stack was asleep and was woken"`
	WakeMS  int64      `json:"wake_ms,omitempty" jsonschema:"how long the wake took, from starting its containers to healthy"`
	Evicted []Eviction `json:"evicted,omitempty" jsonschema:"idle stacks put to sleep to make room, least recently used first"`
}

// Eviction is one stack admission put to sleep.
type Eviction struct {
	Project     string `json:"project"`
	Branch      string `json:"branch"`
	Worktree    string `json:"worktree"`
	FreedBytes  int64  `json:"freed_bytes" jsonschema:"memory its sleep returned to the budget"`
	IdleSeconds int64  `json:"idle_seconds" jsonschema:"how long no wtenv call had used it"`
}

// Service is one service's container.
type Service struct {
	Name        string `json:"name"`
	State       string `json:"state" jsonschema:"container state: created, running, exited, restarting, missing"`
	Health      string `json:"health,omitempty" jsonschema:"healthy, unhealthy or starting when the service has a healthcheck"`
	ExitCode    int    `json:"exit_code"`
	Container   string `json:"container"`
	Ports       []Port `json:"ports"`
	MemoryBytes int64  `json:"memory_bytes"`
	// Shared is set on a service that runs once for all worktrees of the
	// repository (share: in wtenv.yaml); MemoryBytes is then this
	// worktree's share of it.
	Shared *SharedUse `json:"shared,omitempty" jsonschema:"set when the service runs once for all worktrees of the repository; memory_bytes is then this worktree's share"`
}

// SharedUse is how a worktree uses a shared service.
type SharedUse struct {
	Project           string   `json:"project" jsonschema:"the shared stack's compose project"`
	Databases         []string `json:"databases,omitempty" jsonschema:"this worktree's own databases in it"`
	Worktrees         int      `json:"worktrees" jsonschema:"how many worktrees use it"`
	ServerMemoryBytes int64    `json:"server_memory_bytes" jsonschema:"what the shared service holds in all, counted once in the budget"`
}

// Port is one published container port.
type Port struct {
	ContainerPort int    `json:"container_port"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"host_ip"`
	HostPort      int    `json:"host_port"`
	URL           string `json:"url,omitempty" jsonschema:"http URL on the host for TCP ports"`
}

// Budget is the machine-wide memory budget. Zero values mean no budget is
// enforced yet.
type Budget struct {
	LimitBytes int64 `json:"limit_bytes"`
	UsedBytes  int64 `json:"used_bytes"`
	FreeBytes  int64 `json:"free_bytes"`
	// AsleepBytes is what the asleep stacks held when they were put to
	// sleep: memory they need again when they wake. It is not used.
	AsleepBytes  int64 `json:"asleep_bytes,omitempty" jsonschema:"memory the asleep stacks held when put to sleep, not counted as used"`
	AsleepStacks int   `json:"asleep_stacks,omitempty" jsonschema:"how many stacks are asleep"`
}

// Down reports what a down removed.
type Down struct {
	Project string  `json:"project"`
	Removed Removed `json:"removed"`
}

// Removed counts removed resources by kind.
type Removed struct {
	Containers int `json:"containers"`
	Networks   int `json:"networks"`
	Volumes    int `json:"volumes"`
	Images     int `json:"images"`
}

// List is every wtenv stack on the engine.
type List struct {
	Stacks []Summary `json:"stacks"`
	Budget Budget    `json:"budget"`
	// Engines is set with an engines file: each engine of the pool with
	// its own budget; Budget is then their sum over those that answer.
	Engines []EngineStatus `json:"engines,omitempty"`
}

// Engines is the pool of engines wtenv places stacks on (wtenv engines).
type Engines struct {
	// File is the engines file; empty without one (the pool is then the
	// engine Docker's settings name).
	File    string         `json:"file,omitempty"`
	Engines []EngineStatus `json:"engines"`
}

// EngineStatus is one engine of the pool: whether it answers, its budget
// and what it holds.
type EngineStatus struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// Local says the engine runs on this machine (or in its Docker VM).
	Local  bool   `json:"local"`
	Budget Budget `json:"budget"`
	// Stacks counts every wtenv stack on it, Mine those of this
	// machine's worktrees.
	Stacks      int   `json:"stacks"`
	Mine        int   `json:"this_machine_stacks"`
	MemoryBytes int64 `json:"memory_bytes"`
}

// Summary is one stack in a List.
type Summary struct {
	Project     string `json:"project"`
	Worktree    string `json:"worktree"`
	Branch      string `json:"branch"`
	State       string `json:"state"`
	MemoryBytes int64  `json:"memory_bytes"`
	// Engine names the engine of the pool the stack runs on (set with an
	// engines file).
	Engine string `json:"engine,omitempty"`
}

// Logs is the last lines of a stack's services.
type Logs struct {
	Project string `json:"project"`
	Service string `json:"service,omitempty"`
	Tail    int    `json:"tail"`
	Text    string `json:"text" jsonschema:"log lines, each prefixed with its service name"`
}

// GC reports what gc removed, or would remove with --dry-run: the stacks
// whose worktree is gone or no longer a worktree of its repository, one-off
// test containers left past their timeout, and the state entries (port
// blocks, reservations) of the worktrees that are gone.
type GC struct {
	DryRun    bool       `json:"dry_run"`
	Stacks    []GCStack  `json:"stacks"`
	OneOffs   []GCOneOff `json:"one_offs"`
	Forgotten []string   `json:"forgotten"`
	Skipped   []GCStack  `json:"skipped,omitempty"` // orphaned, but a wtenv process is working on it now
	// Unreachable names the engines of the pool that did not answer, so
	// gc judged nothing there.
	Unreachable []string `json:"unreachable,omitempty"`
}

// GCStack is a stack gc collected, and why.
type GCStack struct {
	Project  string `json:"project"`
	Worktree string `json:"worktree"`
	Branch   string `json:"branch"`
	Reason   string `json:"reason"`
}

// GCOneOff is a one-off test container gc removed.
type GCOneOff struct {
	Project   string    `json:"project"`
	Container string    `json:"container"`
	Deadline  time.Time `json:"deadline"`
}

// Address is where to reach the port from the host: its URL, or
// host:port/protocol when it has none (UDP).
func (p Port) Address() string {
	if p.URL != "" {
		return p.URL
	}
	return fmt.Sprintf("%s:%d/%s", p.HostIP, p.HostPort, p.Protocol)
}

// Mappings renders a service's ports as "address -> container port".
func (s Service) Mappings() string {
	parts := make([]string, len(s.Ports))
	for i, p := range s.Ports {
		parts[i] = fmt.Sprintf("%s -> %d", p.Address(), p.ContainerPort)
	}
	return strings.Join(parts, ", ")
}

// Lines says what admission did, one sentence a line, for people and for
// models that read only text; nil when it did nothing.
func (a *Admission) Lines() []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, ev := range a.Evicted {
		out = append(out, fmt.Sprintf("Put %s (branch %s, idle %s) to sleep to make room, freeing %s.",
			ev.Project, ev.Branch, time.Duration(ev.IdleSeconds)*time.Second, units.BytesSize(float64(ev.FreedBytes))))
	}
	if a.Woke {
		out = append(out, fmt.Sprintf("Woke the stack from sleep in %.1fs.", float64(a.WakeMS)/1000))
	}
	return out
}

// Merge adds what admission did in a later step of the same call.
func (a *Admission) Merge(b *Admission) *Admission {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	}
	out := *a
	out.Evicted = append(append([]Eviction(nil), a.Evicted...), b.Evicted...)
	if b.Woke && !a.Woke {
		out.Woke, out.WakeMS = true, b.WakeMS
	}
	return &out
}
