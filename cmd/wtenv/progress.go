package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/term"
)

// progressView shows the step messages of a command on stderr. On a
// terminal it is one live view, as Compose shows one: a line per service
// (or suite) with its current step, a build condensed to the step it is
// at, rewritten in place; other messages print above it. Elsewhere (a
// file, a pipe, an agent's tool output) each real change is one line:
// a message the same as the last one about the same thing is left out,
// and so are the heartbeats that say only that a suite still runs.
type progressView struct {
	w     io.Writer
	tty   bool
	fd    int // the terminal's, for its size; -1 when unknown
	width int
	mu    sync.Mutex
	last  map[string]string // subject → the last message shown
	order []string          // subjects in the order they came (terminal)
	drawn int               // lines of the live view on screen
}

func newProgressView(w io.Writer) *progressView {
	v := &progressView{w: w, last: map[string]string{}, width: 100, fd: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		v.tty, v.fd = true, int(f.Fd())
	}
	return v
}

// subjectOf splits a step message into what it is about (a service, or a
// suite) and the step; general messages have no subject.
var subjectPatterns = []*regexp.Regexp{
	regexp.MustCompile(`^building ([^ :,]+)(?::|,| |$)`),
	regexp.MustCompile(`^(?:creating|starting|recreating|restarting|removing|stopping) ([^ :]+)(?: |$)`),
	regexp.MustCompile(`^waiting for ([^ :]+):`),
	regexp.MustCompile(`^(unit|e2e|[a-z][a-z0-9_-]*): `),
}

func subjectOf(msg string) string {
	if strings.HasPrefix(msg, "creating network ") || strings.HasPrefix(msg, "creating volume ") {
		return ""
	}
	for _, re := range subjectPatterns {
		if m := re.FindStringSubmatch(msg); m != nil {
			return m[1]
		}
	}
	return ""
}

// heartbeat is a message that says only that a suite still runs.
var heartbeat = regexp.MustCompile(`^[^ ]+: running for \d`)

func (v *progressView) show(msg string) { v.showAs("", msg) }

// showAs shows a message of one of several workers (the demo's two
// worktrees): who prefixes it, and keeps the workers' subjects apart.
func (v *progressView) showAs(who, msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	subject := subjectOf(msg)
	if !v.tty && heartbeat.MatchString(msg) {
		return
	}
	if who != "" {
		if subject != "" {
			subject = who + " " + subject
		}
		msg = who + ": " + msg
	}
	if !v.tty {
		if subject != "" && v.last[subject] == msg {
			return
		}
		if subject != "" {
			v.last[subject] = msg
		}
		fmt.Fprintf(v.w, "wtenv: %s\n", msg)
		return
	}
	v.clear()
	if subject == "" {
		fmt.Fprintf(v.w, "wtenv: %s\n", msg)
	} else {
		if _, ok := v.last[subject]; !ok {
			v.order = append(v.order, subject)
		}
		v.last[subject] = msg
	}
	v.draw()
}

// above writes text to w (another stream, on the same terminal) above the
// live view.
func (v *progressView) above(w io.Writer, text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.tty {
		io.WriteString(w, text)
		return
	}
	v.clear()
	io.WriteString(w, text)
	v.draw()
}

// clear moves the cursor to the top of the live view and erases it.
func (v *progressView) clear() {
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.drawn)
		v.drawn = 0
	}
}

// draw writes the live view: a line per subject, each cut to the
// terminal's width so that none wraps (the cursor arithmetic counts
// lines), and no more lines than the terminal has rows, the latest
// subjects kept.
func (v *progressView) draw() {
	width, rows := v.width, 0
	if v.fd >= 0 {
		if cols, r, err := term.GetSize(v.fd); err == nil && cols > 20 {
			width, rows = cols, r
		}
	}
	order := v.order
	if rows > 2 && len(order) > rows-1 {
		order = order[len(order)-(rows-1):]
	}
	for _, s := range order {
		line := []rune(" " + strings.Map(printable, v.last[s]))
		if len(line) > width-1 {
			line = append(line[:width-2], '…')
		}
		fmt.Fprintf(v.w, "%s\n", string(line))
		v.drawn++
	}
}

// printable turns a tab or another control character into a space: the
// terminal would move the cursor by more than one column for it.
func printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return ' '
	}
	return r
}
