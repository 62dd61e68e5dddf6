package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

const baseImage = enginetest.BaseImage

// Bad input of every kind a user or model produces: each ends with the
// exit code of its kind and a message that says what is wrong and what to
// do next, with no panic and nothing left on the engine.
func TestBadInputIsAnsweredAndLeavesNothing(t *testing.T) {
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	kvOK := "services:\n  a:\n    image: " + baseImage + "\n    command: [sleep, infinity]\n  b:\n    image: " + baseImage + "\n    command: [sleep, infinity]\n"
	cases := []struct {
		name  string
		files map[string]string
		env   []string
		args  []string
		code  int
		want  []string
	}{
		{"compose syntax", map[string]string{"compose.yaml": "services:\n  a:\n    image: x\n   bad: [\n"}, nil, nil,
			exitConfig, []string{"compose.yaml", "line", "fix the compose file"}},
		{"unknown dependency", map[string]string{"compose.yaml": "services:\n  a:\n    image: " + baseImage + "\n    depends_on: [nope]\n"}, nil, nil,
			exitConfig, []string{"compose.yaml", `undefined service "nope"`, "fix the compose file"}},
		{"dependency cycle", map[string]string{"compose.yaml": "services:\n  a:\n    image: " + baseImage + "\n    depends_on: [b]\n  b:\n    image: " + baseImage + "\n    depends_on: [a]\n"}, nil, nil,
			exitConfig, []string{"cycle", "a -> b -> a", "fix the compose file"}},
		{"unsupported key", map[string]string{"compose.yaml": "services:\n  a:\n    image: " + baseImage + "\n    gpus: all\n"}, nil, nil,
			exitConfig, []string{`service "a"`, `"gpus"`, "remove it"}},
		{"invalid wtenv.yaml", map[string]string{"compose.yaml": kvOK, "wtenv.yaml": "tests:\n  unit:\n    service: a\n    comand: [go, test]\n"}, nil, nil,
			exitConfig, []string{"wtenv.yaml:4", `unknown key "comand"`, "the keys here are"}},
		{"wtenv.yaml syntax", map[string]string{"compose.yaml": kvOK, "wtenv.yaml": "tests: [1, 2\n"}, nil, nil,
			exitConfig, []string{"wtenv.yaml", "fix the YAML syntax"}},
		{"unknown service to up", map[string]string{"compose.yaml": kvOK}, nil, []string{"up", "nope"},
			exitUsage, []string{`"nope" is not a service`, "the services are a, b"}},
		{"unknown service to logs", map[string]string{"compose.yaml": kvOK}, nil, []string{"logs", "nope"},
			exitUsage, []string{`"nope" is not a service`, "the services are a, b"}},
		{"failing build", map[string]string{"compose.yaml": "services:\n  a:\n    build: ./a\n", "a/Dockerfile": "FROM " + baseImage + "\nRUN echo compiling && exit 3\n"}, nil, nil,
			exitFailure, []string{`service "a"`, "build failed", "fix the Dockerfile", "compiling"}},
		// /dev/full answers every write with ENOSPC: a real disk-full error
		// from the kernel, without filling the machine's disk.
		{"disk full during build", map[string]string{"compose.yaml": "services:\n  a:\n    build: ./a\n", "a/Dockerfile": "FROM " + baseImage + "\nRUN dd if=/dev/zero of=/dev/full bs=1k count=1\n"}, nil, nil,
			exitFailure, []string{"No space left on device", "ran out of disk space", "docker system df"}},
		{"engine unreachable", map[string]string{"compose.yaml": kvOK}, []string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, nil,
			exitUnreachable, []string{"engine unreachable", "/nonexistent/docker.sock", "DOCKER_HOST"}},
		{"test suite not configured", map[string]string{"compose.yaml": kvOK}, nil, []string{"test", "unit"},
			exitConfig, []string{"unit", "wtenv.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WTENV_STATE_DIR", t.TempDir())
			files := map[string][]byte{}
			for k, v := range tc.files {
				files[k] = []byte(v)
			}
			wt := enginetest.Repo(t, "bad", files)
			enginetest.Cleanup(t, wt)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			args := tc.args
			if args == nil {
				args = []string{"up"}
			}
			p := wtenvBin(ctx, t, tc.env, append(args, "--worktree", wt)...)
			if p.code != tc.code {
				t.Errorf("exit %d, want %d", p.code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, p.stderr)
				}
			}
			if strings.Contains(p.stderr, "panic") || strings.Contains(p.stderr, "goroutine ") {
				t.Errorf("panicked:\n%s", p.stderr)
			}
			if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wt); len(left) > 0 {
				t.Errorf("left %v", left)
			}
			for name, e := range stateOf(ctx, t) {
				if e.Reserved != 0 || e.Starting {
					t.Errorf("state of %s keeps a reservation: %+v", name, e)
				}
			}
		})
	}
}

// Branch names with the odd characters git allows, and worktree paths with
// spaces and non-ASCII letters, give valid and distinct names; the stacks
// run side by side and go without a trace.
func TestOddBranchNamesAndPaths(t *testing.T) {
	enginetest.Full(t)
	enginetest.Isolate(t)
	files := enginetest.FixtureFiles(t)
	repo := filepath.Join(t.TempDir(), "my wörk trée ✓")
	enginetest.Git(t, filepath.Dir(repo), "init", "-q", "-b", "main", repo)
	for name, body := range files {
		writeFile(t, filepath.Join(repo, name), body)
	}
	enginetest.Git(t, repo, "add", "-A")
	enginetest.Git(t, repo, "commit", "-q", "-m", "fixture")
	branches := []string{"Feature/ÜNÏ_côde+x", "fix/#12-a.b,c=d;e'f\"g(h)&i|j$k!l%m", "x/-dash--", "UPPER/lower.lock-ish_"}
	wts := []string{repo}
	for i, b := range branches {
		dir := filepath.Join(filepath.Dir(repo), "wt "+string(rune('α'+i)))
		enginetest.Git(t, repo, "worktree", "add", "-q", "-b", b, dir)
		wts = append(wts, dir)
	}
	enginetest.Cleanup(t, wts...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	projects := map[string]bool{}
	for i, p := range concurrently(ctx, t, wts, "up", "--json") {
		var st stack.Stack
		if p.code != 0 || json.Unmarshal([]byte(p.stdout), &st) != nil {
			t.Fatalf("up in %q: exit %d\n%s", wts[i], p.code, p.stderr)
		}
		if projects[st.Project] {
			t.Errorf("project %s twice", st.Project)
		}
		projects[st.Project] = true
		if i > 0 && st.Branch != branches[i-1] {
			t.Errorf("branch %q reported as %q", branches[i-1], st.Branch)
		}
		if st.State != stack.StateRunning {
			t.Errorf("%s: %s", st.Project, st.State)
		}
	}
	for i, p := range concurrently(ctx, t, wts, "down", "--purge") {
		if p.code != 0 {
			t.Errorf("down in %q: exit %d\n%s", wts[i], p.code, p.stderr)
		}
		if left := enginetest.Leftovers(ctx, t, "dev.wtenv.worktree="+wts[i]); len(left) > 0 {
			t.Errorf("%q left %v", wts[i], left)
		}
	}
}
