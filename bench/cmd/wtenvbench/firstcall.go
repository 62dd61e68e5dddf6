package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/compose"
)

// firstCallArg re-executes the harness as a fresh process that times what
// a wtenv CLI process pays on its first calls and an MCP server only once:
// the first compose load (compose-go builds its schema validator then) and
// the first Status, each next to a second call.
const firstCallArg = "-first-call"

type firstCall struct {
	Open, Load1, Load2, Status1, Status2 time.Duration
}

// runFirstCall is the child side: it prints a firstCall as JSON.
func runFirstCall(root string) error {
	ctx := context.Background()
	var fc firstCall
	t := time.Now()
	lap := func(d *time.Duration) { *d = time.Since(t); t = time.Now() }
	env, err := envs.Open(ctx, root)
	if err != nil {
		return err
	}
	defer env.Close()
	lap(&fc.Open)
	cfg, err := env.Config()
	if err != nil {
		return err
	}
	t = time.Now()
	for _, d := range []*time.Duration{&fc.Load1, &fc.Load2} {
		if _, err := compose.Load(ctx, root, cfg, env.Project); err != nil {
			return err
		}
		lap(d)
	}
	for _, d := range []*time.Duration{&fc.Status1, &fc.Status2} {
		if _, err := env.Status(ctx); err != nil {
			return err
		}
		lap(d)
	}
	return json.NewEncoder(os.Stdout).Encode(fc)
}

// firstCalls runs the child n times on a running stack's worktree and
// returns each figure's samples.
func (b *bench) firstCalls(ctx context.Context, root string, n int) (map[string]samples, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out := map[string]samples{}
	for range n {
		raw, err := runQuiet(ctx, root, exe, firstCallArg, root)
		if err != nil {
			return nil, err
		}
		var fc firstCall
		if err := json.Unmarshal([]byte(raw), &fc); err != nil {
			return nil, fmt.Errorf("%s: %w", firstCallArg, err)
		}
		for k, d := range map[string]time.Duration{"open": fc.Open, "load1": fc.Load1, "load2": fc.Load2, "status1": fc.Status1, "status2": fc.Status2} {
			out[k] = append(out[k], d)
		}
	}
	return out, nil
}
