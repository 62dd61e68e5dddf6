package main

import (
	"fmt"
	"strings"
	"time"
)

// report is everything results.md shows.
type report struct {
	cfg      config
	command  string
	machine  machine
	services []string
	// concServices are what each concurrent stack runs.
	concServices []string
	builds       []string
	compose      composeCLI
	setup        map[string]time.Duration
	base         string
	ab           *abResult
	serve        serveMemory
	conc         *concResult
	serveErr     string // the serve phase failed: why
	concErr      string // the concurrent phase failed: why
	elapsed      time.Duration
}

// Targets (issue 8). They are read from the results, never asserted.
const (
	targetColdRatio = 1.0
	targetWarm      = 300 * time.Millisecond
	targetStatus    = 50 * time.Millisecond
	targetServeRSS  = 25_000_000 // bytes: 25 MB
)

type target struct {
	name, measured string
	met            bool
	why            string // where to look when missed
}

func (r *report) targets() []target {
	ab := r.ab
	cold := float64(ab.wtenv.cold.median()) / float64(ab.compose.cold.median())
	idle := max(r.serve.idleStart["VmRSS"], r.serve.idleAfterUse["VmRSS"])
	return []target{
		{"cold up ≤ 1.0× Compose (to all services healthy)",
			fmt.Sprintf("%.2f× (wtenv %s, Compose %s)", cold, dur(ab.wtenv.cold.median()), dur(ab.compose.cold.median())),
			cold <= targetColdRatio, "see “Cold up, step by step”"},
		{"warm up (nothing to do) ≤ 300 ms",
			fmt.Sprintf("%s (CLI `wtenv up`; env_up over MCP %s)", dur(ab.wtenv.warm.median()), dur(ab.mcpWarmUp.median())),
			ab.wtenv.warm.median() <= targetWarm, "see “Warm up, step by step”"},
		{fmt.Sprintf("env_status ≤ 50 ms (%d-service stack)", len(r.services)),
			fmt.Sprintf("%s (MCP round trip, warm session)", dur(ab.mcpStatus.median())),
			ab.mcpStatus.median() <= targetStatus, "see “Status, step by step”"},
		r.serveTarget(idle),
	}
}

func (r *report) serveTarget(idle int64) target {
	if r.serveErr != "" {
		return target{"`wtenv serve` idle ≤ 25 MB resident", "not measured: the phase failed", false, "see “wtenv serve memory”"}
	}
	return target{"`wtenv serve` idle ≤ 25 MB resident",
		fmt.Sprintf("%s (larger of idle at start %s and idle after use %s)", mb(idle), mb(r.serve.idleStart["VmRSS"]), mb(r.serve.idleAfterUse["VmRSS"])),
		idle <= targetServeRSS, "see “wtenv serve memory”"}
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func (r *report) markdown() string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	m := r.machine
	p("# wtenv benchmarks: results")
	p("")
	p("Written by the harness on every run; do not edit by hand. Produced by:")
	p("")
	p("```sh\n%s\n```", r.command)
	p("")
	p("run %s, took %s; wtenv at %s.", m.date, r.elapsed.Round(time.Second), m.commit)
	p("")
	p("| machine | |\n|---|---|")
	p("| cores | %s |\n| memory | %s |\n| kernel | %s |\n| engine | %s |\n| storage | %s |", m.cores, m.memory, m.kernel, m.engine, m.storage)
	p("| Compose | %s (`%s`) |\n| Go | %s |", m.compose, strings.Join(r.compose.argv, " "), m.goVersion)
	p("| load average (1/5/15 min) | %s at start, %s at end — the machine is shared; other work on it shows here |", m.loadStart, m.loadEnd)
	p("")
	p("## Targets")
	p("")
	p("| target | measured (median) | |\n|---|---|---|")
	for _, t := range r.targets() {
		verdict := "**met**"
		if !t.met {
			verdict = "**missed** — " + t.why
		}
		p("| %s | %s | %s |", t.name, t.measured, verdict)
	}
	p("")
	r.sideBySide(p)
	r.coldDetail(p)
	r.warmDetail(p)
	r.statusDetail(p)
	r.profileDetail(p)
	r.serveDetail(p)
	r.footprintDetail(p)
	r.concDetail(p)
	r.method(p)
	return w.String()
}

func (r *report) sideBySide(p func(string, ...any)) {
	ab := r.ab
	p("## Side by side: the example shop (%d services: %s)", len(r.services), strings.Join(r.services, ", "))
	p("")
	p("%d interleaved rounds after one warm-up round; median (min–max, n). Ratio = wtenv median / Compose median (below 1: wtenv faster).", r.cfg.rounds)
	p("")
	p("| operation | wtenv | %s | ratio |\n|---|---|---|---|", r.compose.variant)
	p("| cold up → all healthy | %s | %s | %s |", ab.wtenv.cold.spread(), ab.compose.cold.spread(), ratio(ab.wtenv.cold, ab.compose.cold))
	p("| … command returned | %s | %s | %s |", ab.wtenv.coldWall.spread(), ab.compose.coldWall.spread(), ratio(ab.wtenv.coldWall, ab.compose.coldWall))
	p("| … harness saw all healthy | %s | %s | %s |", ab.wtenv.coldObserved.spread(), ab.compose.coldObserved.spread(), ratio(ab.wtenv.coldObserved, ab.compose.coldObserved))
	p("| warm up (running, unchanged) | %s | %s | %s |", ab.wtenv.warm.spread(), ab.compose.warm.spread(), ratio(ab.wtenv.warm, ab.compose.warm))
	p("| status (`wtenv status --json` / `ps`) | %s | %s | %s |", ab.wtenv.status.spread(), ab.compose.status.spread(), ratio(ab.wtenv.status, ab.compose.status))
	p("| down | %s | %s | %s |", ab.wtenv.down.spread(), ab.compose.down.spread(), ratio(ab.wtenv.down, ab.compose.down))
	p("")
	p("The agent's path, over MCP to one long-lived `wtenv serve` (go-sdk client, stdio), and in-process calls on one open `envs.Env`:")
	p("")
	p("| operation | time | vs Compose `ps` |\n|---|---|---|")
	p("| env_status (MCP round trip) | %s | %s |", ab.mcpStatus.spread(), ratio(ab.mcpStatus, ab.compose.status))
	p("| env_status, the session's first call (opens the worktree and engine) | %s | |", dur(ab.mcpFirst))
	p("| env_up on the running stack (MCP) | %s | |", ab.mcpWarmUp.spread())
	p("| env_up cold, fresh server (MCP, once) | %s | |", dur(r.serve.envUp))
	p("| envs.Env.Status in-process | %s | %s |", ab.inproc.status.spread(), ratio(ab.inproc.status, ab.compose.status))
	p("| envs.Env.Up in-process on the running stack | %s | |", ab.inproc.warmUp.spread())
	p("| `wtenv help` (a wtenv process's start and exit) | %s | |", ab.help.spread())
	p("")
	p("CPU time of the command's own process (user+system, medians; what it costs the machine, hardly affected by load, unlike the wall times above):")
	p("")
	p("| operation | wtenv | %s | ratio |\n|---|---|---|---|", r.compose.variant)
	for _, op := range []string{"cold", "warm", "status", "down"} {
		p("| %s | %s | %s | %s |", op, dur(ab.wtenv.cpu[op].median()), dur(ab.compose.cpu[op].median()), ratio(ab.wtenv.cpu[op], ab.compose.cpu[op]))
	}
	p("")
	p("Load average (1/5/15 min) at each round's start, round 0 first: %s.", strings.Join(ab.loads, "; "))
	p("")
	if len(ab.failures) > 0 {
		p("Attempts that failed and were retried (their samples dropped): %s.", strings.Join(ab.failures, "; "))
		p("")
	}
	p("Samples (ms, in round order): wtenv cold %s; Compose cold %s; wtenv warm %s; wtenv status %s; env_status %s.",
		msList(ab.wtenv.cold), msList(ab.compose.cold), msList(ab.wtenv.warm), msList(ab.wtenv.status), msList(ab.mcpStatus))
	p("")
}

func msList(s samples) string {
	var parts []string
	for _, d := range s {
		parts = append(parts, fmt.Sprint(d.Milliseconds()))
	}
	return strings.Join(parts, " ")
}
