package runner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
)

// The fixture suites: a TAP suite in a one-off container of a service under
// a profile that up does not start, which checks the mount and the stack's
// network and fails one test on purpose; a host suite that reaches the
// stack through WTENV_<SERVICE>_URL; a suite that outlives its timeout.
var suitesCompose = strings.Replace(enginetest.FixtureCompose, "\nvolumes:\n", `
  checker:
    image: `+enginetest.BaseImage+`
    profiles: [test]
volumes:
`, 1)

const wtenvYAML = `tests:
  unit:
    service: checker
    command: [sh, t/check.sh]
    needs: [store]
    format: tap
  e2e:
    host: true
    command: [sh, t/host.sh]
    needs: [front]
    format: tap
  slow:
    service: checker
    command: [sleep, "600"]
    format: plain
    timeout: 3s
  typo:
    service: checker
    command: [true]
    needs: [stor]
`

const checkScript = `echo "1..4"
if [ -f /src/compose.yaml ]; then echo "ok 1 - worktree mounted at /src"; else echo "not ok 1 - worktree mounted at /src"; fi
if getent hosts store >/dev/null; then echo "ok 2 - store resolves on the stack network"; else echo "not ok 2 - store resolves on the stack network"; fi
echo "not ok 3 - deliberately broken"
echo "  ---"
echo "  message: expected 5, got 4"
echo "  at: t/check.sh:6"
echo "  ..."
echo "ok 4 - filter is $WTENV_TEST_FILTER # SKIP shown only"
`

const hostScript = `echo "1..1"
if curl -fsS "$WTENV_FRONT_URL/health" >/dev/null; then echo "ok 1 - front answers at WTENV_FRONT_URL"; else echo "not ok 1 - front answers at WTENV_FRONT_URL ($WTENV_FRONT_URL)"; fi
`

func suiteWorktree(t *testing.T) *envs.Env {
	t.Helper()
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	files := enginetest.FixtureFiles(t)
	files["compose.yaml"] = []byte(suitesCompose)
	files["wtenv.yaml"] = []byte(wtenvYAML)
	files["t/check.sh"] = []byte(checkScript)
	files["t/host.sh"] = []byte(hostScript)
	root := enginetest.Repo(t, "suites", files)
	enginetest.Cleanup(t, root)
	env, err := envs.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

func TestSuitesRunInTheStack(t *testing.T) {
	env := suiteWorktree(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var progress []string
	unit, err := runner.Run(ctx, env, "unit", runner.Options{Filter: "Orders", Progress: func(m string) { progress = append(progress, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if unit.Passed || unit.Counts.Passed != 2 || unit.Counts.Failed != 1 || unit.Counts.Skipped != 1 {
		t.Errorf("unit: passed=%v counts %+v\n%s", unit.Passed, unit.Counts, unit.OutputTail)
	}
	if len(unit.Failures) != 1 || unit.Failures[0].Name != "deliberately broken" || unit.Failures[0].Location != "t/check.sh:6" || !strings.Contains(unit.Failures[0].Output, "expected 5, got 4") {
		t.Errorf("failures: %+v", unit.Failures)
	}
	if !strings.Contains(unit.OutputTail, "filter is Orders") {
		t.Errorf("WTENV_TEST_FILTER did not reach the suite:\n%s", unit.OutputTail)
	}
	log, err := os.ReadFile(unit.LogPath)
	if err != nil || !strings.Contains(string(log), "1..4") || !strings.HasPrefix(unit.LogPath, filepath.Join(env.Worktree.Root, ".wtenv", "logs")) {
		t.Errorf("log %s: %v", unit.LogPath, err)
	}
	if ignore, err := os.ReadFile(filepath.Join(env.Worktree.Root, ".wtenv", ".gitignore")); err != nil || !strings.Contains(string(ignore), "*") {
		t.Errorf(".wtenv is not ignored by git: %q %v", ignore, err)
	}
	if n := oneOffs(ctx, t, env.Project); n != 0 {
		t.Errorf("%d one-off containers left after the run", n)
	}

	// The host suite needs front: the stack is brought up first.
	e2e, err := runner.Run(ctx, env, "e2e", runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !e2e.Passed || e2e.Counts.Passed != 1 {
		t.Errorf("e2e: %+v\n%s", e2e.Counts, e2e.OutputTail)
	}

	// A test run wakes an asleep stack first, and says so.
	if st, err := env.Sleep(ctx, nil); err != nil || st.State != stack.StateAsleep {
		t.Fatalf("sleep: %s %v", st.State, err)
	}
	woke, err := runner.Run(ctx, env, "unit", runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if woke.Admission == nil || !woke.Admission.Woke || woke.Admission.WakeMS <= 0 || woke.Counts.Passed != 2 {
		t.Errorf("run on an asleep stack: admission %+v, counts %+v; want a wake reported and the same results", woke.Admission, woke.Counts)
	}
	if !strings.Contains(woke.Summary(), "Woke the stack from sleep") {
		t.Errorf("summary does not mention the wake:\n%s", woke.Summary())
	}
	if st, err := env.Status(ctx); err != nil || st.State != stack.StateRunning {
		t.Errorf("after the run: %s %v, want the whole stack running", st.State, err)
	}

	if _, err := runner.Run(ctx, env, "typo", runner.Options{}); !errors.Is(err, envs.ErrUnknownService) || !strings.Contains(err.Error(), "tests.typo.needs") {
		t.Errorf("a needs: typo: %v, want it to name tests.typo.needs", err)
	}
	if _, err := runner.Run(ctx, env, "nope", runner.Options{}); !errors.Is(err, runner.ErrNoSuite) || !strings.Contains(err.Error(), "tests.nope") {
		t.Errorf("unknown suite: %v", err)
	}
}

func TestTimeoutAndCancelLeaveNoContainer(t *testing.T) {
	env := suiteWorktree(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	run, err := runner.Run(ctx, env, "slow", runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !run.TimedOut || run.Passed || len(run.Failures) == 0 || run.Failures[0].Name != "timeout" {
		t.Errorf("timeout: %+v", run)
	}
	if n := oneOffs(ctx, t, env.Project); n != 0 {
		t.Errorf("%d one-off containers left after a timeout", n)
	}

	// Cancel once the run's container exists. The watcher reports to
	// the test through a channel: only the test's goroutine may fail it.
	cctx, ccancel := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() {
		defer ccancel()
		for {
			n, err := countOneOffs(ctx, env.Project)
			if err != nil || n > 0 {
				watched <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if _, err := runner.Run(cctx, env, "slow", runner.Options{Timeout: time.Minute}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	if err := <-watched; err != nil {
		t.Fatalf("watching for the run's container: %v", err)
	}
	if n := oneOffs(ctx, t, env.Project); n != 0 {
		t.Errorf("%d one-off containers left after a cancel", n)
	}
}

func oneOffs(ctx context.Context, t *testing.T, project string) int {
	t.Helper()
	n, err := countOneOffs(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countOneOffs counts the project's one-off containers.
func countOneOffs(ctx context.Context, project string) (int, error) {
	api, err := client.New(client.FromEnv)
	if err != nil {
		return 0, err
	}
	defer api.Close()
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project, "com.docker.compose.oneoff=True")})
	if err != nil {
		return 0, err
	}
	return len(res.Items), nil
}
