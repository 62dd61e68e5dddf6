package report

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNew(t *testing.T) {
	for _, f := range []string{FormatGoTestJSON, FormatTAP, FormatPlain} {
		if _, err := New(f, ""); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
	if _, err := New(FormatJUnit, "report.xml"); err != nil {
		t.Errorf("New(junit): %v", err)
	}
	_, err := New("xunit", "")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("New(xunit) = %v, want ErrUnknownFormat", err)
	}
	if want := `unknown test format "xunit": use one of go-test-json, junit, tap, plain`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if _, err := New(FormatJUnit, ""); err == nil || !strings.Contains(err.Error(), "set report next to format in wtenv.yaml") {
		t.Errorf("New(junit, \"\") = %v, want an error naming the report setting", err)
	}
}

func TestCountsString(t *testing.T) {
	tests := []struct {
		c    Counts
		want string
	}{
		{Counts{}, "0 passed, 0 failed"},
		{Counts{Passed: 37, Failed: 1}, "37 passed, 1 failed"},
		{Counts{Passed: 37, Failed: 1, Skipped: 2}, "37 passed, 1 failed, 2 skipped"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestPlain(t *testing.T) {
	long := strings.Repeat("compiling module 42 of 500\n", 400)
	tests := []struct {
		name     string
		output   string
		exitCode int
		want     []wantFailure
	}{
		{"passed", "all good\n", 0, nil},
		{"failed", "running\nFAILED tests/test_x.py::test_y\n", 2, []wantFailure{
			{"exit status 2", "", []string{"running\nFAILED tests/test_x.py::test_y\n"}},
		}},
		{"silent", "", 137, []wantFailure{{"exit status 137", "", []string{"the suite printed nothing"}}}},
		{"long output keeps its end", long + "error: disk full\n", 1, []wantFailure{
			{"exit status 1", "", []string{"compiling module 42 of 500\nerror: disk full\n"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newParser(t, FormatPlain, "")
			p.Write([]byte(tt.output))
			got := p.Result(tt.exitCode)
			checkResult(t, got, Counts{}, tt.want, 0)
			if !strings.HasSuffix(tt.output, got.Tail) || (len(tt.output) <= MaxTail && got.Tail != tt.output) {
				t.Errorf("tail %q is not the end of the output", got.Tail)
			}
		})
	}
}

// Every format explains a non-zero exit that its output does not.
func TestExitWithoutFailures(t *testing.T) {
	for _, f := range []string{FormatGoTestJSON, FormatTAP} {
		p := newParser(t, f, "")
		p.Write([]byte("panic: config file missing\n"))
		got := p.Result(3)
		checkResult(t, got, Counts{}, []wantFailure{{"exit status 3", "", []string{"panic: config file missing"}}}, 0)
	}
}

func TestTail(t *testing.T) {
	line := "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq\n" // 64 bytes
	tests := []struct {
		name, output, want string
	}{
		{"short", "a\nb\n", "a\nb\n"},
		{"cut just after a newline", "x\n" + strings.Repeat(line, 64), strings.Repeat(line, 64)},
		{"partial first line dropped", "x" + strings.Repeat(line, 64), strings.Repeat(line, 63)},
		{"one long line cut at a rune", strings.Repeat("é", 3000), strings.Repeat("é", 2048)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newParser(t, FormatPlain, "")
			writeChunks(t, p, []byte(tt.output), 7, nil)
			got := p.Result(0).Tail
			if got != tt.want {
				t.Errorf("tail is %d bytes %q..., want %d bytes", len(got), firstBytes(got, 40), len(tt.want))
			}
			if !utf8.ValidString(got) {
				t.Error("tail is not valid UTF-8")
			}
		})
	}
}

func TestClip(t *testing.T) {
	body := strings.Repeat("log line that says little\n", 200) + "the error\n"
	got := clip(body, "", 0)
	if len(got) > MaxFailureOutput || !strings.HasPrefix(got, "[... ") || !strings.HasSuffix(got, "the error\n") {
		t.Errorf("clip kept %d bytes: %q...", len(got), firstBytes(got, 60))
	}
	got = clip("panic: boom\n"+body, "panic: boom", 0)
	if len(got) > MaxFailureOutput || !strings.HasPrefix(got, "panic: boom\n[... ") || !strings.HasSuffix(got, "the error\n") {
		t.Errorf("clip with head kept %d bytes: %q...", len(got), firstBytes(got, 60))
	}
	if got := clip("short\n", "", 0); got != "short\n" {
		t.Errorf("clip(short) = %q", got)
	}
}
