package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// stamped is one stderr line of a timed command and when it arrived,
// relative to the command's start. wtenv writes one line per step of an
// up ("creating db", "waiting for api: healthy"), compose one per
// container action, so the stamps show where an up spends its time.
type stamped struct {
	at   time.Duration
	text string
}

// cmdRun is one timed run of a command.
type cmdRun struct {
	wall   time.Duration // from t0 until the process exited
	cpu    time.Duration // the process's own user+system CPU time
	lines  []stamped
	stdout []byte
	err    error
}

// runTimed runs argv in dir and times it from t0 (taken by the caller just
// before, so a poller started at t0 shares the origin) until the process
// has exited and its output is read.
func runTimed(ctx context.Context, t0 time.Time, dir string, argv []string) cmdRun {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return cmdRun{err: err}
	}
	if err := cmd.Start(); err != nil {
		return cmdRun{err: err}
	}
	var lines []stamped
	s := bufio.NewScanner(errPipe)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		lines = append(lines, stamped{at: time.Since(t0), text: s.Text()})
	}
	err = cmd.Wait()
	r := cmdRun{wall: time.Since(t0), lines: lines, stdout: out.Bytes()}
	if ps := cmd.ProcessState; ps != nil {
		// CPU time hardly depends on how busy the machine is, wall time
		// does: it tells the command's own cost from its waiting.
		r.cpu = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		r.err = fmt.Errorf("%s: %v\n%s%s", strings.Join(argv, " "), err, errorLines(lines), tail(lines, 10))
	}
	return r
}

// errorLines picks the lines that state an error, which a log tail the
// error carries (wtenv appends the service's last log lines) can push out
// of the tail: wtenv's "wtenv up: ..." and Compose's "ERROR: ...".
func errorLines(lines []stamped) string {
	var b strings.Builder
	for _, l := range lines {
		t := l.text
		if (strings.HasPrefix(t, "wtenv ") && !strings.HasPrefix(t, "wtenv: ")) || strings.Contains(t, "ERROR") {
			b.WriteString("  " + t + "\n")
		}
	}
	return b.String()
}

// tail renders the last n stderr lines, for error messages.
func tail(lines []stamped, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l.text + "\n")
	}
	return b.String()
}

// runQuiet runs argv in dir untimed, for setup and cleanup steps, and
// returns its stdout.
func runQuiet(ctx context.Context, dir string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}
