package envs

import (
	"context"
	"sync"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/state"
)

// runSample is how often a test run samples what its stack holds, the
// first time after firstSample.
const (
	runSample   = 2 * time.Second
	firstSample = 500 * time.Millisecond
)

// watchMemory samples what the stack holds, its one-off containers
// included, while a test run's container runs, and returns the stop. The
// stop records the largest sample as the stack's peak, which later
// admissions reserve, and raises the running stack's reservation to it:
// a stack's need is the most it held, its test runs included, so that
// stacks admitted beside it leave room for its next run.
func (e *Env) watchMemory(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var peak int64
	var wg sync.WaitGroup
	wg.Go(func() {
		// The first look comes soon, for runs shorter than runSample.
		next := time.NewTimer(firstSample)
		defer next.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-next.C:
				next.Reset(runSample)
			}
			snap, err := e.engine().Snapshot(ctx, engine.Scope{})
			if err != nil {
				continue
			}
			for _, s := range summaries(snap) {
				if s.Project == e.Project {
					peak = max(peak, s.MemoryBytes)
				}
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
		if peak == 0 {
			return
		}
		_ = e.store.Update(context.WithoutCancel(ctx), func(f *state.File) error {
			p := project(f, e)
			p.PeakMemory = max(p.PeakMemory, peak)
			if p.Reserved > 0 {
				p.Reserved = max(p.Reserved, peak)
			}
			return nil
		})
	}
}
