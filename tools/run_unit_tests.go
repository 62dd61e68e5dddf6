package tools

import "github.com/mark3labs/mcp-go/server"

func (t *Tools) runUnitTests() server.ServerTool {
	return t.suiteTool("run_unit_tests", "unit",
		"Run this worktree's unit test suite (tests.unit in wtenv.yaml) inside this worktree's own stack and return the counts, each failing test with its location and output, and the path of the full log. A failing test is a normal result with passed=false, not an error.")
}
