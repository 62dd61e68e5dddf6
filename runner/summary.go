package runner

import (
	"fmt"
	"strings"
	"time"
)

// Summary is the run in a few lines of text: the verdict, the counts,
// each failure with its location and last output lines, and the log path.
// The MCP tools send it to models that read only text; the CLI prints it.
func (r TestRun) Summary() string {
	var b strings.Builder
	verdict := "passed"
	if !r.Passed {
		verdict = "FAILED"
	}
	counts := r.Counts.String()
	if !r.Counted {
		counts = "plain output, no test counts; the verdict is the exit code"
	}
	fmt.Fprintf(&b, "%s tests %s: %s (exit code %d, %s).", r.Suite, verdict, counts, r.ExitCode, time.Duration(r.DurationMS)*time.Millisecond)
	for _, line := range r.Admission.Lines() {
		b.WriteString("\n" + line)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "\n- %s", f.Name)
		if f.Location != "" {
			fmt.Fprintf(&b, " at %s", f.Location)
		}
		if out := strings.TrimSpace(f.Output); out != "" {
			fmt.Fprintf(&b, ":\n  %s", strings.ReplaceAll(lastLines(out, 6), "\n", "\n  "))
		}
	}
	if r.Omitted > 0 {
		fmt.Fprintf(&b, "\n(%d more failures not listed)", r.Omitted)
	}
	if !r.Passed && len(r.Failures) == 0 {
		fmt.Fprintf(&b, "\nLast output:\n%s", lastLines(r.OutputTail, 15))
	}
	fmt.Fprintf(&b, "\nFull log: %s", r.LogPath)
	return b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
