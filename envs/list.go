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
	if err != nil {
		return stack.List{}, err
	}
	store, err := openStore()
	if err != nil {
		return stack.List{}, err
	}
	f, err := store.Read(ctx)
	if err != nil {
		return stack.List{}, err
	}
	b, err := budgetSummary(ctx, eng, store, f, stacks)
	return stack.List{Stacks: stacks, Budget: b}, err
}
