package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJUnit(t *testing.T) {
	tests := []struct {
		file     string
		exitCode int
		counts   Counts
		failures []wantFailure
	}{
		{
			// As go-junit-report writes it: go test's output in the text.
			file: "go.xml", exitCode: 1,
			counts: Counts{Passed: 3, Failed: 2, Skipped: 1},
			failures: []wantFailure{
				{"github.com/shop/api/orders.TestOrderTotal", "total_test.go:31", []string{"total_test.go:31: expected 4, got 5"}},
				{"github.com/shop/api/cart.TestItem", "/src/cart/cart.go:4", []string{"panic: runtime error: index out of range [5] with length 3 [recovered]"}},
			},
		},
		{
			// pytest's default (xunit2): no file or line attributes.
			file: "pytest.xml", exitCode: 1,
			counts: Counts{Passed: 2, Failed: 2, Skipped: 2},
			failures: []wantFailure{
				{"tests.test_orders.test_total", "tests/test_orders.py:12", []string{
					"assert 5 == 4\n +  where 5 = total([1, 2, 2])\ndef test_total():\n>       assert total([1, 2, 2]) == 4\n",
					"tests/test_orders.py:12: AssertionError",
				}},
				{"tests.test_db.test_insert", "tests/conftest.py:8", []string{
					`failed on setup with "ConnectionRefusedError: [Errno 111] Connection refused"`,
					"E   psycopg.OperationalError: connection failed: Connection refused",
				}},
			},
		},
		{
			// pytest with junit_family=xunit1: the failing line in the
			// text beats the line attribute, the test's first line.
			file: "pytest_xunit1.xml", exitCode: 1,
			counts: Counts{Passed: 1, Failed: 1},
			failures: []wantFailure{
				{"tests.test_orders.test_total", "tests/test_orders.py:12", []string{"E       assert 5 == 4"}},
			},
		},
		{
			// jest-junit: class and name repeat each other; file attribute.
			file: "jest.xml", exitCode: 1,
			counts: Counts{Passed: 3, Failed: 1, Skipped: 1},
			failures: []wantFailure{
				{"cart applies tax", "/app/src/cart.test.js:24", []string{"Expected: 107\nReceived: 100"}},
			},
		},
		{
			// vitest: the class is the test file.
			file: "vitest.xml", exitCode: 1,
			counts: Counts{Passed: 2, Failed: 1},
			failures: []wantFailure{
				{"src/math.test.ts > math > divides", "src/math.test.ts:11", []string{
					"AssertionError: expected 2 to be 3 // Object.is equality", "- 3\n+ 2", "[system-err]\ndividing 6 by 3",
				}},
			},
		},
		{
			// Maven Surefire: a lone <testsuite>; the test class's frame
			// beats the assertion library's frames above it.
			file: "surefire.xml", exitCode: 1,
			counts: Counts{Passed: 2, Failed: 1},
			failures: []wantFailure{
				{"com.shop.OrderServiceTest.totalIncludesTax", "OrderServiceTest.java:42", []string{
					"org.opentest4j.AssertionFailedError: expected: <107> but was: <100>", "[system-out]\ncomputing tax for order 17",
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			// The suite writes its report after the parser was made.
			path := filepath.Join(t.TempDir(), "report.xml")
			p := newParser(t, FormatJUnit, path)
			p.Write([]byte("running the suite\n"))
			if err := os.WriteFile(path, readFixture(t, "junit/"+tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			if c := p.Counts(); c != (Counts{}) {
				t.Errorf("counts while streaming = %+v, want none", c)
			}
			got := p.Result(tt.exitCode)
			checkResult(t, got, tt.counts, tt.failures, 0)
			if got.Tail != "running the suite\n" {
				t.Errorf("tail = %q", got.Tail)
			}
		})
	}
}

func TestJUnitReportProblems(t *testing.T) {
	report := readFixture(t, "junit/go.xml")
	tests := []struct {
		name          string
		before, after []byte // the report before the parser is made and after the run; nil: none
		want          func(path string) wantFailure
	}{
		{"missing", nil, nil, func(path string) wantFailure {
			return wantFailure{"junit report " + path + " not found", "", []string{
				"The suite did not write its JUnit report to " + path, "End of the output:\nError: no tests found",
			}}
		}},
		{"left by an earlier run", report, nil, func(path string) wantFailure {
			return wantFailure{"junit report " + path + " not rewritten", "", []string{"the one an earlier run left"}}
		}},
		{"truncated", nil, readFixture(t, "junit/truncated.xml"), func(path string) wantFailure {
			return wantFailure{"junit report " + path + " unreadable", "", []string{"XML syntax error"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reports", "e2e.xml")
			os.MkdirAll(filepath.Dir(path), 0o755)
			if tt.before != nil {
				os.WriteFile(path, tt.before, 0o644)
			}
			p := newParser(t, FormatJUnit, path)
			p.Write([]byte("Error: no tests found\n"))
			if tt.after != nil {
				os.WriteFile(path, tt.after, 0o644)
			}
			checkResult(t, p.Result(1), Counts{}, []wantFailure{tt.want(path)}, 0)
		})
	}
}

// A report rewritten by the run is read even when one was there before.
func TestJUnitRewrittenReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.xml")
	os.WriteFile(path, readFixture(t, "junit/go.xml"), 0o644)
	p := newParser(t, FormatJUnit, path)
	later := time.Now().Add(time.Second)
	os.WriteFile(path, readFixture(t, "junit/surefire.xml"), 0o644)
	os.Chtimes(path, later, later) // distinct even where timestamps are coarse
	if got := p.Result(1).Counts; got != (Counts{Passed: 2, Failed: 1}) {
		t.Errorf("counts = %+v, want those of the new report", got)
	}
}

func TestJUnitNotAReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.xml")
	p := newParser(t, FormatJUnit, path)
	os.WriteFile(path, []byte(`<?xml version="1.0"?><coverage line-rate="0.8"/>`), 0o644)
	got := p.Result(0)
	if len(got.Failures) != 1 || !strings.Contains(got.Failures[0].Output, "not a JUnit XML report") {
		t.Errorf("failures = %+v", got.Failures)
	}
}
