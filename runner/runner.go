// Package runner runs a worktree's test suites (wtenv.yaml tests:) inside
// that worktree's own stack and returns structured results: counts, the
// failures with their location and output, a short tail, and the path of
// the full log.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/compose"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner/report"
)

// DefaultTimeout bounds a run when neither the call nor wtenv.yaml does.
const DefaultTimeout = 10 * time.Minute

// progressEvery is how often a running suite reports its counts.
const progressEvery = 3 * time.Second

// ErrNoSuite means wtenv.yaml defines no such suite.
var ErrNoSuite = envs.ErrNoSuite

// Options are a run's arguments.
type Options struct {
	Filter    string        // go-test-json: -run FILTER; every format: WTENV_TEST_FILTER
	ExtraArgs []string      // appended to the suite's command
	Timeout   time.Duration // 0: the suite's timeout, else DefaultTimeout
	// TimeoutFlag names what sets Timeout in the front end (--timeout,
	// timeout_s), for the message of a run that outlived it.
	TimeoutFlag string
	Progress    func(string)
}

// TestRun is the result of one run, the TestRun shape of DESIGN.md.
type TestRun struct {
	Suite      string           `json:"suite"`
	Passed     bool             `json:"passed"`
	ExitCode   int              `json:"exit_code"`
	DurationMS int64            `json:"duration_ms"`
	Counts     report.Counts    `json:"counts"`
	Failures   []report.Failure `json:"failures"`
	Omitted    int              `json:"failures_omitted,omitempty" jsonschema:"failures beyond the first 20, not listed"`
	OutputTail string           `json:"output_tail" jsonschema:"last 4 KB of the output"`
	LogPath    string           `json:"log_path" jsonschema:"the full output, in the worktree's .wtenv/logs"`
	TimedOut   bool             `json:"timed_out,omitempty"`
	// NoTests is set when a format that counts tests counted none that
	// passed or failed: such a run is not a pass.
	NoTests bool `json:"no_tests,omitempty" jsonschema:"the suite ran no test (none matched the filter, or every one was skipped): not a pass"`
	// Counted is false for the plain format, which carries no counts:
	// its verdict is the exit code alone.
	Counted bool `json:"counted" jsonschema:"whether the format counts tests; false for plain, whose verdict is the exit code"`
	// Admission is set when the run had to wake the stack or put other
	// stacks to sleep to make room for it.
	Admission *stack.Admission `json:"admission,omitempty" jsonschema:"what admission did for the run: woke this stack, put idle stacks to sleep"`
}

// Run runs the named suite of env's worktree. A failing test is not an
// error: it is a TestRun with Passed false. Errors are for runs that could
// not happen (no such suite, stack failed to start, cancelled).
func Run(ctx context.Context, env *envs.Env, name string, opts Options) (TestRun, error) {
	cfg, err := env.Config()
	if err != nil {
		return TestRun{}, err
	}
	suite, ok := cfg.Tests[name]
	if !ok {
		return TestRun{}, fmt.Errorf("%w: wtenv.yaml in %s has no tests.%s; add one with service: (or host: true), command: and format: (see the README)", ErrNoSuite, env.Worktree.Root, name)
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Duration(suite.Timeout)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The run uses the stack from here on: admission never puts it to
	// sleep under the run.
	release, err := env.Use(ctx)
	if err != nil {
		return TestRun{}, err
	}
	defer release()
	adm, err := env.WakeIfAsleep(ctx, progress)
	if err != nil {
		return TestRun{}, err
	}
	needed, err := ensureNeeds(ctx, env, suite.Needs, progress)
	if errors.Is(err, envs.ErrUnknownService) {
		return TestRun{}, fmt.Errorf("wtenv.yaml in %s, tests.%s.needs: %w", env.Worktree.Root, name, err)
	}
	if err != nil {
		return TestRun{}, err
	}
	adm = adm.Merge(needed)
	reportPath := ""
	if suite.Report != "" {
		reportPath = filepath.Join(env.Worktree.Root, suite.Report)
		if rel, err := filepath.Rel(env.Worktree.Root, reportPath); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return TestRun{}, fmt.Errorf("tests.%s.report %q leaves the worktree; name a path inside it", name, suite.Report)
		}
		os.Remove(reportPath) // a stale report must not pass for this run's
	}
	parser, err := report.New(suite.Format, reportPath)
	if err != nil {
		return TestRun{}, err
	}
	logFile, logPath, err := openLog(env.Worktree.Root, name)
	if err != nil {
		return TestRun{}, err
	}
	defer logFile.Close()
	out := &lockedWriter{w: io.MultiWriter(logFile, parser)}

	argv := command(suite, opts)
	extraEnv := map[string]string{"WTENV_TEST_FILTER": opts.Filter}
	stop := reportProgress(name, parser, suite.Format, progress)
	start := time.Now()
	var code int
	if suite.Host {
		runCtx, cancel := context.WithTimeout(ctx, timeout)
		code, err = runHost(runCtx, env, argv, extraEnv, out)
		cancel()
	} else {
		// The engine starts the timeout after building the test image:
		// a build is not the suite's time.
		code, err = env.RunOneOff(ctx, engine.RunOptions{Service: suite.Service, Command: argv, Env: extraEnv, Output: out, Progress: progress, Timeout: timeout, Caches: env.Caches(suite)})
	}
	stop()
	// Sample the stack's memory while it is warm from the run: Status
	// records a new peak for the memory budget.
	if ctx.Err() == nil {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		_, _ = env.Status(sctx)
		scancel()
	}
	run := TestRun{Suite: name, ExitCode: code, DurationMS: time.Since(start).Milliseconds(), LogPath: logPath, Admission: adm}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			run.TimedOut = true
			fmt.Fprintf(out, "\nwtenv: %s suite timed out after %s and was killed\n", name, timeout)
		} else {
			return run, err
		}
	}
	res := parser.Result(code)
	relocate(env.Worktree.Root, res.Failures)
	run.Counts, run.Failures, run.Omitted, run.OutputTail = res.Counts, res.Failures, res.Omitted, res.Tail
	if run.Failures == nil {
		run.Failures = []report.Failure{}
	}
	if run.TimedOut {
		run.ExitCode = -1
		run.Failures = append([]report.Failure{{Name: "timeout", Output: fmt.Sprintf("the %s suite ran longer than %s and was killed; raise %s or tests.%s.timeout in wtenv.yaml", name, timeout, timeoutFlag(opts), name)}}, run.Failures...)
	}
	run.Counted = suite.Format != compose.FormatPlain
	if f, ok := noTests(run, opts.Filter); ok {
		run.NoTests = true
		run.Failures = append(run.Failures, f)
	}
	run.Passed = run.ExitCode == 0 && run.Counts.Failed == 0 && len(run.Failures) == 0 && !run.TimedOut
	// A last message with the final counts, however short the run was.
	progress(fmt.Sprintf("%s: %s", name, run.Counts))
	return run, nil
}

func timeoutFlag(opts Options) string {
	if opts.TimeoutFlag == "" {
		return "the run's timeout"
	}
	return opts.TimeoutFlag
}

// noTests is the failure of a run whose format counts tests and which
// counted none that passed or failed though it exited 0: a model must not
// read "0 passed, 0 failed" as green.
func noTests(run TestRun, filter string) (report.Failure, bool) {
	if !run.Counted || run.TimedOut || run.ExitCode != 0 || run.Counts.Passed+run.Counts.Failed > 0 {
		return report.Failure{}, false
	}
	why := "the suite ran no test"
	switch {
	case filter != "":
		why = fmt.Sprintf("no test matched the filter %q", filter)
	case run.Counts.Skipped > 0:
		why = fmt.Sprintf("every test was skipped (%d)", run.Counts.Skipped)
	}
	return report.Failure{Name: "no tests ran", Output: why + ": a run that tests nothing is not a pass; check the filter, or the suite's command and format in wtenv.yaml"}, true
}

// command is the suite's argv with the filter and extra arguments. For
// go test's JSON output the filter becomes -run. A shell script (string
// form) gets the extra arguments as its positional parameters ("$@") and
// the filter only through WTENV_TEST_FILTER.
func command(s compose.Suite, opts Options) []string {
	argv := s.Command.Argv()
	if s.Command.Shell {
		if len(opts.ExtraArgs) > 0 {
			argv = append(append(argv, "sh"), opts.ExtraArgs...)
		}
		return argv
	}
	if opts.Filter != "" && s.Format == compose.FormatGoTestJSON {
		argv = append(argv, "-run", opts.Filter)
	}
	return append(argv, opts.ExtraArgs...)
}

// ensureNeeds makes sure the services a suite needs run and are healthy,
// bringing them up (and whatever they depend on) when they do not, and
// returns what admission did for that.
func ensureNeeds(ctx context.Context, env *envs.Env, needs []string, progress func(string)) (*stack.Admission, error) {
	if len(needs) == 0 {
		return nil, nil
	}
	st, err := env.Status(ctx)
	if err != nil {
		return nil, err
	}
	ready := map[string]bool{}
	for _, s := range st.Services {
		ready[s.Name] = s.State == "running" && (s.Health == "" || s.Health == "healthy")
	}
	var missing []string
	for _, n := range needs {
		if !ready[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	sort.Strings(missing)
	progress("starting " + strings.Join(missing, ", ") + " for the tests")
	st, err = env.Up(ctx, envs.UpOptions{Services: slices.Clone(needs), Progress: progress})
	return st.Admission, err
}

// reportProgress sends "unit: 37 passed, 1 failed" every few seconds while
// the suite runs, or the elapsed time when the format does not stream.
func reportProgress(name string, p report.Parser, format string, progress func(string)) (stop func()) {
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if format == compose.FormatGoTestJSON || format == compose.FormatTAP {
					msg := fmt.Sprintf("%s: %s", name, p.Counts())
					// A total when the format announces one (a TAP plan).
					if pl, ok := p.(interface{ Planned() int }); ok && pl.Planned() > 0 {
						msg += fmt.Sprintf(" of %d", pl.Planned())
					}
					progress(msg)
				} else {
					progress(fmt.Sprintf("%s: running for %s", name, time.Since(start).Round(time.Second)))
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// lockedWriter serializes writes from the container's stdout and stderr
// copies.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
