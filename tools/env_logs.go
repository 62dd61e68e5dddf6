package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs/stack"
)

// LogsArgs are env_logs's arguments.
type LogsArgs struct {
	Service string `json:"service,omitempty" jsonschema:"one service; default: every service"`
	Tail    int    `json:"tail,omitempty" jsonschema:"last lines per service, 1 to 2000; default (or 0) 100"`
}

// maxTail bounds tail: more would flood the model's context.
const maxTail = 2000

func (t *Tools) envLogs() server.ServerTool {
	tool := mcp.NewTool("env_logs",
		mcp.WithDescription("Show the last log lines of this worktree's services (stdout and stderr), each line prefixed with its service name."),
		mcp.WithInputSchema[LogsArgs](),
		withWorktree(),
		withRange(map[string][2]int{"tail": {0, maxTail}}),
		mcp.WithOutputSchema[stack.Logs](),
		mcp.WithTitleAnnotation("Logs of this worktree's stack"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, args LogsArgs) (stack.Logs, string, error) {
		if args.Tail == 0 {
			args.Tail = 100
		}
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return stack.Logs{}, "", err
		}
		logs, err := env.Logs(ctx, args.Service, args.Tail)
		if err != nil {
			return stack.Logs{}, "", err
		}
		summary := logs.Text
		if summary == "" {
			summary = "(no log lines)"
		}
		return logs, summary, nil
	})}
}
