package tools

import "github.com/mark3labs/mcp-go/server"

func (t *Tools) runE2ETests() server.ServerTool {
	return t.suiteTool("run_e2e_tests", "e2e",
		"Run this worktree's end-to-end test suite (tests.e2e in wtenv.yaml) against this worktree's own running stack, starting the services it needs first, and return the counts, each failing test with its location and output, and the path of the full log. Other worktrees' stacks are never touched.")
}
