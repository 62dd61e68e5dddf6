package budget

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
)

// ErrRefused is wrapped by the error Refusal returns; callers classify a
// refusal with errors.Is (the CLI exits 1, an MCP tool returns isError).
var ErrRefused = errors.New("memory budget full")

// RefusedError is a refusal with its facts, for callers that want to report
// them as data (errors.As). Its message is the full explanation.
type RefusedError struct {
	Decision Decision
	Project  string
	Rule     string
	msg      string
}

func (e *RefusedError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Refusal explains a refused Decision for project, whose need came from
// rule (see Need). It returns nil for an admitted Decision. now is the
// current time, passed in so the idle times in the text are testable.
//
// The text names the budget, the memory used and needed, each stack
// holding memory (project, branch, worktree, what it holds, state, idle
// time, idle policy) and the next actions: put the idlest stack to sleep
// with env_sleep in its worktree or `wtenv sleep --worktree DIR`, or raise WTENV_MEMORY_BUDGET to a
// value that fits. A stack that needs more than the whole budget gets
// advice about the budget and its own estimate instead.
func Refusal(d Decision, project, rule string, now time.Time) error {
	if d.Admit {
		return nil
	}
	var holding []Holder
	for _, h := range d.Holders {
		if h.Holds() > 0 {
			holding = append(holding, h)
		}
	}
	var b strings.Builder
	tooBig := d.Need > d.Limit
	if tooBig {
		fmt.Fprintf(&b, "memory budget too small: this stack needs %s (%s), more than the whole %s budget",
			human(d.Need), rule, human(d.Limit))
	} else {
		fmt.Fprintf(&b, "memory budget full: %s %s of the %s budget and this stack needs %s (%s)",
			countStacks(len(holding)), human(d.Used), human(d.Limit), human(d.Need), rule)
	}
	if d.IdlePolicy != "" && len(holding) > 0 {
		fmt.Fprintf(&b, "\nno stack holding memory could be put to sleep to make room: admission does that only to a stack untouched for its idle_after (%s; a worktree's wtenv.yaml idle_after overrides it) with no up, test run or sleep under way", d.IdlePolicy)
		b.WriteString("\n" + waitLine(d))
	}
	if len(holding) > 0 {
		b.WriteString("\nstacks holding memory, largest first:")
		for _, h := range holding {
			b.WriteString("\n  - " + describe(h, now))
		}
	}
	fmt.Fprintf(&b, "\nto start %s:", name(project))
	raise := fmt.Sprintf("raise %s to at least %s (it is %s now)", EnvVar, suggest(d.Used+d.Need), human(d.Limit))
	if tooBig {
		fmt.Fprintf(&b, "\n  - %s", raise)
		if hint := ruleHint(rule); hint != "" {
			fmt.Fprintf(&b, "\n  - or %s", hint)
		}
	} else {
		short := d.Used + d.Need - d.Limit
		idle := idlest(holding)
		fmt.Fprintf(&b, "\n  - free at least %s: run env_sleep (or env_down) in an idle stack's worktree; the idlest is %s",
			human(short), idleRef(idle, now))
		if idle.Holds() < short {
			b.WriteString("; it alone frees too little, put more from the list above to sleep")
		}
		fmt.Fprintf(&b, "\n  - or, as a human: %s", sleepCommand(idle))
		fmt.Fprintf(&b, "\n  - or %s", raise)
	}
	return &RefusedError{Decision: d, Project: project, Rule: rule, msg: b.String()}
}

func name(project string) string {
	if project == "" {
		return "this stack"
	}
	return project
}

func countStacks(n int) string {
	if n == 1 {
		return "1 stack holds"
	}
	return fmt.Sprintf("%d stacks hold", n)
}

// describe is one line of the holder list.
func describe(h Holder, now time.Time) string {
	var b strings.Builder
	b.WriteString(h.Project)
	if h.Branch != "" {
		fmt.Fprintf(&b, " (branch %s)", h.Branch)
	}
	if h.Worktree != "" {
		fmt.Fprintf(&b, " in %s", h.Worktree)
	}
	// Say which of reservation and measurement the stack is counted by, so
	// a small running stack holding a large reservation is not a puzzle.
	if h.Measured >= h.Reserved {
		fmt.Fprintf(&b, ": %s in use", human(h.Measured))
	} else if h.Measured > 0 {
		fmt.Fprintf(&b, ": %s reserved (using %s)", human(h.Reserved), human(h.Measured))
	} else {
		fmt.Fprintf(&b, ": %s reserved", human(h.Reserved))
	}
	if h.State != "" {
		b.WriteString(", " + h.State)
	}
	b.WriteString(", " + idleFor(h.IdleSince, now))
	if h.Policy {
		switch {
		case h.InUse:
			b.WriteString(", in use (an up, a test run or a sleep is under way)")
		case h.IdleAfter <= 0:
			b.WriteString(", never put to sleep (idle_after: 0)")
		case h.IdleSince.IsZero():
			b.WriteString(", not put to sleep while its idle time is unknown")
		default:
			fmt.Fprintf(&b, ", put to sleep once idle %s", DescribeIdleAfter(h.IdleAfter))
		}
	}
	return b.String()
}

// idlest is the holder idle the longest; holders with an unknown idle time
// come after all known ones, and ties go to the larger holder. holding is
// sorted largest first and not empty.
func idlest(holding []Holder) Holder {
	best := holding[0]
	for _, h := range holding[1:] {
		switch {
		case h.IdleSince.IsZero():
		case best.IdleSince.IsZero(), h.IdleSince.Before(best.IdleSince):
			best = h
		}
	}
	return best
}

func idleRef(h Holder, now time.Time) string {
	where := h.Project + " (worktree unknown)"
	if h.Worktree != "" {
		where = h.Worktree + " (" + h.Project + ")"
	}
	return fmt.Sprintf("%s, holding %s, %s", where, human(h.Holds()), idleFor(h.IdleSince, now))
}

// sleepCommand puts h to sleep from a shell. Without a worktree (a stack whose labels
// were lost from the state file) compose still finds it by project label.
func sleepCommand(h Holder) string {
	if h.Worktree == "" {
		return "docker compose -p " + h.Project + " down"
	}
	return "wtenv sleep --worktree " + shellQuote(h.Worktree)
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// idleFor is "idle 40s", "idle 14m" or "idle 3h5m" within a day, "idle since
// 2026-11-27 15:04" beyond, in now's time zone.
func idleFor(since, now time.Time) string {
	if since.IsZero() {
		return "idle time unknown"
	}
	d := now.Sub(since)
	switch {
	case d < time.Second:
		return "idle <1s"
	case d < time.Minute:
		// Seconds count when idle_after is short.
		return fmt.Sprintf("idle %ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("idle %dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("idle %dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return "idle since " + since.In(now.Location()).Format("2006-01-02 15:04")
	}
}

func ruleHint(rule string) string {
	switch rule {
	case RuleEstimate:
		return "lower memory.estimate in wtenv.yaml if it is too high"
	case RuleServiceLimits, RuleMixed:
		return "lower the services' memory limits, or set memory.estimate in wtenv.yaml"
	case RuleDefault:
		return "set memory.estimate in wtenv.yaml to what the stack really needs"
	}
	return ""
}

var binaryAbbrs = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// human is a size for people: "11.2 GiB", "12 GiB", "512 MiB".
func human(n int64) string {
	s := units.CustomSize("%.1f %s", float64(n), 1024, binaryAbbrs)
	return strings.Replace(s, ".0 ", " ", 1)
}

// suggest rounds n up to a multiple of 256 MiB and spells it the way
// ParseBudget reads it, so the value can be pasted as is and always fits.
func suggest(n int64) string {
	const step = 256 << 20
	steps := (n + step - 1) / step
	gib := float64(steps) / 4
	return strconv.FormatFloat(gib, 'f', -1, 64) + "GiB"
}

// waitLine says what admission did about stacks that were about to turn
// idle.
func waitLine(d Decision) string {
	switch {
	case d.Waited > 0:
		return fmt.Sprintf("admission waited %s (of up to %s, %s) for stacks to turn idle; they did not free enough in time", span(d.Waited), span(d.Wait), WaitEnvVar)
	case d.Wait > 0:
		return fmt.Sprintf("admission waits up to %s (%s) for stacks about to turn idle; none would free enough within that", span(d.Wait), WaitEnvVar)
	default:
		return fmt.Sprintf("admission does not wait for stacks to turn idle (%s is 0)", WaitEnvVar)
	}
}

// span is a wait for people: 300ms, 45s, 2m, 1h30m.
func span(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return DescribeIdleAfter(d.Round(time.Second))
}
