package report

import (
	"strings"
	"testing"
)

func TestTAP(t *testing.T) {
	tests := []struct {
		file     string
		exitCode int
		counts   Counts
		failures []wantFailure
	}{
		{
			// SKIP counts as skipped, a failing TODO too; the YAML block
			// is the failure's output and gives its location.
			file: "tap13.tap", exitCode: 1,
			counts: Counts{Passed: 3, Failed: 2, Skipped: 2},
			failures: []wantFailure{
				{"total includes tax", "test/cart.test.js:41", []string{
					"not ok 3 - total includes tax\nmessage: 'expected 107, got 100'\nseverity: fail\n",
					"data:\n  got: 100\n  expect: 107\n",
				}},
				{"checkout sends a receipt", "/app/test/checkout.test.js:88", []string{
					"operator: equal", "actual:   'queued'",
				}},
			},
		},
		{
			file: "passing.tap", exitCode: 0,
			counts: Counts{Passed: 3},
		},
		{
			file: "plan_short.tap", exitCode: 1,
			counts: Counts{Passed: 2, Failed: 1},
			failures: []wantFailure{
				{"migrates the orders table", "", []string{`message: relation "orders" already exists`}},
				{"planned 5 tests, ran 3", "", []string{"announced 5 tests but 3 reported a result"}},
			},
		},
		{
			// A bail out is the failure; the plan it cut short is not
			// another one.
			file: "bail_out.tap", exitCode: 1,
			counts: Counts{Passed: 1},
			failures: []wantFailure{
				{"Bail out!", "", []string{"Bail out! could not connect to redis at 127.0.0.1:6379"}},
			},
		},
		{
			// Diagnostics as comments, location as Perl prints it.
			file: "perl.tap", exitCode: 1,
			counts: Counts{Passed: 1, Failed: 1, Skipped: 1},
			failures: []wantFailure{
				{"order total", "t/order.t:14", []string{"#   Failed test 'order total'\n#   at t/order.t line 14.\n#          got: '5'\n#     expected: '4'\n"}},
			},
		},
		{
			// Node's reporter: suites are parents, not counted, unless
			// they fail on their own (an after hook in "server").
			file: "node.tap", exitCode: 1,
			counts: Counts{Passed: 3, Failed: 2, Skipped: 1},
			failures: []wantFailure{
				{"math > divides", "/app/test/math.test.js:9", []string{"2 !== 3", "operator: 'strictEqual'"}},
				{"server", "/app/test/server.test.js:5", []string{"error: 'failed running after hook'"}},
			},
		},
		{
			// TAP 14 subtests with the header at the children's level.
			file: "tap14_subtests.tap", exitCode: 1,
			counts: Counts{Passed: 2, Failed: 1},
			failures: []wantFailure{
				{"api/orders.tap > rejects a negative quantity", "test/api/orders.js:57", []string{"found: 201\nwanted: 400"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := parseFixture(t, FormatTAP, "tap/"+tt.file, tt.exitCode)
			checkResult(t, got, tt.counts, tt.failures, 0)
			if want := string(readFixture(t, "tap/"+tt.file)); got.Tail != want {
				t.Errorf("tail is not the raw output:\n%s", got.Tail)
			}
		})
	}
}

func TestTAPSummaryCommentsStayOut(t *testing.T) {
	got := parseFixture(t, FormatTAP, "tap/tap13.tap", 1)
	if out := got.Failures[len(got.Failures)-1].Output; strings.Contains(out, "# tests") {
		t.Errorf("the closing totals went into the last failure:\n%s", out)
	}
}

func TestTAPLines(t *testing.T) {
	tests := []struct {
		name   string
		tap    string
		counts Counts
		names  []string
	}{
		{"no description", "1..2\nok 1\nnot ok 2\n", Counts{Passed: 1, Failed: 1}, []string{"test 2"}},
		{"no number", "ok - a\nnot ok - b\n", Counts{Passed: 1, Failed: 1}, []string{"b"}},
		{"skip spelled out", "1..1\nnot ok 1 - net # Skipped: offline\n", Counts{Skipped: 1}, nil},
		{"todo lower case", "1..1\nnot ok 1 - later # todo\n", Counts{Skipped: 1}, nil},
		{"escaped hash is no directive", "1..1\nnot ok 1 - issue \\# SKIP 12\n", Counts{Failed: 1}, []string{"issue # SKIP 12"}},
		{"crlf", "1..1\r\nnot ok 1 - windows\r\n", Counts{Failed: 1}, []string{"windows"}},
		{"skip all", "1..0 # SKIP no browser\n", Counts{}, nil},
		{"more than planned", "1..1\nok 1\nok 2\n", Counts{Passed: 2}, []string{"planned 1 tests, ran 2"}},
		{"yaml never closed", "1..2\nnot ok 1 - a\n  ---\n  message: x\nok 2 - b\n", Counts{Passed: 1, Failed: 1}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newParser(t, FormatTAP, "")
			p.Write([]byte(tt.tap))
			got := p.Result(0)
			if got.Counts != tt.counts {
				t.Errorf("counts = %+v, want %+v", got.Counts, tt.counts)
			}
			var names []string
			for _, f := range got.Failures {
				names = append(names, f.Name)
			}
			if strings.Join(names, "|") != strings.Join(tt.names, "|") {
				t.Errorf("failures %q, want %q", names, tt.names)
			}
		})
	}
}

// The plan is the total progress reports.
func TestTAPPlanned(t *testing.T) {
	p := newTAP()
	if p.Planned() != -1 {
		t.Errorf("before a plan: %d", p.Planned())
	}
	p.Write([]byte("1..4\nok 1 - a\n"))
	if p.Planned() != 4 {
		t.Errorf("after 1..4: %d", p.Planned())
	}
}
