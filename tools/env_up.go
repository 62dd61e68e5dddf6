package tools

import (
	"context"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/stack"
)

// UpArgs are env_up's arguments.
type UpArgs struct {
	Services []string `json:"services,omitempty" jsonschema:"start only these services and what they depend on; default: every service"`
	Build    bool     `json:"build,omitempty" jsonschema:"rebuild the images of build: services even when they exist (after changing their code)"`
	TimeoutS int      `json:"timeout_s,omitempty" jsonschema:"seconds to wait for services to become healthy; default 300"`
}

func (t *Tools) envUp() server.ServerTool {
	tool := mcp.NewTool("env_up",
		mcp.WithDescription("Bring up this worktree's own copy of the project's Docker Compose stack, isolated from every other worktree: its own container names, host ports, networks and volumes. Builds and starts services in dependency order and waits until they are healthy. Idempotent: on a running, unchanged stack it changes nothing. Returns each service's state, health, URLs on 127.0.0.1 and memory."),
		mcp.WithInputSchema[UpArgs](),
		withWorktree(),
		mcp.WithTaskSupport(mcp.TaskSupportOptional),
		withRange(map[string][2]int{"timeout_s": {0, maxTimeoutS}}),
		mcp.WithOutputSchema[stack.Stack](),
		mcp.WithTitleAnnotation("Start this worktree's stack"),
		mcp.WithReadOnlyHintAnnotation(false),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
	return server.ServerTool{Tool: tool, Handler: handler(tool, func(ctx context.Context, req mcp.CallToolRequest, args UpArgs) (stack.Stack, string, error) {
		env, err := t.bind.Env(ctx, req)
		if err != nil {
			return stack.Stack{}, "", err
		}
		st, err := env.Up(ctx, envs.UpOptions{
			Services:    args.Services,
			Build:       args.Build,
			Timeout:     time.Duration(args.TimeoutS) * time.Second,
			TimeoutFlag: "timeout_s",
			Progress:    progress(ctx, req),
		})
		if err != nil && ctx.Err() == nil {
			// What the failed up left (partial, stopped, …) goes with the
			// error, so the model sees what runs without another call.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if left, serr := env.Status(sctx); serr == nil && left.State != stack.StateAbsent {
				return stack.Stack{}, "", &WithResult{Err: err, Result: left}
			}
		}
		if err != nil {
			return stack.Stack{}, "", err
		}
		return st, summarizeStack(st), nil
	})}
}
