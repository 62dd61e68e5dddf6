package server_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
)

// A project whose unit suite takes several seconds in a one-off container,
// and whose e2e suite never ends on its own.
const taskCompose = `services:
  checker:
    image: ` + enginetest.BaseImage + `
    pull_policy: never
    profiles: [test]
`

const taskYAML = `tests:
  unit:
    service: checker
    command: [sh, -c, "for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done; echo ok"]
    format: plain
  e2e:
    service: checker
    command: [sleep, "600"]
    format: plain
`

// A suite longer than the client's request timeout completes as an MCP
// task (2025-11-25): tools/call answers at once with the task, tasks/get
// reports it working while the suite runs, progress flows, tasks/result
// has the run. Every request is answered within 2 s, the timeout of the
// client here; the suite takes over 6 s. tasks/cancel, and a cancelled
// request without a task, stop the run and remove its container.
func TestLongSuiteRunsAsATask(t *testing.T) {
	enginetest.Isolate(t)
	enginetest.LocalImages(t)
	repo := enginetest.Repo(t, "tasks", map[string][]byte{"compose.yaml": []byte(taskCompose), "wtenv.yaml": []byte(taskYAML)})
	enginetest.Cleanup(t, repo)
	const timeout = 2 * time.Second

	s := rawConnect(t, "2025-11-25", t.TempDir())
	s.initialize(map[string]any{"tasks": map[string]any{}})
	start := time.Now()
	id := startTask(t, s, "run_unit_tests", repo, "unit")
	status, working := waitTask(t, s, id, timeout)
	if status != "completed" || working == 0 {
		t.Fatalf("task ended %s after %d polls that said working", status, working)
	}
	if took := time.Since(start); took < 3*timeout {
		t.Fatalf("the suite took %s: it does not outlast the client's timeout, so the test proves nothing", took)
	}
	r := s.call(timeout, "tasks/result", map[string]any{"taskId": id})
	var res struct {
		IsError           bool `json:"isError"`
		StructuredContent struct {
			Passed     bool   `json:"passed"`
			OutputTail string `json:"output_tail"`
		} `json:"structuredContent"`
	}
	json.Unmarshal(r.Result, &res)
	if res.IsError || !res.StructuredContent.Passed || !strings.Contains(res.StructuredContent.OutputTail, "tick 6") {
		t.Fatalf("tasks/result: %s", r.Result)
	}
	if n := progressCount(s, "unit"); n == 0 {
		t.Error("no progress notification for the task's token")
	}

	// tasks/cancel stops the run: its container goes.
	id = startTask(t, s, "run_e2e_tests", repo, "e2e")
	waitOneOff(t, repo, true)
	s.call(timeout, "tasks/cancel", map[string]any{"taskId": id})
	waitOneOff(t, repo, false)
	if status, _ := waitTask(t, s, id, timeout); status != "cancelled" {
		t.Errorf("after tasks/cancel the task is %s", status)
	}

	// So does notifications/cancelled for a call without a task.
	ch := s.expect(`"plain"`, "tools/call")
	s.send(`{"jsonrpc":"2.0","id":"plain","method":"tools/call","params":{"name":"run_e2e_tests","arguments":{"worktree":` + mustJSON(repo) + `}}}`)
	waitOneOff(t, repo, true)
	s.notify("notifications/cancelled", map[string]any{"requestId": "plain", "reason": "the user stopped it"})
	waitOneOff(t, repo, false)
	select {
	case m := <-ch:
		t.Errorf("a cancelled request was answered: %s", m)
	case <-time.After(time.Second):
	}
}

func startTask(t *testing.T, s *rawSession, tool, repo, token string) string {
	t.Helper()
	r := s.call(2*time.Second, "tools/call", map[string]any{"name": tool, "arguments": map[string]any{"worktree": repo},
		"task": map[string]any{"ttl": 600000}, "_meta": map[string]any{"progressToken": token}})
	var created struct {
		Task struct {
			TaskID string `json:"taskId"`
			Status string `json:"status"`
		} `json:"task"`
	}
	json.Unmarshal(r.Result, &created)
	if created.Task.TaskID == "" || created.Task.Status != "working" {
		t.Fatalf("%s as a task: %s %+v", tool, r.Result, r.Error)
	}
	return created.Task.TaskID
}

// waitTask polls tasks/get until the task ends, and returns its status
// and how many polls found it working.
func waitTask(t *testing.T, s *rawSession, id string, timeout time.Duration) (string, int) {
	t.Helper()
	working := 0
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		r := s.call(timeout, "tasks/get", map[string]any{"taskId": id})
		var task struct {
			Status string `json:"status"`
		}
		json.Unmarshal(r.Result, &task)
		if task.Status != "working" {
			return task.Status, working
		}
		working++
	}
	t.Fatalf("task %s still working after 3 minutes", id)
	return "", working
}

// waitOneOff waits until the worktree has a one-off container (or none).
func waitOneOff(t *testing.T, repo string, want bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=dev.wtenv.worktree="+repo, "--filter", "label=com.docker.compose.oneoff=True").Output()
		if err != nil {
			t.Fatal(err)
		}
		if (len(strings.TrimSpace(string(out))) > 0) == want {
			return
		}
	}
	t.Fatalf("waiting for a one-off container to be there: %v; gave up after 2 minutes", want)
}

func progressCount(s *rawSession, token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.notes {
		var note struct {
			Method string `json:"method"`
			Params struct {
				ProgressToken string `json:"progressToken"`
			} `json:"params"`
		}
		if json.Unmarshal(m, &note) == nil && note.Method == "notifications/progress" && note.Params.ProgressToken == token {
			n++
		}
	}
	return n
}
