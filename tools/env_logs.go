package tools

import (
	"context"
	"fmt"

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
		if args.Tail < 1 || args.Tail > maxTail {
			return stack.Logs{}, "", fmt.Errorf("argument \"tail\" must be between 1 and %d, not %d", maxTail, args.Tail)
		}
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return stack.Logs{}, "", err
		}
		text, err := env.Logs(ctx, args.Service, args.Tail)
		if err != nil {
			return stack.Logs{}, "", err
		}
		if text == "" {
			text = "(no log lines)\n"
		}
		return stack.Logs{Project: env.Project, Service: args.Service, Tail: args.Tail, Text: text}, text, nil
	})}
}
