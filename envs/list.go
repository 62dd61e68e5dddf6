package envs

import (
	"context"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
	"github.com/wtenv/wtenv/envs/state"
)

// List reports every wtenv stack on the engine. It needs no worktree.
func List(ctx context.Context) (stack.List, error) {
	eng, err := connect(ctx)
	if err != nil {
		return stack.List{}, err
	}
	defer eng.Close()
	store, err := openStore()
	if err != nil {
		return stack.List{}, err
	}
	return list(ctx, eng, store)
}

func list(ctx context.Context, eng Engine, store *state.Store) (stack.List, error) {
	snap, err := eng.Snapshot(ctx, engine.Scope{})
	if err != nil {
		return stack.List{}, err
	}
	f, err := store.Read(ctx)
	if err != nil {
		return stack.List{}, err
	}
	b, err := budgetSummary(ctx, eng, store, f, snap)
	stacks := summaries(snap)
	for i, s := range stacks {
		stacks[i].State, _ = sleepState(s.State, f.Projects[s.Project], store.Busy(s.Project))
	}
	return stack.List{Stacks: stacks, Budget: b}, err
}
