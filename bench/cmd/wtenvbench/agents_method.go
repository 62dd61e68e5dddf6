package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// timelineStep is the width of a row of the agents timeline.
const timelineStep = 30 * time.Second

// window is the largest figures of the samples in [from, from+step).
func window(t memTrace, from time.Duration) (memSample, bool) {
	var w memSample
	found := false
	for _, s := range t.samples {
		if s.at < from || s.at >= from+timelineStep {
			continue
		}
		found = true
		w.active, w.running, w.asleep = max(w.active, s.active), max(w.running, s.running), max(w.asleep, s.asleep)
		w.services, w.oneOffs = max(w.services, s.services), max(w.oneOffs, s.oneOffs)
		w.used = max(w.used, s.used)
	}
	return w, found
}

// timeline shows both runs side by side in 30-second windows: the most
// agents in a call, stacks running and asleep, and memory held.
func (r *agentsResult) timeline(p func(string, ...any)) {
	p("Over time, in %s windows (the largest figure in each window; memory = the run's service containers; wtenv = the budget's used_bytes from env_list):", dur(timelineStep))
	p("")
	p("| from | budgeted: agents in a call | running | asleep | memory | wtenv | unlimited: agents in a call | running | memory |\n|---|---|---|---|---|---|---|---|---|")
	runs := []*scenarioRun{r.budgeted, r.unlim}
	for from := time.Duration(0); ; from += timelineStep {
		var cells []string
		any := false
		for i, s := range runs {
			var w memSample
			ok := false
			if s != nil {
				w, ok = window(s.mem, from)
			}
			any = any || ok
			switch {
			case !ok && i == 0:
				cells = append(cells, "", "", "", "", "")
			case !ok:
				cells = append(cells, "", "", "")
			case i == 0:
				cells = append(cells, fmt.Sprint(w.active), fmt.Sprint(w.running), fmt.Sprint(w.asleep), mib(w.services), mib(w.used))
			default:
				cells = append(cells, fmt.Sprint(w.active), fmt.Sprint(w.running), mib(w.services))
			}
		}
		if !any {
			break
		}
		p("| %s | %s |", dur(from), strings.Join(cells, " | "))
	}
	p("")
}

// wakeDetail shows the steps of the budgeted run's median wake, as the
// call's progress notifications arrived: where a wake's time goes.
func (r *agentsResult) wakeDetail(p func(string, ...any)) {
	var wakes []call
	for _, a := range r.budgeted.agents {
		for _, c := range a.calls {
			if c.adm != nil && c.adm.Woke {
				wakes = append(wakes, c)
			}
		}
	}
	if len(wakes) == 0 {
		return
	}
	slices.SortFunc(wakes, func(a, b call) int { return int(a.adm.WakeMS - b.adm.WakeMS) })
	c := wakes[(len(wakes)-1)/2]
	p("The budgeted run's median wake (agent c%02d's %s at %s, wake_ms %d), step by step as its progress notifications arrived, offsets from the call's start; the wake is measured from starting the containers (after the line “waking …”) to every service healthy:", c.agent+1, c.tool, dur(c.start.Round(time.Second)), c.adm.WakeMS)
	p("")
	var lines []stamped
	for _, l := range c.progress {
		if strings.HasPrefix(l.text, "unit: ") || strings.HasPrefix(l.text, "e2e: ") {
			continue // the suite's running counts
		}
		lines = append(lines, l)
	}
	timeline(p, lines, c.dur())
	p("")
}

// agentsMethod says how the scenario was set up and measured.
func (r *agentsResult) agentsMethod(p func(string, ...any), cfg config, base string) {
	ac := cfg.agents
	n := len(r.plans)
	var peaks []string
	for _, v := range r.peaks {
		peaks = append(peaks, mib(v))
	}
	slices.Sort(peaks)
	var pre, e2e samples
	passed := 0
	for _, w := range r.prewarm {
		pre, e2e = append(pre, w.up), append(e2e, w.e2e)
		if w.passed {
			passed++
		}
	}
	p("How it was run:")
	p("")
	p("- **Worktrees and servers.** A git repository of `examples/shop` under `%s` with %d linked worktrees on branches `bench/c01`…`bench/c%02d`. Each agent has its own `wtenv serve --worktree DIR --log-file …` process (as an agent's host registers one per workspace) and its own go-sdk client session over stdio, started before the run's clock. Every server gets WTENV_STATE_DIR (the run's own), WTENV_PORT_RANGE=%s, WTENV_MEMORY_BUDGET and WTENV_IDLE_AFTER=%s: a stack untouched by any wtenv call for %s may be put to sleep by admission, short enough that an agent's idle time (%s to %s) makes its stack evictable within the run. WTENV_ADMIT_WAIT is left at its default (2m): an up that finds no idle stack waits that long at most for one to turn idle.",
		base, n, n, cfg.portRange, ac.idleAfter, ac.idleAfter, dur(ac.idleMin), dur(ac.idleMax))
	p("- **Prewarm (not timed in the figures).** Before anything is measured, each worktree's stack is brought up once with `wtenv up --build` and its e2e suite run (`wtenv test e2e`), so its images and its test image exist (BuildKit's cache makes all but the first fast), and the state file records each stack's measured peak, which admission uses as the stack's need. The first worktree goes alone, the other %d two at a time; then every stack is taken down and its volume removed, so each agent's `env_up` is a cold up of a fresh stack with images present. Prewarm took %s: up %s, e2e %s, %d of %d e2e runs passed.",
		n-1, dur(r.prewarmWall), pre.spread(), e2e.spread(), passed, n)
	p("- **The budget.** One shop alone after its e2e run held %s (env_status memory_bytes); the state file's measured peaks of the %d shops after their prewarm were %s. The budget is %d × the largest peak (%s) + %.0f%%, rounded up to a MiB: **%s**, given as WTENV_MEMORY_BUDGET=%dMiB. The comparison run uses WTENV_MEMORY_BUDGET=%s, which nothing here comes near.",
		mib(r.shopMemory), len(r.peaks), strings.Join(peaks, ", "), ac.fit, mib(r.largestPeak), ac.margin*100, mib(r.budget), r.budget>>20, unlimitedBudget)
	p("- **The agents.** Agent i starts near i × %s (each start drawn within ±50%% of that), calls `env_up`, then `run_e2e_tests`, idles for its drawn time, and calls `run_e2e_tests` again; seed %d, the same draws in both runs (the per-agent tables list them). The spacing and idle range are chosen so that, at the busiest, about %d agents are working at once — inside a call, or within idle_after of one, so that their stacks must run and cannot be put to sleep — and the rest idle, their stacks evictable (the measured mean and maximum are above; more working agents than the budget fits means a refusal, by design). An agent that is refused (`budget_refused` in the error's _meta) waits %s and calls again, each refusal counted; any other error ends its loop unfinished. An agent leaves its stack as it is when done, as agents do, so finished stacks turn idle and evictable.",
		dur(ac.spacing), ac.seed, ac.fit, dur(refusalBackoff))
	p("- **Sleeps and wakes** are what the calls' `admission` objects report: each `evicted` entry is a stack put to sleep to make room, each `woke` a stack woken by that call, with `wake_ms` (from starting its containers to healthy, as wtenv measures it). p50/p95 are nearest-rank percentiles.")
	p("- **Memory held** is sampled every %s: the cgroup memory (usage less inactive file cache, as `docker stats` and wtenv count it) of every running container of the run's stacks, read from the cgroup files; the one-off test containers of `run_e2e_tests` (a Go build and test run) apart — wtenv's `used_bytes` counts them with their stack, while a stack's need at admission (its measured peak, from status calls) leaves them out; and, through an in-process `envs.List` (env_list, which touches no stack), the budget's `used_bytes` — for each running stack the larger of its reservation and its measured use. wtenv's budget is engine-wide: other wtenv stacks on this engine (other test runs) count in `used_bytes` too; their memory is in the row above.",
		dur(memEvery))
	p("- **Between and after the runs** every stack is taken down and its volume removed; at the end everything the run made is removed by label (never a prune), and the worktrees deleted. The servers' logs are kept under `%s/agents-<run>/` until then.", base)
	p("- **Load.** The shop's healthchecks run every 5 s in five containers (each probe is an exec the engine runs; while wtenv waits for a service, it probes it itself, so the interval does not slow up or a wake), so the unlimited run's ten running shops ask more of this machine's two cores than the budgeted run's about %d. Times here are wall times on a shared 2-core machine; compare the two runs side by side, not with other machines.", ac.fit)
	p("")
}
