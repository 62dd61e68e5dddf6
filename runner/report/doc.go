// Package report turns a test suite's output into the short answer an agent
// needs: how many tests passed, failed and were skipped, which ones failed,
// where, and why.
//
// A Parser is an io.Writer that receives the suite's combined stdout and
// stderr as it streams, in chunks of any size; Counts reports progress while
// the suite runs and Result gives the final answer once it has exited. Four
// formats are understood:
//
//   - go-test-json: the event stream of `go test -json`.
//   - junit: a JUnit XML report file the suite writes, read when it has exited.
//   - tap: the Test Anything Protocol (versions 12, 13 and 14) on the stream.
//   - plain: no parsing; the exit code alone decides.
//
// # Counting rules
//
// Every format counts the most specific tests: a test that ran subtests (a Go
// test calling t.Run, a TAP test point closing an indented subtest block) is
// not counted itself, its subtests are. The one exception is a parent that
// failed while none of its subtests did (a check after the subtests, a
// cleanup error): that failure is its own, so the parent is counted as failed
// and reported. Thus every failure is counted exactly once, at the test that
// explains it. A TAP test with a TODO directive never counts as failed: a
// failing TODO counts as skipped, a passing one as passed. A SKIP directive
// counts as skipped whatever the ok or not ok before it. Counts count tests
// only: a failure that belongs to no test (a package that did not build, a
// TestMain that exited, a TAP bail out or plan mismatch, a missing JUnit
// report) is listed in Failures without being counted.
//
// # Failures
//
// Failures are reported in the order they happened, at most MaxFailures of
// them; Result.Omitted says how many more there were. A Failure's Output is
// the test's own output, at most MaxFailureOutput bytes; when it is longer the
// end is kept, because that is where the error usually is, and a marker says
// how much was cut (a Go panic line is kept in front of the marker). When the
// suite exits non-zero but the parsed output names no failure (a crash before
// the first test, a coverage threshold, a runner error), Result holds a single
// Failure named after the exit status with the end of the output, so a failed
// run always says why.
package report
