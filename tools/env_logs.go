package tools

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// LogsArgs are env_logs's arguments.
type LogsArgs struct {
	Service string `json:"service,omitempty" jsonschema:"one service; default: every service"`
	Tail    int    `json:"tail,omitempty" jsonschema:"last lines per service, 1 to 2000; default 100"`
}

// Logs is env_logs's result.
type Logs struct {
	Project string `json:"project"`
	Service string `json:"service,omitempty"`
	Tail    int    `json:"tail"`
	Text    string `json:"text" jsonschema:"log lines, each prefixed with its service name"`
}

func (t *Tools) envLogs() server.ServerTool {
	tool := mcp.NewTool("env_logs",
		mcp.WithDescription("Show the last log lines of this worktree's services (stdout and stderr), each line prefixed with its service name."),
		mcp.WithInputSchema[LogsArgs](),
		mcp.WithOutputSchema[Logs](),
		mcp.WithTitleAnnotation("Logs of this worktree's stack"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(func(ctx context.Context, req mcp.CallToolRequest, args LogsArgs) (Logs, string, error) {
		if args.Tail == 0 {
			args.Tail = 100
		}
		if args.Tail < 1 || args.Tail > 2000 {
			return Logs{}, "", fmt.Errorf("argument \"tail\" must be between 1 and 2000, not %d", args.Tail)
		}
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return Logs{}, "", err
		}
		text, err := env.Logs(ctx, args.Service, args.Tail)
		if err != nil {
			return Logs{}, "", err
		}
		if text == "" {
			text = "(no log lines)\n"
		}
		return Logs{Project: env.Project, Service: args.Service, Tail: args.Tail, Text: text}, text, nil
	})}
}
