package report

import (
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

// Fed in chunks of any size, a stream gives the same Result as in one write.
func TestStreamingChunks(t *testing.T) {
	var files []string
	for _, pattern := range []string{"gotest/*.jsonl", "tap/*.tap"} {
		m, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil || len(m) == 0 {
			t.Fatalf("no fixtures for %s: %v", pattern, err)
		}
		files = append(files, m...)
	}
	for _, path := range files {
		rel, _ := filepath.Rel("testdata", path)
		format := FormatTAP
		if filepath.Ext(path) == ".jsonl" {
			format = FormatGoTestJSON
		}
		t.Run(rel, func(t *testing.T) {
			want := parseFixture(t, format, rel, 1)
			b := readFixture(t, rel)
			for seed := uint64(1); seed <= 5; seed++ {
				p := newParser(t, format, "")
				writeChunks(t, p, b, seed, nil)
				if got := p.Result(1); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d: chunked result differs:\n got %+v\nwant %+v", seed, got, want)
				}
			}
		})
	}
}

// Counts grow while the stream arrives, never shrink, and end at the
// Result's counts.
func TestCountsGrowDuringStream(t *testing.T) {
	tests := []struct{ format, file string }{
		{FormatGoTestJSON, "gotest/orders.jsonl"},
		{FormatGoTestJSON, "gotest/all.jsonl"},
		{FormatTAP, "tap/tap13.tap"},
		{FormatTAP, "tap/node.tap"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := newParser(t, tt.format, "")
			var seen []Counts
			writeChunks(t, p, readFixture(t, tt.file), 42, func(c Counts) {
				if len(seen) == 0 || seen[len(seen)-1] != c {
					seen = append(seen, c)
				}
			})
			final := p.Result(1).Counts
			if len(seen) < 3 {
				t.Errorf("counts changed only %d times during the stream: %v", len(seen), seen)
			}
			for i := 1; i < len(seen); i++ {
				a, b := seen[i-1], seen[i]
				if b.Passed < a.Passed || b.Failed < a.Failed || b.Skipped < a.Skipped {
					t.Errorf("counts shrank from %v to %v", a, b)
				}
			}
			if last := seen[len(seen)-1]; last != final {
				t.Errorf("last streamed counts %v, result %v", last, final)
			}
		})
	}
}

// Counts may be read while another goroutine writes (run with -race).
func TestCountsConcurrentWithWrite(t *testing.T) {
	b := readFixture(t, "gotest/all.jsonl")
	for _, format := range Formats() {
		p := newParser(t, format, filepath.Join(t.TempDir(), "none.xml"))
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
					_ = p.Counts().String()
				}
			}
		})
		writeChunks(t, p, b, 3, nil)
		close(done)
		wg.Wait()
		p.Result(1)
	}
}
