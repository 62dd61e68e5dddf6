package main

import (
	"fmt"
	"testing"
	"time"
)

// A refusal's holder lines, as envs/budget writes them.
const refusalText = `memory budget full: 4 stacks hold 471.6 MiB of the 452 MiB budget and this stack needs 101 MiB (measured peak)
no stack holding memory could be put to sleep to make room: admission does that only to a stack untouched for its idle_after (20s, set by WTENV_IDLE_AFTER; a worktree's wtenv.yaml idle_after overrides it) with no up, test run or sleep under way
stacks holding memory, largest first:
  - shop-a (branch a) in /w/a: 170 MiB in use, running, idle 3s, in use (an up, a test run or a sleep is under way)
  - shop-b (branch b) in /w/b: 101 MiB in use, running, idle %s, put to sleep once idle 20s
  - shop-c (branch c) in /w/c: 99 MiB in use, running, idle 2h0m, never put to sleep (idle_after: 0)
  - shop-d (branch d) in /w/d: 98 MiB reserved, stopped, idle 40s, put to sleep once idle 20s
to start shop-new:
  - free at least 120.6 MiB: run env_sleep (or env_down) in an idle stack's worktree`

func TestIdleListed(t *testing.T) {
	for idle, want := range map[string]bool{"8s": false, "19s": false, "20s": true, "34s": true, "1m": true, "1h5m": true} {
		text := fmt.Sprintf(refusalText, idle)
		if got := idleListed(text, 20*time.Second); got != want {
			t.Errorf("holder idle %s: idleListed = %v, want %v", idle, got, want)
		}
	}
}

func TestSections(t *testing.T) {
	section := agentsBegin + "\nnew figures\n" + agentsEnd
	doc := "# results\n\nmain figures\n"
	withSection := replaceSection(doc, section)
	if want := "# results\n\nmain figures\n\n" + section + "\n"; withSection != want {
		t.Fatalf("replaceSection appended:\n%q\nwant\n%q", withSection, want)
	}
	again := replaceSection(withSection, agentsBegin+"\nnewer\n"+agentsEnd)
	if agentsSection(again) != agentsBegin+"\nnewer\n"+agentsEnd || again[:len(doc)] != doc {
		t.Fatalf("replaceSection did not replace only the section:\n%s", again)
	}
	rewritten := keepSection("# results\n\nnew main figures\n", again)
	if agentsSection(rewritten) != agentsSection(again) {
		t.Fatalf("keepSection lost the section:\n%s", rewritten)
	}
	if keepSection(doc, "no section") != doc {
		t.Fatal("keepSection changed a report without a previous section")
	}
}

func TestPct(t *testing.T) {
	s := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if pct(s, .5) != 5 || pct(s, .95) != 10 || pct(s[:1], .95) != 1 || pct(nil, .5) != 0 {
		t.Fatalf("pct: %d %d %d", pct(s, .5), pct(s, .95), pct(s[:1], .95))
	}
}
