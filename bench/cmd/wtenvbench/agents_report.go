package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The -agents scenario owns one delimited section of results.md: its run
// replaces only that section, and the main run keeps it as it found it.
const (
	agentsBegin = "<!-- agents:begin (written by go run ./bench/cmd/wtenvbench -agents; the rest of this file by the main run) -->"
	agentsEnd   = "<!-- agents:end -->"
)

// agentsSection returns the section in doc, markers included, or "".
func agentsSection(doc string) string {
	i := strings.Index(doc, agentsBegin)
	j := strings.Index(doc, agentsEnd)
	if i < 0 || j < i {
		return ""
	}
	return doc[i : j+len(agentsEnd)]
}

// replaceSection puts section in place of doc's agents section, or at the
// end of doc when it has none.
func replaceSection(doc, section string) string {
	old := agentsSection(doc)
	if old == "" {
		return strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
	}
	return strings.Replace(doc, old, section, 1)
}

// keepSection carries the agents section of the previous report over into
// a newly written one.
func keepSection(doc, previous string) string {
	if s := agentsSection(previous); s != "" {
		return replaceSection(doc, s)
	}
	return doc
}

// runFigures are one run's figures, as the report shows them.
type runFigures struct {
	finished, passed, refusals, errs, evictions, wakes int
	wakeMS, wakeWaitMS                                 []int64
	idleRefusals                                       int           // refusals listing a stack idle past idle_after
	refusedAgents                                      int           // agents refused at least once
	refusedWait                                        time.Duration // from each first refusal to the call that went through
	idleRefusal                                        *call         // the first of them, for its text
	up, e2e1, e2e2                                     samples
	activeMean, workingMean                            float64
	activeMax, runningMax, workingMax                  int
}

// working counts, at each sample, the agents whose stack admission may
// not put to sleep: inside a call (a refused one and its wait included),
// or within idle_after of one's end.
func working(r *scenarioRun) (mean float64, most int) {
	sum := 0
	for _, s := range r.mem.samples {
		n := 0
		for _, a := range r.agents {
			for _, c := range a.calls {
				if s.at >= c.start && s.at < c.end+r.idleAfter {
					n++
					break
				}
			}
		}
		sum, most = sum+n, max(most, n)
	}
	if len(r.mem.samples) > 0 {
		mean = float64(sum) / float64(len(r.mem.samples))
	}
	return mean, most
}

func figures(r *scenarioRun) runFigures {
	var f runFigures
	activeSum := 0
	for _, s := range r.mem.samples {
		activeSum += s.active
		f.activeMax, f.runningMax = max(f.activeMax, s.active), max(f.runningMax, s.running)
	}
	if n := len(r.mem.samples); n > 0 {
		f.activeMean = float64(activeSum) / float64(n)
	}
	f.workingMean, f.workingMax = working(r)
	for _, a := range r.agents {
		if a.finished {
			f.finished++
		}
		f.passed += a.passed
		e2e := 0
		since, refused := time.Duration(-1), false // start of the current run of refusals
		for _, c := range a.calls {
			switch {
			case c.kind == "budget_refused" && since < 0:
				since, refused = c.start, true
			case c.kind != "budget_refused" && since >= 0:
				f.refusedWait += c.start - since
				since = -1
			}
			switch {
			case c.kind == "budget_refused":
				f.refusals++
				if idleListed(c.full, r.idleAfter) {
					f.idleRefusals++
					if f.idleRefusal == nil {
						f.idleRefusal = &c
					}
				}
			case c.kind != "":
				f.errs++
			case c.tool == "env_up":
				f.up = append(f.up, c.dur())
			case e2e == 0:
				e2e++
				f.e2e1 = append(f.e2e1, c.dur())
			default:
				f.e2e2 = append(f.e2e2, c.dur())
			}
			if c.adm != nil {
				f.evictions += len(c.adm.Evicted)
				if c.adm.Woke {
					f.wakes++
					f.wakeMS = append(f.wakeMS, c.adm.WakeMS)
					if at, ok := wokeAt(c.progress); ok {
						f.wakeWaitMS = append(f.wakeWaitMS, at.Milliseconds())
					}
				}
			}
		}
		if refused {
			f.refusedAgents++
		}
	}
	slices.Sort(f.wakeMS)
	slices.Sort(f.wakeWaitMS)
	return f
}

// wokeAt is when, from the call's start, wtenv reported the wake done:
// what the agent waited for its stack, admission and evictions included.
func wokeAt(lines []stamped) (time.Duration, bool) {
	for _, l := range lines {
		if strings.HasPrefix(l.text, "woke ") {
			return l.at, true
		}
	}
	return 0, false
}

// pct is the nearest-rank percentile p (0–1) of sorted values.
func pct(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[max(0, int(math.Ceil(p*float64(len(sorted))))-1)]
}

func secs(ms int64) string { return fmt.Sprintf("%.2f s", float64(ms)/1000) }

func (f runFigures) wake() string { return percentiles(f.wakeMS, "no wakes") }

func percentiles(sorted []int64, none string) string {
	if len(sorted) == 0 {
		return none
	}
	return fmt.Sprintf("p50 %s, p95 %s (max %s, n=%d)", secs(pct(sorted, .5)), secs(pct(sorted, .95)), secs(slices.Max(sorted)), len(sorted))
}

func services(s memSample) int64  { return s.services }
func withTests(s memSample) int64 { return s.services + s.oneOffs }
func wtenvUsed(s memSample) int64 { return s.used }

// markdown renders the agents section.
func (r *agentsResult) markdown(cfg config, base string) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	ac, m := cfg.agents, r.machine
	n := len(r.plans)
	p("%s", agentsBegin)
	p("## Ten agents, one laptop")
	p("")
	p("%d worktrees of the example shop on %d branches, a memory budget measured to fit %d running shops, and %d agent loops over MCP at once, each with its own `wtenv serve` and go-sdk client session: `env_up`, `run_e2e_tests`, idle, `run_e2e_tests` again. Then the same loops with an unlimited budget. Produced by:", n, n, ac.fit, n)
	p("")
	p("```sh\n%s\n```", command())
	p("")
	p("run %s, took %s (setup and prewarm included); wtenv at %s; %s cores, %s, %s; load average %s at start, %s at end (the machine and its engine are shared).",
		m.date, r.elapsed.Round(time.Second), m.commit, m.cores, m.memory, m.engine, m.loadStart, m.loadEnd)
	p("")
	b := figures(r.budgeted)
	var u *runFigures
	if r.unlim != nil {
		f := figures(r.unlim)
		u = &f
	}
	r.goals(p, b)
	r.sideBySide(p, b, u)
	r.refusalDetail(p, b)
	r.perAgent(p, r.budgeted)
	if r.unlim != nil {
		r.perAgent(p, r.unlim)
	} else if r.unlimErr != "" {
		p("The unlimited run failed: %s", r.unlimErr)
		p("")
	}
	r.wakeDetail(p)
	r.timeline(p)
	r.agentsMethod(p, cfg, base)
	p("%s", agentsEnd)
	return w.String()
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

func (r *agentsResult) goals(p func(string, ...any), b runFigures) {
	n := len(r.plans)
	pk := r.budgeted.mem.peak(withTests)
	over := r.budgeted.mem.over(withTests, r.budget)
	p("| goal (budgeted run) | measured | |\n|---|---|---|")
	p("| %d of %d agents finished, zero refusals | %d of %d finished, %d refusals | %s |", n, n, b.finished, n, b.refusals, verdict(b.finished == n && b.refusals == 0))
	wakeOK := len(b.wakeMS) > 0 && pct(b.wakeMS, .5) <= 2500
	p("| wake time p50 ≤ 2.5 s for the shop | %s | %s |", b.wake(), verdict(wakeOK))
	p("| memory held never above the budget (%s) | peak %s, its e2e test containers included (%d of %d samples above); service containers alone: peak %s (%d samples above) | %s |",
		mib(r.budget), mib(withTests(pk)), over, len(r.budgeted.mem.samples), mib(r.budgeted.mem.peak(services).services), r.budgeted.mem.over(services, r.budget), verdict(over == 0))
	p("")
}

func (r *agentsResult) sideBySide(p func(string, ...any), b runFigures, u *runFigures) {
	col := func(f func(runFigures, *scenarioRun) string) string {
		if u == nil {
			return "–"
		}
		return f(*u, r.unlim)
	}
	row := func(name string, f func(runFigures, *scenarioRun) string) {
		p("| %s | %s | %s |", name, f(b, r.budgeted), col(f))
	}
	p("| | budgeted (%s) | unlimited (%s) |\n|---|---|---|", mib(r.budget), unlimitedBudget)
	row("agents finished", func(f runFigures, _ *scenarioRun) string { return fmt.Sprintf("%d of %d", f.finished, len(r.plans)) })
	row("e2e runs passed", func(f runFigures, _ *scenarioRun) string { return fmt.Sprintf("%d of %d", f.passed, 2*len(r.plans)) })
	row("refusals (budget_refused)", func(f runFigures, _ *scenarioRun) string { return fmt.Sprint(f.refusals) })
	row("… of which listed a holder idle past idle_after (not in use)", func(f runFigures, _ *scenarioRun) string { return fmt.Sprint(f.idleRefusals) })
	row("agents refused at least once; their time waiting to get through, summed", func(f runFigures, _ *scenarioRun) string {
		return fmt.Sprintf("%d; %s", f.refusedAgents, dur(f.refusedWait))
	})
	row("other tool errors", func(f runFigures, _ *scenarioRun) string { return fmt.Sprint(f.errs) })
	row("stacks put to sleep by admission (evictions)", func(f runFigures, _ *scenarioRun) string { return fmt.Sprint(f.evictions) })
	row("wakes", func(f runFigures, _ *scenarioRun) string { return fmt.Sprint(f.wakes) })
	row("wake time (admission.wake_ms: containers started to all healthy)", func(f runFigures, _ *scenarioRun) string { return f.wake() })
	row("wake as the agent waits (call start to “woke”: admission and evictions included)", func(f runFigures, _ *scenarioRun) string {
		return percentiles(f.wakeWaitMS, "no wakes")
	})
	row("env_up, median (min–max)", func(f runFigures, _ *scenarioRun) string { return f.up.spread() })
	row("first run_e2e_tests", func(f runFigures, _ *scenarioRun) string { return f.e2e1.spread() })
	row("second run_e2e_tests (a wake included when asleep)", func(f runFigures, _ *scenarioRun) string { return f.e2e2.spread() })
	row("total run time (first call to last agent done)", func(_ runFigures, s *scenarioRun) string { return dur(s.wall) })
	row("load average (1/5/15 min) at the run's start → end", func(_ runFigures, s *scenarioRun) string { return s.loadStart + " → " + s.loadEnd })
	row("peak memory held: the run's containers, e2e test containers included", func(_ runFigures, s *scenarioRun) string { return peakAt(s.mem.peak(withTests), withTests) })
	row("… service containers alone (what admission reserves for)", func(_ runFigures, s *scenarioRun) string { return peakAt(s.mem.peak(services), services) })
	row("peak of the budget's used_bytes (env_list)", func(_ runFigures, s *scenarioRun) string { return peakAt(s.mem.peak(wtenvUsed), wtenvUsed) })
	row("other wtenv stacks on the engine, peak", func(_ runFigures, s *scenarioRun) string {
		return mib(s.mem.peak(func(x memSample) int64 { return x.others }).others)
	})
	row("stacks running at once, max", func(f runFigures, _ *scenarioRun) string { return fmt.Sprint(f.runningMax) })
	row("agents inside a tool call, mean / max", func(f runFigures, _ *scenarioRun) string {
		return fmt.Sprintf("%.1f / %d", f.activeMean, f.activeMax)
	})
	row("agents working (in a call or within idle_after of one: not evictable), mean / max", func(f runFigures, _ *scenarioRun) string {
		return fmt.Sprintf("%.1f / %d", f.workingMean, f.workingMax)
	})
	p("")
}

func peakAt(s memSample, f func(memSample) int64) string {
	return fmt.Sprintf("%s at %s (%d stacks running, %d agents in a call)", mib(f(s)), dur(s.at.Round(time.Second)), s.running, s.active)
}

// perAgent is one row per agent: its plan and each call.
func (r *agentsResult) perAgent(p func(string, ...any), s *scenarioRun) {
	p("Per agent, %s run (times from the run's start; call durations; what admission did):", s.name)
	p("")
	p("| agent | start | idle | env_up | e2e 1 | e2e 2 | admission | end |\n|---|---|---|---|---|---|---|---|")
	for i, a := range s.agents {
		cells := map[string]string{}
		var adm []string
		e2e := 0
		refused, first := 0, time.Duration(0)
		for j, c := range a.calls {
			key := c.tool
			if c.tool == "run_e2e_tests" {
				key = fmt.Sprintf("e2e%d", e2e+1)
			}
			if c.kind == "budget_refused" {
				if refused == 0 {
					first = c.start
				}
				refused++
				// A run of refusals of one step is one entry.
				if j+1 == len(a.calls) || a.calls[j+1].kind != "budget_refused" {
					adm = append(adm, fmt.Sprintf("%s refused %d× (%s–%s)", key, refused, dur(first.Round(time.Second)), dur(c.start.Round(time.Second))))
					refused = 0
				}
				continue
			}
			if c.kind != "" {
				cells[key] = c.kind
				continue
			}
			if c.tool == "run_e2e_tests" {
				e2e++
				cells[key] = fmt.Sprintf("%s %s", dur(c.dur()), map[bool]string{true: "pass", false: "FAIL"}[c.passed])
			} else {
				cells[key] = dur(c.dur())
			}
			if c.adm != nil {
				if c.adm.Woke {
					adm = append(adm, fmt.Sprintf("%s woke it in %s", key, secs(c.adm.WakeMS)))
				}
				for _, e := range c.adm.Evicted {
					adm = append(adm, fmt.Sprintf("%s put %s to sleep (idle %ds)", key, strings.TrimPrefix(e.Branch, "bench/"), e.IdleSeconds))
				}
			}
		}
		end := "finished"
		if !a.finished {
			end = "**not finished**: " + a.err
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s |", fmt.Sprintf("c%02d", i+1), dur(a.plan.start), dur(a.plan.idle),
			orDash(cells["env_up"]), orDash(cells["e2e1"]), orDash(cells["e2e2"]), orDash(strings.Join(adm, "; ")), end)
	}
	p("")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
