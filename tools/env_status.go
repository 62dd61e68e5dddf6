package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs/stack"
)

// StatusArgs are env_status's arguments: none.
type StatusArgs struct{}

func (t *Tools) envStatus() server.ServerTool {
	tool := mcp.NewTool("env_status",
		mcp.WithDescription("Report this worktree's stack: its state (absent, partial, running, stopped, asleep), each service's state, health, exit code, URLs on 127.0.0.1 and memory, and the stack's total memory."),
		mcp.WithInputSchema[StatusArgs](),
		withWorktree(),
		mcp.WithOutputSchema[stack.Stack](),
		mcp.WithTitleAnnotation("Status of this worktree's stack"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, _ StatusArgs) (stack.Stack, string, error) {
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return stack.Stack{}, "", err
		}
		st, err := env.Status(ctx)
		if err != nil {
			return stack.Stack{}, "", err
		}
		return st, summarizeStack(st), nil
	})}
}
