// Package server wires wtenv's MCP tools to a stdio transport: protocol
// versions, worktree binding, logging and the server instructions. It holds
// no tool logic; that lives in package tools over the core in package envs.
package server

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"log"
	"log/slog"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/tools"
)

//go:embed instructions.md
var instructions string

// Options configure Serve.
type Options struct {
	Worktree string // bind to this worktree; "" resolves as Bind describes
	Logger   *slog.Logger
	Stdin    io.Reader
	Stdout   io.Writer // protocol messages only
}

// New returns the MCP server with every tool registered and bound to b.
func New(b tools.Binding, logger *slog.Logger) *mcpserver.MCPServer {
	s, _ := newServer(b, logger)
	return s
}

func newServer(b tools.Binding, logger *slog.Logger) (*mcpserver.MCPServer, *tasks) {
	t := newTasks()
	opts := append(t.options(),
		mcpserver.WithInstructions(instructions),
		mcpserver.WithToolCapabilities(false),
		mcpserver.WithRecovery(),
		mcpserver.WithToolHandlerMiddleware(logCalls(logger)),
	)
	s := mcpserver.NewMCPServer("wtenv", envs.Version, opts...)
	s.AddTools(tools.New(b).All()...)
	return s, t
}

// Serve runs the MCP server on stdin/stdout until the input ends or ctx is
// cancelled.
func Serve(ctx context.Context, opts Options) error {
	b := newBinding(opts.Worktree, opts.Logger)
	defer b.Close()
	s, t := newServer(b, opts.Logger)
	// A task's call outlives its request; when the client goes, it is
	// cancelled and given time to stop what it started.
	defer t.stop(time.Minute)
	stdio := mcpserver.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(slogWriter{opts.Logger}, "", 0))
	f := newFraming(opts.Stdout, func(format string, args ...any) { opts.Logger.Error(fmt.Sprintf(format, args...)) })
	opts.Logger.Info("serving MCP on stdio", "worktree", b.describe(), "version", envs.Version)
	return stdio.Listen(ctx, f.input(opts.Stdin), f)
}

// logCalls logs each tool call's start, end, duration and outcome.
func logCalls(logger *slog.Logger) mcpserver.ToolHandlerMiddleware {
	return func(next mcpserver.ToolHandlerFunc) mcpserver.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := time.Now()
			logger.Info("tool call", "tool", req.Params.Name)
			res, err := next(ctx, req)
			attrs := []any{"tool", req.Params.Name, "duration", time.Since(start).Round(time.Millisecond)}
			switch {
			case err != nil:
				logger.Error("tool failed", append(attrs, "error", err)...)
			case res != nil && res.IsError:
				logger.Warn("tool returned an error", append(attrs, "kind", errorKind(res), "message", errorText(res))...)
			default:
				logger.Info("tool done", attrs...)
			}
			return res, err
		}
	}
}

func errorText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			return t.Text
		}
	}
	return ""
}

// errorKind is the kind an error result carries in _meta.
func errorKind(res *mcp.CallToolResult) string {
	if res.Meta == nil {
		return ""
	}
	m, _ := res.Meta.AdditionalFields[tools.ErrorMeta].(map[string]any)
	k, _ := m["kind"].(string)
	return k
}

// slogWriter routes the transport's own error log into slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Error("stdio transport", "message", string(p))
	return len(p), nil
}
