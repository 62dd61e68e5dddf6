package main

import "strings"

// profileDetail shows where CPU goes: the in-process CPU profiles of status
// and warm up, and a wtenv process's package initialisation, which every
// CLI command pays before main runs.
func (r *report) profileDetail(p func(string, ...any)) {
	pr := r.ab.prof
	p("## Where the CPU goes")
	p("")
	p("Every wtenv process initialises its packages before main runs (GODEBUG=inittrace=1 on `wtenv help`): %s of init work in total, the last package init starting %s after the process started. Slowest: %s.",
		dur(pr.initTotal), dur(pr.initEnd), strings.Join(pr.initTop, ", "))
	p("")
	p("CPU profile of %d in-process `envs.Env.Status` calls on the running stack (`go tool pprof -top -cum`, runtime and harness frames left out; flat, flat%%, sum%%, cum, cum%%):", pr.statusN)
	p("")
	p("```\n%s\n```", strings.Join(pr.status, "\n"))
	p("")
	p("CPU profile of %d in-process warm `envs.Env.Up` calls:", pr.upN)
	p("")
	p("```\n%s\n```", strings.Join(pr.warmUp, "\n"))
	p("")
}
