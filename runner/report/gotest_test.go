package report

import (
	"fmt"
	"strings"
	"testing"
)

// The fixtures are real `go test -json` streams of the packages in
// testdata/gotest/src.txtar.
func TestGoTestJSON(t *testing.T) {
	manyCases := func(from, to int) []wantFailure {
		var fs []wantFailure
		for i := from; i <= to; i++ {
			fs = append(fs, wantFailure{
				name:     fmt.Sprintf("TestMany/case%02d", i),
				location: "many_test.go:11",
				output:   []string{fmt.Sprintf("    many_test.go:11: case %d: status 500, want 200\n", i)},
			})
		}
		return fs
	}
	brokenBuild := wantFailure{
		name:     "example.com/shop/broken",
		location: "broken/broken_test.go:6",
		output: []string{
			"# example.com/shop/broken [example.com/shop/broken.test]\nbroken/broken_test.go:6:17: undefined: undefinedValue\n",
			"FAIL\texample.com/shop/broken [build failed]",
		},
	}
	tests := []struct {
		file     string
		exitCode int
		counts   Counts
		failures []wantFailure
		omitted  int
	}{
		{
			// Leaves are counted: TestRounding and TestParallelGroup are
			// not, their subtests are. TestParentOwnFailure failed by
			// itself after its passing subtest, so it counts.
			file: "orders.jsonl", exitCode: 1,
			counts: Counts{Passed: 5, Failed: 3, Skipped: 2},
			failures: []wantFailure{
				// The last t.Error-style line is the location, not the
				// t.Log line before it.
				{"TestOrderTotal", "total_test.go:15", []string{"    total_test.go:12: computing the total of three lines\n    total_test.go:15: expected 4, got 5\n"}},
				{"TestRounding/three", "total_test.go:36", []string{"Total([1 1 1]) = 3, want 4"}},
				{"TestParentOwnFailure", "total_test.go:55", []string{"the parent checks something after its subtests"}},
			},
		},
		{
			file: "pass.jsonl", exitCode: 0,
			counts: Counts{Passed: 2, Skipped: 2},
		},
		{
			// The panic's first frame outside the Go tree is where it broke.
			file: "panic.jsonl", exitCode: 1,
			counts: Counts{Passed: 1, Failed: 1},
			failures: []wantFailure{{"TestItem", "/tmp/gofix/cart/cart.go:4", []string{
				"panic: runtime error: index out of range [5] with length 3",
				"/tmp/gofix/cart/cart_test.go:9",
			}}},
		},
		{
			// TestSlow never gets a result event: the package's failure
			// fails it.
			file: "timeout.jsonl", exitCode: 1,
			counts: Counts{Passed: 1, Failed: 1},
			failures: []wantFailure{{"TestSlow", "/tmp/gofix/slow/slow_test.go:11", []string{
				"panic: test timed out after 1s", "\t\tTestSlow (1s)",
			}}},
		},
		{
			file: "build_fail.jsonl", exitCode: 1,
			failures: []wantFailure{brokenBuild},
		},
		{
			// Build output as plain text, as before Go 1.24.
			file: "build_fail_text.jsonl", exitCode: 1,
			failures: []wantFailure{brokenBuild},
		},
		{
			file: "dependency_build_fail.jsonl", exitCode: 1,
			failures: []wantFailure{{"example.com/shop/usesbroken", "lib/lib.go:4", []string{
				"lib/lib.go:4:37: undefined: missing", "FAIL\texample.com/shop/usesbroken [build failed]",
			}}},
		},
		{
			file: "testmain_exit.jsonl", exitCode: 1,
			failures: []wantFailure{{"example.com/shop/boot", "", []string{
				"setup failed: connection refused\nFAIL\texample.com/shop/boot",
			}}},
		},
		{
			file: "many.jsonl", exitCode: 1,
			counts:   Counts{Failed: 26},
			failures: manyCases(1, 20),
			omitted:  6,
		},
		{
			file: "long_output.jsonl", exitCode: 1,
			counts: Counts{Failed: 1},
			failures: []wantFailure{{"TestChatty", "many_test.go:20", []string{
				"bytes cut ...]\n",
				"step 120: still working on the import batch\n    many_test.go:20: import failed: row 120 has 7 columns, want 8\n",
			}}},
		},
		{
			// Every package of the fixture module; the TestMany cases fill
			// the list after the first four failures.
			file: "all.jsonl", exitCode: 1,
			counts: Counts{Passed: 7, Failed: 31, Skipped: 2},
			failures: append([]wantFailure{
				{"example.com/shop/boot", "", []string{"setup failed: connection refused"}},
				brokenBuild,
				{"TestItem", "/tmp/gofix/cart/cart.go:4", []string{"index out of range"}},
				{"example.com/shop/lib", "lib/lib.go:4", []string{"lib/lib.go:4:37: undefined: missing"}},
			}, manyCases(1, 16)...),
			omitted: 15,
		},
		{
			file: "all_text.jsonl", exitCode: 1,
			counts: Counts{Passed: 7, Failed: 31, Skipped: 2},
			failures: append([]wantFailure{
				{"example.com/shop/boot", "", []string{"setup failed: connection refused"}},
				brokenBuild,
				{"TestItem", "/tmp/gofix/cart/cart.go:4", []string{"index out of range"}},
				{"example.com/shop/lib", "lib/lib.go:4", []string{"lib/lib.go:4:37: undefined: missing"}},
			}, manyCases(1, 16)...),
			omitted: 15,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := parseFixture(t, FormatGoTestJSON, "gotest/"+tt.file, tt.exitCode)
			checkResult(t, got, tt.counts, tt.failures, tt.omitted)
		})
	}
}

func TestGoTestJSONOutputDropsFraming(t *testing.T) {
	got := parseFixture(t, FormatGoTestJSON, "gotest/orders.jsonl", 1)
	for _, f := range got.Failures {
		if strings.Contains(f.Output, "=== RUN") || strings.Contains(f.Output, "--- FAIL") {
			t.Errorf("%s: output keeps go test's framing lines:\n%s", f.Name, f.Output)
		}
	}
}

func TestGoTestJSONTailIsText(t *testing.T) {
	got := parseFixture(t, FormatGoTestJSON, "gotest/build_fail_text.jsonl", 1)
	want := "# example.com/shop/broken [example.com/shop/broken.test]\n" +
		"broken/broken_test.go:6:17: undefined: undefinedValue\n" +
		"FAIL\texample.com/shop/broken [build failed]\n"
	if got.Tail != want {
		t.Errorf("tail = %q, want %q", got.Tail, want)
	}
	got = parseFixture(t, FormatGoTestJSON, "gotest/all.jsonl", 1)
	if strings.Contains(got.Tail, `"Action"`) {
		t.Errorf("tail holds JSON events:\n%s", got.Tail)
	}
	if !strings.HasSuffix(got.Tail, "FAIL\texample.com/shop/slow\t2.006s\n") {
		t.Errorf("tail does not end with the last package's line:\n%s", got.Tail)
	}
}

// A stream cut off while tests run (the runner's own timeout) fails the
// tests that were running and says so.
func TestGoTestJSONCutOff(t *testing.T) {
	b := readFixture(t, "gotest/timeout.jsonl")
	cut := strings.Index(string(b), `"Output":"panic: test timed out`)
	cut = strings.LastIndexByte(string(b[:cut]), '\n') + 1
	p := newParser(t, FormatGoTestJSON, "")
	p.Write(b[:cut])
	got := p.Result(-1)
	checkResult(t, got, Counts{Passed: 1, Failed: 1}, []wantFailure{{
		"TestSlow", "", []string{"[the output ended before this test reported a result]"},
	}}, 0)
}
