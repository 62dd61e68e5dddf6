package envs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// A test run's container counts in the stack's measured peak, and the
// running stack's reservation grows to it: stacks admitted beside it then
// leave room for its next run.
func TestATestRunsContainerCountsInTheStacksPeak(t *testing.T) {
	root := enginetest.ImageWorktrees(t)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := open(ctx, t, root)
	if _, err := e.Up(ctx, envs.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	before := entryOf(ctx, t, e.Project)
	const hold = 96 << 20
	var out bytes.Buffer
	code, err := e.RunOneOff(ctx, engine.RunOptions{Service: "store", Command: []string{"hold", "96", "5"}, Output: &out, Timeout: time.Minute})
	if err != nil || code != 0 || !strings.Contains(out.String(), "96") {
		t.Fatalf("one-off: exit %d %v\n%s", code, err, out.String())
	}
	after := entryOf(ctx, t, e.Project)
	if before.PeakMemory >= hold || after.PeakMemory < hold+before.PeakMemory/2 {
		t.Errorf("peak %d bytes before the run, %d after; want the run's %d bytes counted", before.PeakMemory, after.PeakMemory, hold)
	}
	if after.Reserved < after.PeakMemory {
		t.Errorf("reservation %d after the run, below the peak %d", after.Reserved, after.PeakMemory)
	}
}
