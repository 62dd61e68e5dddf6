package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// proc is one run of the built wtenv binary as a separate process, the way
// agents run it: it can be killed, and many can run at once.
type proc struct {
	code           int
	killed         bool // ended by SIGKILL
	stdout, stderr string
}

// wtenvBin runs the built binary with extra environment variables.
func wtenvBin(ctx context.Context, t *testing.T, env []string, args ...string) proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, enginetest.Build(t, "cmd/wtenv", false), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	p := proc{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		p.code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			p.killed = true
		}
	default:
		t.Fatalf("running wtenv %v: %v", args, err)
	}
	return p
}

// statusOf runs `wtenv status --json` in the worktree.
func statusOf(ctx context.Context, t *testing.T, wt string) stack.Stack {
	t.Helper()
	p := wtenvBin(ctx, t, nil, "status", "--json", "--worktree", wt)
	var st stack.Stack
	if p.code != 0 || json.Unmarshal([]byte(p.stdout), &st) != nil {
		t.Fatalf("status in %s: exit %d\n%s%s", wt, p.code, p.stdout, p.stderr)
	}
	return st
}

// stateOf reads the state file's entries (the test's own state directory).
func stateOf(ctx context.Context, t *testing.T) map[string]*state.Project {
	t.Helper()
	f, err := enginetest.Store(t).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return f.Projects
}

// get returns the body at u, or what went wrong.
func get(t *testing.T, u string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return string(b)
}

func writeFile(t *testing.T, path string, body []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o644)
	if filepath.Base(path) == "kv" {
		mode = 0o755
	}
	if err := os.WriteFile(path, body, mode); err != nil {
		t.Fatal(err)
	}
}
