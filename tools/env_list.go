package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs/stack"
)

// ListArgs are env_list's arguments: none.
type ListArgs struct{}

func (t *Tools) envList() server.ServerTool {
	tool := mcp.NewTool("env_list",
		mcp.WithDescription("List every wtenv stack on this Docker engine, from every worktree: project, worktree, branch, state and memory. Read-only: to stop another worktree's stack, call env_down from that worktree."),
		mcp.WithInputSchema[ListArgs](),
		withWorktree(),
		mcp.WithOutputSchema[stack.List](),
		mcp.WithTitleAnnotation("List all stacks on this machine"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, _ ListArgs) (stack.List, string, error) {
		if err := t.bind.Claim(ctx, req); err != nil {
			return stack.List{}, "", err
		}
		l, err := t.list(ctx)
		if err != nil {
			return stack.List{}, "", err
		}
		return l, summarizeList(l), nil
	})}
}
