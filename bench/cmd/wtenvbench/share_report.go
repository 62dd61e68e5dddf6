package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// markers delimit a section of results.md that one scenario owns.
type markers struct{ begin, end string }

var shareMarkers = markers{
	begin: "<!-- share:begin (written by go run ./bench/cmd/wtenvbench -share) -->",
	end:   "<!-- share:end -->",
}

// poolMarkers delimit the pool's figures, which the Go benchmarks of
// bench/pool_test.go measure (against a second engine only a test can
// start); the main run keeps them as it finds them.
var poolMarkers = markers{
	begin: "<!-- pool:begin (from WTENV_TEST_FULL=1 go test -run '^$' -bench Pool ./bench) -->",
	end:   "<!-- pool:end -->",
}

// loopMarkers delimit the inner loop's figures (a one-line change, then
// the suites), which the Go benchmarks of bench/loop_test.go measure; the
// main run keeps them as it finds them.
var loopMarkers = markers{
	begin: "<!-- loop:begin (from WTENV_TEST_FULL=1 go test -run '^$' -bench Loop ./bench) -->",
	end:   "<!-- loop:end -->",
}

// marked returns doc's section between m, markers included, or "".
func marked(doc string, m markers) string {
	i := strings.Index(doc, m.begin)
	j := strings.Index(doc, m.end)
	if i < 0 || j < i {
		return ""
	}
	return doc[i : j+len(m.end)]
}

// replaceMarked puts section in place of doc's section between m, or at
// the end of doc when it has none.
func replaceMarked(doc string, m markers, section string) string {
	old := marked(doc, m)
	if old == "" {
		return strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
	}
	return strings.Replace(doc, old, section, 1)
}

// shareResult is the -share scenario's run.
type shareResult struct {
	machine          machine
	rows, n          int
	separate, shared *layoutRun
	elapsed          time.Duration
}

func (r *shareResult) markdown(cfg config) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	sep, sh := r.separate, r.shared
	p("%s", shareMarkers.begin)
	p("## Eight worktrees, one Postgres (`share: [db]`)")
	p("")
	p("`%s`, %s; %s cores, %s; %s. %d worktrees of the shop, each database seeded by an init script with %d rows (sizes below), every worktree's e2e suite run, then 15 s to settle, then measured: first with a Postgres in each stack, then, after `down` and `share: [db]` in `wtenv.yaml`, with one Postgres for all and a database each. %d ups at once. Run took %s.",
		command(), r.machine.date, r.machine.cores, r.machine.memory, r.machine.engine, r.n, r.rows, cfg.share.par, r.elapsed.Round(time.Second))
	p("")
	p("Memory is the containers' cgroups (usage less inactive file cache, as `docker stats` counts) plus the engine's helper processes per container (containerd shim, docker-proxy; by PSS); *unreclaimable* is cgroup anon + shmem plus the helpers.")
	p("")
	p("| | a Postgres each | one shared Postgres | ratio | goal |")
	p("|---|---|---|---|---|")
	row := func(what string, a, b int64, goal string) {
		p("| %s | %s | %s | %s | %s |", what, mib(a), mib(b), times(a, b), goal)
	}
	row("Postgres, total", sep.postgres.total(), sh.postgres.total(), "≥ 3×")
	row("Postgres, unreclaimable", sep.postgresUnreclaim, sh.postgresUnreclaim, "")
	n := int64(max(r.n, 1))
	row("whole stack per worktree", sep.stacks.total()/n, sh.stacks.total()/n, "≥ 1.5×")
	row("whole stack per worktree, unreclaimable", sep.stacksUnreclaim/n, sh.stacksUnreclaim/n, "")
	row("all stacks", sep.stacks.total(), sh.stacks.total(), "")
	p("| Postgres servers | %d | %d | | |", sep.servers, sh.servers)
	p("| e2e suites green | %d of %d | %d of %d | | all |", sep.e2ePassed, sep.e2eTotal, sh.e2ePassed, sh.e2eTotal)
	p("| database size per worktree | %s | %s | | ≥ 50 MB |", sizes(sep.dbBytes), sizes(sh.dbBytes))
	p("| up, per worktree (%d at once) | %s | %s | | |", cfg.share.par, samples(sep.ups).spread(), samples(sh.ups).spread())
	p("")
	if len(sh.clones) > 0 {
		var all, renamed, copied, server []float64
		for _, c := range sh.clones {
			all, server = append(all, c.wall), append(server, c.server)
			if c.renamed {
				renamed = append(renamed, c.wall)
			} else {
				copied = append(copied, c.wall)
			}
		}
		p("Per-worktree database creation, as `up` waits for it (one `docker exec` of psql on the server: the rename of a spare copy made during an earlier worktree's up, else `CREATE DATABASE … TEMPLATE` of the seeded database): p50 %s, max %s, n=%d (goal: p50 ≤ 0.5 s); renames %s, copies %s; the server's own time for the statement (psql's timing) p50 %.1f ms.",
			secsOf(p50(all)), secsOf(slices.Max(all)), len(all), spreadOf(renamed), spreadOf(copied), p50(server)*1000)
	} else {
		p("Per-worktree database creation: none was made (the databases existed).")
	}
	for _, lr := range []*layoutRun{sep, sh} {
		if len(lr.e2eFailures) > 0 {
			p("")
			p("e2e failed (%s): %s.", lr.name, strings.Join(lr.e2eFailures, ", "))
		}
	}
	p("%s", shareMarkers.end)
	return b.String()
}

func times(a, b int64) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// sizes renders the smallest and largest database size.
func sizes(bs []int64) string {
	if len(bs) == 0 {
		return "–"
	}
	lo, hi := slices.Min(bs), slices.Max(bs)
	return fmt.Sprintf("%.0f–%.0f MB", float64(lo)/1e6, float64(hi)/1e6)
}

// p50 is the median of xs.
func p50(xs []float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func secsOf(x float64) string { return fmt.Sprintf("%.2f s", x) }

// spreadOf renders "p50 (n=N)" or "none".
func spreadOf(xs []float64) string {
	if len(xs) == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s (n=%d)", secsOf(p50(xs)), len(xs))
}
