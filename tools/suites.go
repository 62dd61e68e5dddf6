package tools

import (
	"context"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/runner"
)

// TestArgs are the arguments of run_unit_tests and run_e2e_tests.
type TestArgs struct {
	Filter    string   `json:"filter,omitempty" jsonschema:"only tests matching this; for go test output it becomes -run FILTER, for other formats the suite receives it as WTENV_TEST_FILTER"`
	ExtraArgs []string `json:"extra_args,omitempty" jsonschema:"arguments appended to the suite's command"`
	TimeoutS  int      `json:"timeout_s,omitempty" jsonschema:"seconds before the run is killed; default: the suite's timeout in wtenv.yaml, else 600"`
}

// suiteTool is a tool that runs one wtenv.yaml suite in this worktree's
// stack.
func (t *Tools) suiteTool(name, suite, description string) server.ServerTool {
	tool := mcp.NewTool(name,
		mcp.WithDescription(description),
		mcp.WithInputSchema[TestArgs](),
		withWorktree(),
		mcp.WithTaskSupport(mcp.TaskSupportOptional),
		withRange(map[string][2]int{"timeout_s": {0, maxTimeoutS}}),
		mcp.WithOutputSchema[runner.TestRun](),
		mcp.WithTitleAnnotation("Run the "+suite+" tests in this worktree's stack"),
		mcp.WithReadOnlyHintAnnotation(false),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(false),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, args TestArgs) (runner.TestRun, string, error) {
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return runner.TestRun{}, "", err
		}
		run, err := runner.Run(ctx, env, suite, runner.Options{
			Filter:      args.Filter,
			ExtraArgs:   args.ExtraArgs,
			Timeout:     time.Duration(args.TimeoutS) * time.Second,
			TimeoutFlag: "timeout_s",
			Progress:    progress(ctx, req),
		})
		if err != nil {
			return runner.TestRun{}, "", err
		}
		return run, run.Summary(), nil
	})}
}
