package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs/stack"
)

// SleepArgs are env_sleep's arguments: none.
type SleepArgs struct{}

func (t *Tools) envSleep() server.ServerTool {
	tool := mcp.NewTool("env_sleep",
		mcp.WithDescription("Put this worktree's stack to sleep while you read and edit: its containers stop and hold no memory, and its data, container names and ports are kept. env_up or a test run wakes it, in about the time its services take to start. Use it when you will not run the stack for a while, so other worktrees' stacks have room. Idempotent; refused while a test run uses the stack."),
		mcp.WithInputSchema[SleepArgs](),
		withWorktree(),
		mcp.WithOutputSchema[stack.Stack](),
		mcp.WithTitleAnnotation("Put this worktree's stack to sleep"),
		mcp.WithReadOnlyHintAnnotation(false),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, _ SleepArgs) (stack.Stack, string, error) {
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return stack.Stack{}, "", err
		}
		st, err := env.Sleep(ctx, progress(ctx, req))
		if err != nil {
			return stack.Stack{}, "", err
		}
		return st, summarizeStack(st), nil
	})}
}
