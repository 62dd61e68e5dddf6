package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// A service whose healthcheck the engine first runs only after 30 s, and
// which wtenv's own probe cannot run: up waits on it long enough to be
// interrupted.
func slowCompose(t *testing.T) string {
	image := enginetest.KVImage(t)
	return "services:\n  store:\n    image: " + image + "\n    pull_policy: never\n    healthcheck:\n      test: [\"CMD\", \"/does-not-exist\"]\n      interval: 30s\n  front:\n    image: " + image + "\n    pull_policy: never\n"
}

// SIGINT, then SIGTERM, during up's health wait: up stops what it started,
// prints the stack as it is left and what to do, and exits 130 (143); a
// second interrupt exits at once.
func TestInterruptedUp(t *testing.T) {
	enginetest.Isolate(t)
	compose := slowCompose(t)
	for _, tc := range []struct {
		name   string
		sigs   []syscall.Signal
		code   int
		report bool // the stack left is printed
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, 130, true},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 143, true},
		{"SIGINT twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 130, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := enginetest.Repo(t, "interrupted", map[string][]byte{"compose.yaml": []byte(compose)})
			enginetest.Cleanup(t, root)
			cmd := exec.Command(enginetest.Build(t, "cmd/wtenv", false), "up", "--worktree", root)
			cmd.Env = os.Environ()
			var out bytes.Buffer
			cmd.Stdout = &out
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.HasPrefix(sc.Text(), "wtenv: waiting for store") {
					break
				}
			}
			// Signals of one kind sent at once may arrive as one: the
			// second goes once the first is acknowledged.
			var sent time.Time
			for i, sig := range tc.sigs {
				if i > 0 {
					for sc.Scan() {
						log.WriteString(sc.Text() + "\n")
						if strings.Contains(sc.Text(), "interrupted: stopping") {
							break
						}
					}
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				sent = time.Now()
			}
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
			}
			err = cmd.Wait()
			took := time.Since(sent)
			code := cmd.ProcessState.ExitCode()
			t.Logf("exit %d %v after %s\nstderr:\n%s\nstdout:\n%s", code, err, took.Round(100*time.Millisecond), log.String(), out.String())
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(log.String(), "interrupted: stopping what this command started") {
				t.Error("stderr does not say what the interrupt does")
			}
			if tc.report {
				if !strings.Contains(out.String(), "up was interrupted: `wtenv up` starts the stack again") {
					t.Error("stdout lacks the stack left and the next step")
				}
				st := statusOf(context.Background(), t, root)
				if st.State != stack.StateStopped {
					t.Errorf("after the interrupt the stack is %s, want stopped: %+v", st.State, st.Services)
				}
			} else if took > 5*time.Second {
				t.Errorf("a second interrupt took %s to exit", took.Round(100*time.Millisecond))
			}
		})
	}
}
