package main

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// holderIdle matches a holder line's idle time in a refusal's text.
var holderIdle = regexp.MustCompile(`, idle (?:(\d+)h)?(\d+)(s|m)\b`)

// idleListed reports whether a refusal's text lists a running holder
// that had been idle for at least after under a sleep policy and was not
// in use (a holder in use, or never put to sleep, says so instead of its
// policy): a stack admission could have put to sleep, had that freed
// enough. Only a running (or partial) holder counts: a stopped one with
// a reservation is being started or woken by another call, and admission
// rightly never puts it to sleep.
func idleListed(text string, after time.Duration) bool {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "  - ") || !strings.Contains(line, ", put to sleep once idle ") ||
			!(strings.Contains(line, ", running, ") || strings.Contains(line, ", partial, ")) {
			continue
		}
		m := holderIdle.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		h, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		d := time.Duration(h)*time.Hour + time.Duration(n)*time.Second
		if m[3] == "m" {
			d = time.Duration(h)*time.Hour + time.Duration(n)*time.Minute
		}
		if d >= after {
			return true
		}
	}
	return false
}

// refusalDetail explains the budgeted run's refusals from their texts: a
// refusal that lists a stack idle past idle_after means admission found
// an idle stack but judged that putting it (and every other idle one) to
// sleep would not free enough; the first such text is shown whole.
func (r *agentsResult) refusalDetail(p func(string, ...any), b runFigures) {
	if b.refusals == 0 {
		return
	}
	p("Of the budgeted run's %d refusals, %d came while no stack holding memory had been idle for idle_after (%s): every running holder was in a call, or had been within idle_after. The other %d listed a running stack idle longer than that, not in use, and were refused all the same: admission puts idle stacks to sleep only when together they free the whole shortfall, and the shortfall is reckoned from what the stacks hold at that moment, their running e2e test containers included (wtenv counts a stack's one-off containers with it).",
		b.refusals, b.refusals-b.idleRefusals, r.budgeted.idleAfter, b.idleRefusals)
	if c := b.idleRefusal; c != nil {
		p("")
		p("The first of them, agent c%02d's %s at %s, as the agent received it:", c.agent+1, c.tool, dur(c.start.Round(time.Second)))
		p("")
		p("```\n%s\n```", strings.TrimSpace(c.full))
	}
	p("")
}
