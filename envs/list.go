package envs

import (
	"context"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
)

// List reports every wtenv stack on the engine. It needs no worktree.
func List(ctx context.Context) (stack.List, error) {
	eng, err := engine.New(ctx)
	if err != nil {
		return stack.List{}, err
	}
	defer eng.Close()
	stacks, err := eng.List(ctx)
	return stack.List{Stacks: stacks}, err
}
