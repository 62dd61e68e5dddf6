package report

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxLine bounds a line held while waiting for its newline; a longer one is
// handled in pieces, so one endless line cannot exhaust memory.
const maxLine = 1 << 20

// lineSplitter turns chunks of any size into whole lines, passed to handle
// without the newline and without a trailing carriage return.
type lineSplitter struct {
	partial []byte
	handle  func(line string)
}

func (s *lineSplitter) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			if len(s.partial) >= maxLine {
				s.flush()
			}
			return
		}
		var line string
		if len(s.partial) > 0 {
			s.partial = append(s.partial, p[:i]...)
			line = string(s.partial)
			s.partial = s.partial[:0]
		} else {
			line = string(p[:i])
		}
		s.handle(strings.TrimSuffix(line, "\r"))
		p = p[i+1:]
	}
}

// flush hands over a last line that never got its newline.
func (s *lineSplitter) flush() {
	if len(s.partial) == 0 {
		return
	}
	line := string(s.partial)
	s.partial = s.partial[:0]
	s.handle(strings.TrimSuffix(line, "\r"))
}

// tailBuffer keeps the last bytes written to it: at least limit, at most
// twice that, so that trimming happens once per limit bytes, not per write.
type tailBuffer struct {
	buf     []byte
	limit   int
	dropped int // bytes written and discarded
}

func (t *tailBuffer) write(p []byte) {
	if len(p) >= t.limit {
		t.dropped += len(t.buf) + len(p) - t.limit
		t.buf = append(t.buf[:0], p[len(p)-t.limit:]...)
		return
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.limit {
		cut := len(t.buf) - t.limit
		t.dropped += cut
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
}

func (t *tailBuffer) writeString(s string) { t.write([]byte(s)) }

// tail returns the last MaxTail bytes written, cut at a line start when one
// is near.
func (t *tailBuffer) tail() string { return lastBytes(string(t.buf), MaxTail) }

// lastBytes returns the end of s, at most n bytes long. It starts after a
// newline when one lies in the first half of the cut, else at a character.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	t := s[len(s)-n:]
	if s[len(s)-n-1] == '\n' {
		return t
	}
	if i := strings.IndexByte(t, '\n'); i >= 0 && i < n/2 {
		return t[i+1:]
	}
	for k := 0; k < utf8.UTFMax && len(t) > 0 && !utf8.RuneStart(t[0]); k++ {
		t = t[1:]
	}
	return t
}

// firstBytes returns the start of s, at most n bytes long, ending at a
// character boundary.
func firstBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clip cuts a failure's output to MaxFailureOutput bytes, keeping its end.
// dropped is the number of bytes that came before s and are already gone.
// head, a line worth keeping wherever it was (a panic message), goes in
// front of the cut marker when the kept end does not contain it.
func clip(s, head string, dropped int) string {
	if dropped == 0 && len(s) <= MaxFailureOutput {
		return s
	}
	head = firstBytes(head, MaxFailureOutput/4)
	room := MaxFailureOutput - 48
	if head != "" {
		room -= len(head) + 1
	}
	kept := lastBytes(s, room)
	marker := fmt.Sprintf("[... %d bytes cut ...]\n", dropped+len(s)-len(kept))
	if head != "" && !strings.Contains(kept, head) {
		return head + "\n" + marker + kept
	}
	return marker + kept
}

// capture holds the output of one test or package while it runs: its end, and
// the first panic line wherever it was.
type capture struct {
	out   tailBuffer
	panic string
}

func newCapture() *capture {
	return &capture{out: tailBuffer{limit: 2 * MaxFailureOutput}}
}

func (c *capture) line(s string) {
	if c.panic == "" && strings.HasPrefix(s, "panic: ") {
		c.panic = s
	}
	c.out.writeString(s)
	c.out.writeString("\n")
}

func (c *capture) text() string {
	return clip(string(c.out.buf), c.panic, c.out.dropped)
}
