package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on what a Result carries, so that a run of thousands of tests with
// megabytes of output still gives an answer that fits in a tool result.
const (
	// MaxFailures is the number of failures a Result lists; the rest are
	// counted in Result.Omitted.
	MaxFailures = 20
	// MaxFailureOutput is the size in bytes of one Failure's Output.
	MaxFailureOutput = 2048
	// MaxTail is the size in bytes of Result.Tail.
	MaxTail = 4096
)

// The formats New accepts, as wtenv.yaml names them.
const (
	FormatGoTestJSON = "go-test-json"
	FormatJUnit      = "junit"
	FormatTAP        = "tap"
	FormatPlain      = "plain"
)

// ErrUnknownFormat is returned by New for a format it does not know.
var ErrUnknownFormat = errors.New("unknown test format")

// Formats returns the formats New accepts.
func Formats() []string {
	return []string{FormatGoTestJSON, FormatJUnit, FormatTAP, FormatPlain}
}

// Counts is the number of tests per outcome, counted as the package
// documentation describes.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// String renders the counts for progress messages: "37 passed, 1 failed",
// with ", 2 skipped" added only when tests were skipped.
func (c Counts) String() string {
	s := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed)
	if c.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	return s
}

// Failure is one failed test, or one reason the run failed that belongs to
// no test (a build failure, a missing report, a bail out).
type Failure struct {
	// Name is the test's name as its framework prints it (TestOrderTotal/empty,
	// tests.test_math.test_add), or the package, report or exit status at fault.
	Name string `json:"name"`
	// Location is file:line of the failure as the output printed it, when the
	// output names one.
	Location string `json:"location,omitempty"`
	// Output is the test's own output, at most MaxFailureOutput bytes.
	Output string `json:"output"`
	// Package is the failure's Go package import path, when the format
	// names one: which of several files of one name Location means.
	Package string `json:"-"`
}

// Result is the parsed part of a TestRun (see DESIGN.md); the caller adds the
// suite, exit code, duration and log path.
type Result struct {
	Counts   Counts    `json:"counts"`
	Failures []Failure `json:"failures"`
	// Omitted is the number of failures beyond the first MaxFailures that
	// Failures does not list.
	Omitted int `json:"failures_omitted,omitempty"`
	// Tail is the last MaxTail bytes of the output, cut at a line start when
	// possible. For go-test-json it is the text the events carry (what go test
	// without -json prints), not the JSON itself.
	Tail string `json:"output_tail"`
}

// Parser reads a suite's output as it streams. Write accepts chunks of any
// size that need not end at a line; it never fails. Counts may be called from
// another goroutine while Write runs. Result is called once the suite has
// exited, after the last Write.
type Parser interface {
	io.Writer
	// Counts returns the counts so far, for progress messages. Formats that
	// learn nothing until the end (junit, plain) return zeros.
	Counts() Counts
	// Result returns the final answer for a suite that exited with exitCode.
	Result(exitCode int) Result
}

// New returns a Parser for format. reportPath is the JUnit report file to
// read when the suite has exited; the other formats ignore it. Call New before
// the suite starts: a junit parser refuses a report the run did not rewrite.
func New(format, reportPath string) (Parser, error) {
	switch format {
	case FormatGoTestJSON:
		return newGoTest(), nil
	case FormatJUnit:
		if reportPath == "" {
			return nil, errors.New("test format junit needs the path of the report the suite writes: set report next to format in wtenv.yaml")
		}
		return newJUnit(reportPath), nil
	case FormatTAP:
		return newTAP(), nil
	case FormatPlain:
		return newPlain(), nil
	}
	return nil, fmt.Errorf("%w %q: use one of %s", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

// failureList collects failures up to MaxFailures and counts the rest.
type failureList struct {
	list    []Failure
	omitted int
}

func (l *failureList) add(f Failure) {
	if len(l.list) >= MaxFailures {
		l.omitted++
		return
	}
	l.list = append(l.list, f)
}

func (l *failureList) len() int { return len(l.list) + l.omitted }

// finish assembles a Result. A non-zero exit code with no failure found in
// the output becomes a Failure named after the exit status, carrying the end
// of the output, so that a failed run always says why.
func finish(c Counts, l failureList, tail string, exitCode int) Result {
	if exitCode != 0 && l.len() == 0 {
		out := clip(tail, "", 0)
		if out == "" {
			out = "the suite printed nothing"
		}
		l.add(Failure{Name: fmt.Sprintf("exit status %d", exitCode), Output: out})
	}
	if l.list == nil {
		l.list = []Failure{}
	}
	return Result{Counts: c, Failures: l.list, Omitted: l.omitted, Tail: tail}
}
