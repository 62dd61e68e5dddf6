package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/wtenv/wtenv/envs/enginetest"
	"github.com/wtenv/wtenv/envs/stack"
)

// An env_up that fails after creating things returns the Stack it left
// beside the error, and fails as soon as the service is judged unhealthy.
func TestFailedUpReturnsTheStackLeft(t *testing.T) {
	enginetest.Isolate(t)
	image := enginetest.KVImage(t)
	compose := "services:\n  store:\n    image: " + image + "\n    pull_policy: never\n  front:\n    image: " + image + "\n    pull_policy: never\n    healthcheck:\n      test: [\"CMD\", \"/does-not-exist\"]\n      interval: 1s\n      retries: 2\n"
	repo := enginetest.Repo(t, "failing", map[string][]byte{"compose.yaml": []byte(compose)})
	enginetest.Cleanup(t, repo)
	s := connect(t, repo, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "env_up", Arguments: map[string]any{"timeout_s": 120}})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(res), `service "front" is unhealthy`) {
		t.Fatalf("env_up: isError=%v %s", res.IsError, text(res))
	}
	t.Logf("env_up failed after %s", took.Round(100*time.Millisecond))
	if took > 60*time.Second && !strings.Contains(text(res), "overloaded") {
		t.Errorf("env_up took %s to fail on an unhealthy service, not its healthcheck's few seconds", took.Round(time.Second))
	}
	var st stack.Stack
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &st); err != nil || st.Project == "" || len(st.Services) != 2 {
		t.Fatalf("structuredContent beside the error: %v %s", err, b)
	}
	for _, svc := range st.Services {
		if svc.Name == "store" && svc.State != "running" {
			t.Errorf("store is %s in the stack left, want running", svc.State)
		}
	}
}
