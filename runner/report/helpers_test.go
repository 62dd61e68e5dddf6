package report

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wantFailure describes an expected Failure: its name and location exactly,
// and lines its output must contain.
type wantFailure struct {
	name     string
	location string
	output   []string
}

// parseFixture feeds testdata/<file> to a new parser in one write.
func parseFixture(t *testing.T, format, file string, exitCode int) Result {
	t.Helper()
	p := newParser(t, format, "")
	if _, err := p.Write(readFixture(t, file)); err != nil {
		t.Fatal(err)
	}
	return p.Result(exitCode)
}

func newParser(t *testing.T, format, reportPath string) Parser {
	t.Helper()
	p, err := New(format, reportPath)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readFixture(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeChunks writes b in chunks of random sizes, from 1 byte to a few
// hundred, calling after with the counts after each chunk.
func writeChunks(t *testing.T, p Parser, b []byte, seed uint64, after func(Counts)) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for len(b) > 0 {
		n := 1 + r.IntN(300)
		if r.IntN(4) == 0 {
			n = 1 + r.IntN(7) // often split inside a line, a rune or a JSON value
		}
		n = min(n, len(b))
		if _, err := p.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
		if after != nil {
			after(p.Counts())
		}
	}
}

func checkResult(t *testing.T, got Result, counts Counts, failures []wantFailure, omitted int) {
	t.Helper()
	if got.Counts != counts {
		t.Errorf("counts = %+v, want %+v", got.Counts, counts)
	}
	if got.Omitted != omitted {
		t.Errorf("omitted = %d, want %d", got.Omitted, omitted)
	}
	if len(got.Failures) != len(failures) {
		var names []string
		for _, f := range got.Failures {
			names = append(names, f.Name)
		}
		t.Fatalf("%d failures %q, want %d", len(got.Failures), names, len(failures))
	}
	for i, w := range failures {
		f := got.Failures[i]
		if f.Name != w.name {
			t.Errorf("failure %d: name = %q, want %q", i, f.Name, w.name)
		}
		if f.Location != w.location {
			t.Errorf("failure %d (%s): location = %q, want %q", i, f.Name, f.Location, w.location)
		}
		for _, s := range w.output {
			if !strings.Contains(f.Output, s) {
				t.Errorf("failure %d (%s): output does not contain %q:\n%s", i, f.Name, s, f.Output)
			}
		}
		if len(f.Output) > MaxFailureOutput {
			t.Errorf("failure %d (%s): output is %d bytes, more than %d", i, f.Name, len(f.Output), MaxFailureOutput)
		}
	}
	if len(got.Tail) > MaxTail {
		t.Errorf("tail is %d bytes, more than %d", len(got.Tail), MaxTail)
	}
}
