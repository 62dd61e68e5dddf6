package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/wtenv/wtenv/envs/worktree"
	"github.com/wtenv/wtenv/tools"
)

// rootsInput is the key of the roots request in a multi round-trip call.
const rootsInput = "wtenv-roots"

// rootDir returns the first file root of a client that declared roots. At
// 2026-07-28 and later, where a server sends no requests of its own, the
// roots are asked for by a multi round-trip result and arrive with the
// call's retry; before, by a roots/list request during the call. A client
// that declared no roots is not asked: the error says how to bind.
func rootDir(ctx context.Context, req mcp.CallToolRequest) (string, error) {
	client, caps, modern := peer(ctx)
	if caps.Roots == nil {
		return "", unboundError(client, "it declared no roots")
	}
	var roots []mcp.Root
	if modern {
		res := mcpserver.RootsResponse(req.Params.InputResponses, rootsInput)
		if res == nil {
			return "", &tools.InputRequired{Result: mcpserver.NewInputRequestBuilder("").Roots(rootsInput).ToolResult()}
		}
		roots = res.Roots
	} else {
		srv := mcpserver.ServerFromContext(ctx)
		if srv == nil {
			return "", unboundError(client, "it is not connected")
		}
		// A client that declared roots and never answers must not hold
		// the binding (and every other call) for good.
		rctx, cancel := context.WithTimeout(ctx, rootsWait)
		res, err := srv.RequestRoots(rctx, mcp.ListRootsRequest{})
		cancel()
		if err != nil {
			return "", unboundError(client, fmt.Sprintf("it did not answer roots/list (%v)", err))
		}
		roots = res.Roots
	}
	// The first root inside a git worktree: a workspace's first folder
	// may be something else.
	var others []string
	for _, r := range roots {
		u, err := url.Parse(r.URI)
		if err != nil || u.Scheme != "file" || u.Path == "" {
			continue
		}
		if _, err := worktree.Open(u.Path); err == nil {
			return u.Path, nil
		}
		others = append(others, u.Path)
	}
	if len(others) > 0 {
		return "", unboundError(client, "none of its roots ("+strings.Join(others, ", ")+") is inside a git worktree")
	}
	return "", unboundError(client, "it sent no file:// root")
}

// rootsWait bounds the wait for a client's answer to roots/list.
const rootsWait = 30 * time.Second

// peer returns the client's identity and capabilities as this request
// declares them (2026-07-28 and later) or as initialize did.
func peer(ctx context.Context) (mcp.Implementation, mcp.ClientCapabilities, bool) {
	if info := mcpserver.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		var client mcp.Implementation
		if info.ClientInfo != nil {
			client = *info.ClientInfo
		}
		var caps mcp.ClientCapabilities
		if info.ClientCapabilities != nil {
			caps = *info.ClientCapabilities
		}
		return client, caps, true
	}
	if s, ok := mcpserver.ClientSessionFromContext(ctx).(mcpserver.SessionWithClientInfo); ok {
		return s.GetClientInfo(), s.GetClientCapabilities(), false
	}
	return mcp.Implementation{}, mcp.ClientCapabilities{}, false
}

// unboundError says why the client's roots did not bind the server and
// which way to bind fits the host in hand.
func unboundError(client mcp.Implementation, why string) error {
	arg := fmt.Sprintf("pass %q (the absolute path of the worktree you work in) on this call: it binds this server to that worktree for as long as it runs", tools.WorktreeArg)
	var host string
	name := strings.ToLower(client.Name)
	switch {
	case strings.Contains(name, "claude-code"):
		host = "or run `wtenv init claude` in the worktree, so Claude Code starts wtenv there from the project's .mcp.json"
	case strings.Contains(name, "claude"):
		host = `or add "args": ["serve", "--worktree", "/absolute/path/to/worktree"] to wtenv's entry in claude_desktop_config.json (Claude Desktop starts servers in the home folder, with no roots)`
	case strings.Contains(name, "cursor"):
		host = "or run `wtenv init cursor` in the worktree (.cursor/mcp.json)"
	case strings.Contains(name, "codex"):
		host = "or run `wtenv init codex` in the worktree (.codex/config.toml)"
	default:
		host = "or start wtenv serve with --worktree DIR or WTENV_WORKTREE=DIR, or from inside the worktree"
	}
	who := "the client"
	if client.Name != "" {
		who = client.Name
	}
	return fmt.Errorf("%w: no worktree from its start (--worktree, WTENV_WORKTREE, the current directory), and %s could not give one: %s; %s, %s", ErrUnbound, who, why, arg, host)
}
