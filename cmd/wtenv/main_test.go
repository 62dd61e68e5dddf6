package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// cli runs the CLI in-process and returns its exit code and streams.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"logs", "--tail", "0"},
		{"logs", "a", "b"},
		{"status", "extra"},
		{"up", "--no-such-flag"},
	} {
		code, _, stderr := cli(t, args...)
		if code != exitUsage {
			t.Errorf("wtenv %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
		if !strings.Contains(stderr, "usage") {
			t.Errorf("wtenv %v: stderr lacks usage: %q", args, stderr)
		}
	}
	if code, _, _ := cli(t, "--help"); code != exitOK {
		t.Errorf("--help: exit %d", code)
	}
}

// A user's session: up, status, logs, ls and down in two worktrees through
// the CLI, with --json shapes on stdout and progress on stderr.
func TestCLIUpStatusLogsDownInTwoWorktrees(t *testing.T) {
	roots := enginetest.ImageWorktrees(t, "feature/cli")
	repo, other := roots[0], roots[1]

	stacks := map[string]stack.Stack{}
	for _, wt := range []string{repo, other} {
		code, stdout, stderr := cli(t, "up", "--worktree", wt, "--json")
		if code != exitOK {
			t.Fatalf("up in %s: exit %d\n%s", wt, code, stderr)
		}
		if !strings.Contains(stderr, "wtenv: starting store") {
			t.Errorf("no progress on stderr: %q", stderr)
		}
		var st stack.Stack
		if err := json.Unmarshal([]byte(stdout), &st); err != nil {
			t.Fatalf("up --json is not a Stack: %v\n%s", err, stdout)
		}
		stacks[wt] = st
	}
	if stacks[repo].Project == stacks[other].Project {
		t.Fatalf("same project for both worktrees: %s", stacks[repo].Project)
	}
	for wt, up := range stacks {
		code, stdout, stderr := cli(t, "status", "--json", "--worktree", wt)
		var st stack.Stack
		if code != exitOK || json.Unmarshal([]byte(stdout), &st) != nil {
			t.Fatalf("status: exit %d %s %s", code, stdout, stderr)
		}
		if st.Project != up.Project || st.State != stack.StateRunning || len(st.Services) != 2 {
			t.Errorf("status of %s: %+v", wt, st)
		}
		// The rewrites were said by up; status does not repeat them.
		if !slices.ContainsFunc(up.Warnings, func(w string) bool { return strings.Contains(w, "rewritten") }) || slices.ContainsFunc(st.Warnings, func(w string) bool { return strings.Contains(w, "rewritten") }) {
			t.Errorf("up warned %q, status %q: want the rewrite said by up only", up.Warnings, st.Warnings)
		}
		code, stdout, _ = cli(t, "logs", "store", "--tail", "5", "--worktree", wt)
		if code != exitOK || !strings.Contains(stdout, "store | ") || strings.Contains(stdout, "front | ") {
			t.Errorf("logs store: exit %d\n%s", code, stdout)
		}
		// --since: both services' lines, interleaved by time.
		code, stdout, _ = cli(t, "logs", "--since", "1h", "--worktree", wt)
		if code != exitOK || !strings.Contains(stdout, "store | ") || !strings.Contains(stdout, "front | ") {
			t.Errorf("logs --since 1h: exit %d\n%s", code, stdout)
		}
		// -f follows until interrupted, and a line that comes meanwhile
		// shows: a value stored in store makes it log.
		fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var fout, ferr bytes.Buffer
		done := make(chan int)
		go func() {
			done <- run(fctx, []string{"logs", "-f", "--tail", "1", "--worktree", wt}, strings.NewReader(""), &fout, &ferr)
		}()
		time.Sleep(time.Second)
		for _, s := range up.Services {
			if s.Name == "store" && len(s.Ports) > 0 {
				req, _ := http.NewRequest(http.MethodPut, s.Ports[0].URL+"/kv/followed", strings.NewReader("x"))
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}
		code = <-done
		cancel()
		if code != exitOK || !strings.Contains(fout.String(), "store | ") || !strings.Contains(fout.String(), "stored followed") {
			t.Errorf("logs -f: exit %d\n%s%s", code, fout.String(), ferr.String())
		}
		code, stdout, _ = cli(t, "status", "--worktree", wt)
		if code != exitOK || !strings.Contains(stdout, up.Project) || !strings.Contains(stdout, "http://127.0.0.1:") {
			t.Errorf("human status: %s", stdout)
		}
		// wtenv env: the stack's addresses, for processes on the host.
		code, stdout, _ = cli(t, "env", "--format", "json", "--worktree", wt)
		var vars map[string]string
		if code != exitOK || json.Unmarshal([]byte(stdout), &vars) != nil {
			t.Fatalf("env --format json: exit %d %s", code, stdout)
		}
		want := ""
		for _, svc := range st.Services {
			if svc.Name == "store" && len(svc.Ports) > 0 {
				want = svc.Ports[0].URL
			}
		}
		if vars["WTENV_STORE_URL"] != want || want == "" {
			t.Errorf("env: WTENV_STORE_URL=%q, want %q (%v)", vars["WTENV_STORE_URL"], want, vars)
		}
		code, stdout, _ = cli(t, "env", "--format", "shell", "--worktree", wt)
		if code != exitOK || !strings.Contains(stdout, "export WTENV_STORE_URL='"+vars["WTENV_STORE_URL"]+"'") {
			t.Errorf("env --format shell: exit %d\n%s", code, stdout)
		}
	}
	code, stdout, _ := cli(t, "ls", "--json")
	var l stack.List
	if code != exitOK || json.Unmarshal([]byte(stdout), &l) != nil {
		t.Fatalf("ls: exit %d %s", code, stdout)
	}
	found := 0
	for _, s := range l.Stacks {
		if s.Project == stacks[repo].Project || s.Project == stacks[other].Project {
			found++
		}
	}
	if found != 2 {
		t.Errorf("ls lists %d of our 2 stacks: %+v", found, l.Stacks)
	}
	for _, wt := range []string{repo, other} {
		code, stdout, stderr := cli(t, "down", "--purge", "--json", "--worktree", wt)
		var d stack.Down
		if code != exitOK || json.Unmarshal([]byte(stdout), &d) != nil {
			t.Fatalf("down: exit %d %s %s", code, stdout, stderr)
		}
		if d.Removed.Containers != 2 || d.Removed.Networks != 1 || d.Removed.Volumes != 1 {
			t.Errorf("down removed %+v", d.Removed)
		}
		code, stdout, _ = cli(t, "status", "--json", "--worktree", wt)
		if code != exitOK || !strings.Contains(stdout, `"state": "absent"`) {
			t.Errorf("status after down: %s", stdout)
		}
		if code, _, stderr := cli(t, "env", "--worktree", wt); code == exitOK || !strings.Contains(stderr, "run `wtenv up` first") {
			t.Errorf("env after down: exit %d %s", code, stderr)
		}
	}
}

// Outside a worktree nothing needs the engine: the answer is a
// configuration error (exit 3) naming the next step.
func TestOutsideAWorktreeExitsWithTheNextStep(t *testing.T) {
	code, _, stderr := cli(t, "status", "--worktree", t.TempDir())
	if code != exitConfig || !strings.Contains(stderr, "--worktree") {
		t.Errorf("exit %d, want %d; stderr %q", code, exitConfig, stderr)
	}
}
