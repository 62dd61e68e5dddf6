package server_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/runner"
)

// secret is an environment value of the stack: it must never appear in a
// tool result or a log wtenv writes, since nothing here prints it.
const secret = "s3cr3t-token-5c1a9e"

var probeCompose = strings.Replace(strings.Replace(enginetest.FixtureCompose, "    volumes:\n      - data:/data\n", "    volumes:\n      - data:/data\n    environment:\n      API_TOKEN: "+secret+"\n", 1), "\nvolumes:\n", `
  checker:
    image: `+enginetest.BaseImage+`
    profiles: [test]
    environment:
      API_TOKEN: `+secret+`
volumes:
`, 1)

// The probe runs in a's stack and tries to resolve b's store by its
// container name, passed as its argument.
const probeScript = `echo "1..2"
if getent hosts store >/dev/null; then echo "ok 1 - own store resolves"; else echo "not ok 1 - own store resolves"; fi
if getent hosts "$1" >/dev/null; then echo "not ok 2 - $1 of another worktree resolves"; else echo "ok 2 - $1 of another worktree is out of reach"; fi
`

// A server bound to worktree a cannot stop, start, exec into or read the
// logs of worktree b's stack, whatever it is asked; secrets in the stack's
// environment never reach a tool result or a log; ports bind to loopback;
// state and logs are the user's alone.
func TestServerIsConfinedToItsWorktree(t *testing.T) {
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	state := t.TempDir()
	t.Setenv("WTENV_STATE_DIR", filepath.Join(state, "wtenv")) // made by wtenv, to check its mode
	files := enginetest.FixtureFiles(t)
	files["compose.yaml"] = []byte(probeCompose)
	files["wtenv.yaml"] = []byte("tests:\n  unit:\n    service: checker\n    command: [sh, t/probe.sh]\n    needs: [store]\n    format: tap\n")
	files["t/probe.sh"] = []byte(probeScript)
	repo := enginetest.Repo(t, "confined", files)
	other := enginetest.Worktree(t, repo, "feature/b")
	enginetest.Cleanup(t, repo, other)

	a := connect(t, repo, nil)
	b := connect(t, other, nil)
	var sb stack.Stack
	b.call(t, "env_up", nil, &sb)
	started := startTimes(t, sb.Project)
	bStore := sb.Project + "-store"

	var results []string
	record := func(v any) {
		raw, _ := json.Marshal(v)
		results = append(results, string(raw))
	}
	var sa stack.Stack
	record(a.call(t, "env_up", nil, &sa))
	for _, s := range sa.Services {
		for _, p := range s.Ports {
			if p.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %d on %s, want 127.0.0.1", s.Name, p.HostPort, p.HostIP)
			}
		}
	}
	var run runner.TestRun
	record(a.call(t, "run_unit_tests", map[string]any{"extra_args": []string{bStore}}, &run))
	if !run.Passed || run.Counts.Passed != 2 {
		t.Errorf("the probe in a's stack: %+v\n%s", run.Counts, run.OutputTail)
	}
	var logs stack.Logs
	record(a.call(t, "env_logs", nil, &logs))
	record(a.call(t, "env_status", nil, nil))
	var d stack.Down
	record(a.call(t, "env_down", nil, &d))
	// With its own stack gone, a has no store to read, though b's runs
	// under the same service name.
	res, err := a.CallTool(context.Background(), callParams("env_logs", map[string]any{"service": "store"}))
	if err != nil || !res.IsError || !strings.Contains(text(res), "no container") {
		t.Errorf("a read logs of a store after its own stack was down: %v %s", err, text(res))
	}
	var st stack.Stack
	b.call(t, "env_status", nil, &st)
	if st.State != stack.StateRunning {
		t.Errorf("b's stack after a's up and down: %s", st.State)
	}
	if after := startTimes(t, sb.Project); !equal(after, started) {
		t.Errorf("b's containers were restarted: %v, then %v", started, after)
	}

	for _, r := range results {
		if strings.Contains(r, secret) {
			t.Errorf("a tool result shows the secret: %.300s", r)
		}
	}
	checkFiles(t, a.logPath, 0o600, false)
	checkFiles(t, filepath.Join(repo, ".wtenv", "logs"), 0o700, true)
	checkFiles(t, filepath.Join(state, "wtenv"), 0o700, true)
	b.call(t, "env_down", map[string]any{"purge": true}, &d)
}

// checkFiles checks that path (a file, or a directory and every file in it)
// is private to the user and never contains the secret.
func checkFiles(t *testing.T, path string, mode fs.FileMode, dir bool) {
	t.Helper()
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others can read it", p, info.Mode().Perm())
		}
		if d.IsDir() {
			return nil
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(body), secret) {
			t.Errorf("%s contains the secret", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.IsDir() != dir || info.Mode().Perm() != mode {
		t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), mode)
	}
}

// startTimes maps each container of the project to when it last started.
func startTimes(t *testing.T, project string) map[string]string {
	t.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "com.docker.compose.project="+project)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cs.Items {
		insp, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[c.ID] = insp.Container.State.StartedAt
	}
	return out
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func callParams(name string, args map[string]any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args}
}
