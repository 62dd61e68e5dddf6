package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs/stack"
)

// DownArgs are env_down's arguments.
type DownArgs struct {
	Purge bool `json:"purge,omitempty" jsonschema:"also remove the stack's volumes (its data) and the images built for this worktree"`
}

func (t *Tools) envDown() server.ServerTool {
	tool := mcp.NewTool("env_down",
		mcp.WithDescription("Stop and remove this worktree's stack: its containers and networks. Named volumes (data) are kept unless purge is set. Idempotent: on an absent stack it removes nothing and succeeds. Never touches another worktree's stack."),
		mcp.WithInputSchema[DownArgs](),
		withWorktree(),
		mcp.WithOutputSchema[stack.Down](),
		mcp.WithTitleAnnotation("Remove this worktree's stack"),
		mcp.WithReadOnlyHintAnnotation(false),
		mcp.WithDestructiveHintAnnotation(true),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, args DownArgs) (stack.Down, string, error) {
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return stack.Down{}, "", err
		}
		d, err := env.Down(ctx, args.Purge)
		if err != nil {
			return stack.Down{}, "", err
		}
		return d, summarizeDown(d), nil
	})}
}
