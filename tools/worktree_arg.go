package tools

import (
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// WorktreeArg is the argument every tool takes to name the worktree the
// server serves, for hosts that start servers outside the worktree and
// send no roots: the first call that names one binds the server to it for
// as long as it runs; later calls may repeat it, and a call that names
// another is refused.
const WorktreeArg = "worktree"

// withWorktree adds the worktree argument to the tool's input schema. It
// must follow mcp.WithInputSchema.
func withWorktree() mcp.ToolOption {
	return func(t *mcp.Tool) {
		var schema map[string]any
		if err := json.Unmarshal(t.RawInputSchema, &schema); err != nil {
			panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err)) // a programming error, caught by the golden tests
		}
		props, _ := schema["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			schema["properties"] = props
		}
		props[WorktreeArg] = map[string]any{
			"type":        "string",
			"description": "Absolute path of the worktree you work in. Needed only when the server was started outside it without roots (the error then says so); it binds the server to that worktree for as long as it runs.",
		}
		raw, err := json.Marshal(schema)
		if err != nil {
			panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err))
		}
		t.RawInputSchema = raw
	}
}

// InputRequired is returned by a Binding that needs the client's answer
// (its roots) before it can bind: the handler returns Result, which asks
// the client for it, and the client calls again with the answer.
type InputRequired struct{ Result *mcp.CallToolResult }

func (e *InputRequired) Error() string { return "the server needs the client's roots" }
