package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// timeline renders a run's stamped stderr lines as offsets from its start,
// ending with the process's exit.
func timeline(p func(string, ...any), lines []stamped, wall time.Duration) {
	p("```")
	for _, l := range lines {
		p("%+7d ms  %s", l.at.Milliseconds(), strings.TrimPrefix(l.text, "wtenv: "))
	}
	if wall > 0 {
		p("%+7d ms  (process exited)", wall.Milliseconds())
	}
	p("```")
}

func (r *report) coldDetail(p func(string, ...any)) {
	w, c := r.ab.wtenv, r.ab.compose
	p("## Cold up, step by step")
	p("")
	p("The median round's run on each side; offsets from the command's start, as its stderr lines arrived. Most of a cold up is the engine creating and starting containers and the services' healthchecks (the shop's run every 1 s; Postgres first initialises its database); wtenv starts a service once its dependencies are healthy, which it learns by inspecting them every 300 ms (envs/engine/wait.go), and Compose likewise by polling.")
	if len(w.coldRuns) > 0 {
		run := w.coldRuns[medianIndex(w.cold)]
		p("")
		p("`wtenv up` (%s to healthy): %s before its first step (process start, git worktree, compose load, port block, budget admission, networks, volume, image checks); after the last step %s for the final status and JSON.",
			dur(w.cold[medianIndex(w.cold)]), dur(first(run.lines)), dur(run.wall-last(run.lines)))
		p("")
		timeline(p, run.lines, run.wall)
	}
	if len(c.coldRuns) > 0 {
		i := medianIndex(c.cold)
		run := c.coldRuns[i]
		p("")
		p("`%s` (%s to healthy; the command returned at %s, the harness saw every service healthy at %s):",
			strings.Join(r.compose.up()[len(r.compose.argv)+4:], " "), dur(c.cold[i]), dur(run.wall), dur(c.coldObserved[i]))
		p("")
		timeline(p, run.lines, run.wall)
	}
	p("")
}

func (r *report) warmDetail(p func(string, ...any)) {
	ab := r.ab
	w := ab.wtenv
	p("## Warm up, step by step")
	p("")
	if len(w.warmRuns) > 0 {
		i := medianIndex(w.warm)
		run := w.warmRuns[i]
		open := time.Duration(0)
		if len(ab.breakdown) > 0 {
			open = ab.breakdown[0].d.median()
		}
		p("The CLI's median warm run took %s, %s of it CPU in the wtenv process. From its own stderr stamps: %s until the first step message — process start (`wtenv help` alone: %s), opening the worktree and engine (in-process: %s), loading the compose file, the port block and the budget admission under the state file's lock, inspecting networks, volume and images, listing the containers; then %s checking each dependency's and each service's health (an inspect each); then %s for the final status, the JSON and the exit.",
			dur(w.warm[i]), dur(w.cpu["warm"][i]), dur(first(run.lines)), dur(ab.help.median()), dur(open), dur(last(run.lines)-first(run.lines)), dur(run.wall-last(run.lines)))
		p("")
		timeline(p, run.lines, run.wall)
	}
	p("")
	p("In-process `envs.Env.Up` on the same running stack, no process start (median %s), steps of its median run:", ab.inproc.warmUp.spread())
	p("")
	timeline(p, ab.inproc.warmLines, 0)
	p("")
}

func (r *report) statusDetail(p func(string, ...any)) {
	ab := r.ab
	p("## Status, step by step")
	p("")
	whole := ab.breakdownWhole.median()
	p("The steps of one status call, run in-process one by one (%d times each, medians), next to whole `envs.Env.Status` calls (%s). env_status over MCP (%s) is one such call plus the JSON-RPC round trip over stdio; `wtenv status` (%s) adds a process start and opening the worktree and engine.",
		len(ab.breakdownWhole), dur(whole), dur(ab.mcpStatus.median()), dur(ab.wtenv.status.median()))
	p("")
	p("| step | median | of a Status call |\n|---|---|---|")
	var sum time.Duration
	for i, s := range ab.breakdown {
		share := "(CLI only)"
		if i > 0 {
			sum += s.d.median()
			share = fmt.Sprintf("%.0f%%", 100*float64(s.d.median())/float64(max(whole, 1)))
		}
		p("| %s | %s | %s |", s.name, dur(s.d.median()), share)
	}
	p("| sum of the steps a Status call takes | %s | %.0f%% |", dur(sum), 100*float64(sum)/float64(max(whole, 1)))
	p("")
	if n := len(ab.mcpStatus); n > 0 {
		p("CPU: `wtenv serve` spent %s of CPU per env_status call (over %d calls); a `wtenv status` process spends %s (median), `%s` %s.",
			dur(ab.serveCPU/time.Duration(n)), n, dur(ab.wtenv.cpu["status"].median()), strings.Join(r.compose.argv, " ")+" ps", dur(ab.compose.cpu["status"].median()))
	}
	if fc := ab.firstCalls; len(fc) > 0 {
		p("")
		p("A CLI process pays, besides its start, what a long-lived server pays once. In a fresh process (the harness re-executed, %d times, medians): opening the worktree and engine %s; the first compose load %s, the second %s; the first Status %s, the second %s.",
			len(fc["open"]), dur(fc["open"].median()), dur(fc["load1"].median()), dur(fc["load2"].median()), dur(fc["status1"].median()), dur(fc["status2"].median()))
	}
	if c := r.conc; c != nil && len(c.statusOne) > 0 {
		p("")
		p("With %d stacks on the engine (the concurrent phase), the same in-process Status of one of them takes %s, against %s with one: a status lists and measures every wtenv container on the engine.",
			c.stacksOnEngine, c.statusOne.spread(), ab.inproc.status.spread())
	}
	p("")
}

func (r *report) serveDetail(p func(string, ...any)) {
	s := r.serve
	p("## wtenv serve memory")
	p("")
	if r.serveErr != "" {
		p("The phase failed, so it has no figures:")
		failure(p, r.serveErr)
		p("")
		return
	}
	p("A fresh `wtenv serve` on the A/B worktree, read from /proc/<pid>/status after %s untouched (idle), and sampled every 20 ms through a cold env_up (%d samples).", settle, s.peakSamples)
	p("")
	p("| | VmRSS | RssAnon (heap, stacks) | RssFile (binary, libraries) |\n|---|---|---|---|")
	p("| idle after start | %s | %s | %s |", mb(s.idleStart["VmRSS"]), mb(s.idleStart["RssAnon"]), mb(s.idleStart["RssFile"]))
	p("| idle after env_up, a warm env_up and 10 env_status | %s | %s | %s |", mb(s.idleAfterUse["VmRSS"]), mb(s.idleAfterUse["RssAnon"]), mb(s.idleAfterUse["RssFile"]))
	p("| peak during the cold env_up (sampled) | %s | | |", mb(s.peakUp))
	p("| VmHWM (lifetime peak) | %s | | |", mb(s.hwm))
	p("")
	p("The binary is %s on disk; its mapped, touched pages are the RssFile part. The Go heap at the server's last garbage collection before the idle reading (GODEBUG=gctrace=1: heap at start → at end → live, in MiB): %s. env_up cold took %s, env_up warm %s, env_down %s on this server.",
		mb(s.binarySize), s.lastGC, dur(s.envUp), dur(s.envUpWarm), dur(s.envDown))
	p("")
}

func (r *report) footprintDetail(p func(string, ...any)) {
	p("## Memory per running stack")
	p("")
	p("Measured once with the stack up and healthy (first counted round). Containers: cgroup memory usage less inactive file cache. Helper processes, found in /proc and matched to the stack: containerd-shim-runc-v2 by container ID, docker-proxy by host port and container IP, fuse-overlayfs by layer directory; PSS (shared pages divided among sharers) with RSS in brackets.")
	p("")
	p("| | wtenv stack | Compose stack |\n|---|---|---|")
	w, c := r.ab.wtenv.foot, r.ab.compose.foot
	p("| containers | %s | %s |", mib(w.containers), mib(c.containers))
	for _, k := range procKinds {
		p("| %s | %s | %s |", k, procCell(w, k), procCell(c, k))
	}
	p("| **total** (containers + helper PSS) | **%s** | **%s** |", mib(w.total()), mib(c.total()))
	wi, ci := r.ab.wtenv.idle, r.ab.compose.idle
	p("| CPU while idle: containers (services and their healthcheck commands) | %s | %s |", wi.share(wi.containers), ci.share(ci.containers))
	p("| CPU while idle: helper processes, with the runc each healthcheck exec starts | %s | %s |", wi.share(wi.helpers), ci.share(ci.helpers))
	p("| CPU while idle: dockerd + containerd (shared: anything else using the engine counts) | %s | %s |", wi.share(wi.daemon), ci.share(ci.daemon))
	p("")
	p("CPU is read over %s with the stack idle; a healthcheck is a process started in the container every interval (the shop: 1 s, 5 services), so an idle stack's CPU is mostly healthchecks, paid by the engine.", wi.window)
	p("")
	p("wtenv binds published ports to 127.0.0.1 only; the unchanged file under Compose binds 0.0.0.0 and [::], so Compose runs a docker-proxy per port and address family.")
	p("")
}

func procCell(f footprint, kind string) string {
	g := f.procs[kind]
	if g == nil || g.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d × → %s (%s)", g.n, mib(g.pss), mib(g.rss))
}

func (r *report) concDetail(p func(string, ...any)) {
	c := r.conc
	p("## %d concurrent ups on %d worktrees", r.cfg.concurrent, r.cfg.concurrent)
	p("")
	if r.concErr != "" {
		p("The phase failed:")
		failure(p, r.concErr)
		p("")
	}
	if c == nil || c.up == nil {
		if r.concErr == "" && c == nil {
			p("Skipped (-concurrent 0).")
			p("")
		}
		return
	}
	what := "the whole shop"
	if r.cfg.concServices != "all" {
		what = fmt.Sprintf("`wtenv up %s`: the shop's %s (with dependencies: %s) from the same compose file — by default one service, because an idle shop stack keeps about %s busy with its healthchecks (see above), so ten whole shops need several times this machine's %s cores before anything else runs; `-concurrent-services all` runs whole shops",
			strings.ReplaceAll(r.cfg.concServices, ",", " "), r.cfg.concServices, strings.Join(r.concServices, ", "), idleShare(r.ab.wtenv.idle), r.machine.cores)
	}
	p("One `wtenv up` process per linked worktree of one repository, all started at once, images present; each process waits until its services are healthy. Each stack is %s.", what)
	if c.prepBuilt > 0 {
		p("")
		p("Before that, %d worktrees had no current images (wtenv tags the images it builds per worktree, and `wtenv gc` — which `wtenv serve` runs at start — removes those of deleted worktrees, such as the previous run's). Their first up with `--build`, two at a time, built the images from the layer cache: %s each, %s for all.", c.prepBuilt, c.prep.spread(), dur(c.prepWall))
	}
	p("")
	p("| | wall (all done) | per process |\n|---|---|---|")
	p("| one up alone | %s | |", dur(c.solo))
	p("| %d ups at once (load %s at start) | %s | %s |", c.n, c.load, dur(c.upWall), c.up.spread())
	p("| %d downs at once | %s | %s |", c.n, dur(c.downWall), c.down.spread())
	p("")
	p("Where each process's time went (median (min–max) over the %d): %s before it created its network (process start, worktree, compose file, port block and budget admission under the state file's lock, image checks); %s creating the network; %s creating and starting its containers and waiting for health. Network creations, sorted, in ms: %s.",
		c.n, c.before.spread(), c.network.spread(), c.after.spread(), msList(c.network.sorted()))
	if slices.Max(c.network) > slices.Max(c.before) {
		p("The engine sets up bridge networks one at a time, so the creations queue and the last process waits for those before it: that queue, more than any step of wtenv's, makes the spread of the per-process times.")
	}
	p("")
	p("The slowest process (%s):", dur(c.slowest.wall))
	p("")
	timeline(p, c.slowest.lines, c.slowest.wall)
	p("")
	p("The %d running stacks held %s in containers plus %s in helper processes (PSS): %s a stack. While they idled, over %s: containers %s, helper processes %s, dockerd + containerd %s.",
		c.n, mib(c.foot.containers), mib(c.foot.total()-c.foot.containers), mib(c.foot.total()/int64(max(c.n, 1))),
		c.idle.window, c.idle.share(c.idle.containers), c.idle.share(c.idle.helpers), c.idle.share(c.idle.daemon))
	p("Compose is not run concurrently: the unchanged file fixes host ports and a container name, so a second copy of the stack under Compose cannot start — the problem wtenv exists for.")
	p("")
}

// idleShare is an idle stack's whole CPU: containers, helpers, daemons.
func idleShare(u idleCPU) string { return u.share(u.containers + u.helpers + u.daemon) }

// failure renders a phase's error, with the failing command's error lines
// and stderr tail, as a block of at most 40 lines.
func failure(p func(string, ...any), err string) {
	lines := strings.Split(strings.TrimSpace(err), "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "…")
	}
	p("")
	p("```\n%s\n```", strings.Join(lines, "\n"))
}
