package budget

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// now is the fixed clock of the refusal tests.
var now = time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)

func TestRefusal(t *testing.T) {
	tests := []struct {
		golden  string
		limit   int64
		need    int64
		rule    string
		project string
		policy  string
		wait    [2]time.Duration // Wait, Waited
		holders []Holder
	}{
		{
			golden: "full", limit: 12 * gib, need: 2 * gib, rule: RuleMeasuredPeak, project: "shop-feature-billing-3f2a",
			holders: []Holder{
				{Project: "shop-main-91c0", Branch: "main", Worktree: "/src/shop", State: "running",
					Reserved: 3 * gib, Measured: 4 * gib, IdleSince: now.Add(-14 * time.Minute)},
				{Project: "shop-fix-login-07be", Branch: "fix/login", Worktree: "/src/shop-fix-login", State: "running",
					Reserved: 3_435_973_837, Measured: 900 << 20, IdleSince: now.Add(-3*time.Hour - 5*time.Minute)},
				{Project: "shop-docs-5d11", Branch: "docs", Worktree: "/src/shop docs", State: "partial",
					Reserved: 4 * gib, IdleSince: now.Add(-30 * time.Second)},
				{Project: "shop-old-aa01", Branch: "old", Worktree: "/src/shop-old", State: "stopped",
					IdleSince: now.Add(-72 * time.Hour)},
			},
		},
		{
			golden: "idlest_too_small", limit: 8 * gib, need: 3 * gib, rule: RuleEstimate, project: "api-main-1234",
			holders: []Holder{
				{Project: "api-big-0001", Branch: "big", Worktree: "/w/big", State: "running",
					Measured: 6 * gib, IdleSince: now.Add(-2 * time.Minute)},
				{Project: "api-small-0002", Branch: "small", Worktree: "/w/small", State: "running",
					Reserved: 512 << 20, IdleSince: now.Add(-26 * time.Hour)},
			},
		},
		{
			golden: "unknown_idle_no_worktree", limit: 4 * gib, need: 1 * gib, rule: RuleDefault,
			holders: []Holder{
				{Project: "lost-stack-beef", State: "running", Measured: 2 * gib},
				{Project: "other-main-cafe", Branch: "main", Worktree: "/w/other", State: "running", Reserved: 1536 << 20},
			},
		},
		{
			golden: "none_idle", limit: 8 * gib, need: 2 * gib, rule: RuleMeasuredPeak, project: "shop-new-0003", policy: "15m, the default", wait: [2]time.Duration{2 * time.Minute},
			holders: []Holder{
				{Project: "shop-a-0001", Branch: "a", Worktree: "/w/a", State: "running", Measured: 3 * gib,
					IdleSince: now.Add(-40 * time.Minute), Policy: true, IdleAfter: 15 * time.Minute, InUse: true},
				{Project: "shop-b-0002", Branch: "b", Worktree: "/w/b", State: "running", Reserved: 2 * gib,
					IdleSince: now.Add(-3 * time.Minute), Policy: true, IdleAfter: 15 * time.Minute},
				{Project: "shop-c-0004", Branch: "c", Worktree: "/w/c", State: "running", Reserved: 2 * gib,
					IdleSince: now.Add(-2 * time.Hour), Policy: true},
			},
		},
		{
			golden: "waited", limit: 8 * gib, need: 2 * gib, rule: RuleMeasuredPeak, project: "shop-new-0003", policy: "20s, set by WTENV_IDLE_AFTER",
			wait: [2]time.Duration{2 * time.Minute, 2*time.Minute + 400*time.Millisecond},
			holders: []Holder{
				{Project: "shop-a-0001", Branch: "a", Worktree: "/w/a", State: "running", Measured: 7 * gib,
					IdleSince: now.Add(-5 * time.Second), Policy: true, IdleAfter: 20 * time.Second, InUse: true},
			},
		},
		{
			golden: "too_big", limit: 12 * gib, need: 14 * gib, rule: RuleEstimate, project: "ml-main-0bad",
		},
		{
			golden: "too_big_with_holders", limit: 2 * gib, need: 3 * gib, rule: RuleServiceLimits, project: "ml-main-0bad",
			holders: []Holder{
				{Project: "web-main-1111", Branch: "main", Worktree: "/w/web", State: "running",
					Measured: 1 * gib, IdleSince: now.Add(-5 * time.Minute)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			d := Admit(tt.limit, tt.need, tt.holders)
			d.IdlePolicy, d.Wait, d.Waited = tt.policy, tt.wait[0], tt.wait[1]
			if d.Admit {
				t.Fatalf("Admit admitted: %+v", d)
			}
			err := Refusal(d, tt.project, tt.rule, now)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Refusal = %v, not ErrRefused", err)
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Project != tt.project || re.Rule != tt.rule || re.Decision.Need != tt.need {
				t.Errorf("RefusedError = %+v", re)
			}
			golden(t, filepath.Join("testdata", "refusal", tt.golden+".txt"), err.Error()+"\n")
		})
	}
}

func TestRefusalAdmitted(t *testing.T) {
	if err := Refusal(Admit(12*gib, 1*gib, nil), "p", RuleDefault, now); err != nil {
		t.Errorf("Refusal of an admitted decision = %v, want nil", err)
	}
}

func TestRefusalFirstLine(t *testing.T) {
	d := Decision{Limit: 12 * gib, Used: 12_025_908_428, Need: 2 * gib, Holders: []Holder{
		{Project: "a", Measured: 4 * gib}, {Project: "b", Measured: 4 * gib}, {Project: "c", Measured: 3_435_973_837},
	}}
	err := Refusal(d, "p", RuleMeasuredPeak, now)
	want := "memory budget full: 3 stacks hold 11.2 GiB of the 12 GiB budget and this stack needs 2 GiB (measured peak)\n"
	if got := err.Error(); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("first line of\n%s\nwant %q", got, want)
	}
}

func TestIdleFor(t *testing.T) {
	tests := []struct {
		since time.Time
		want  string
	}{
		{time.Time{}, "idle time unknown"},
		{now.Add(time.Minute), "idle <1s"},
		{now.Add(-59 * time.Second), "idle 59s"},
		{now.Add(-14 * time.Minute), "idle 14m"},
		{now.Add(-time.Hour), "idle 1h0m"},
		{now.Add(-23*time.Hour - 59*time.Minute), "idle 23h59m"},
		{now.Add(-24 * time.Hour), "idle since 2026-11-26 15:30"},
		{time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("east", 2*3600)), "idle since 2026-11-20 08:00"},
	}
	for _, tt := range tests {
		if got := idleFor(tt.since, now); got != tt.want {
			t.Errorf("idleFor(%v) = %q, want %q", tt.since, got, tt.want)
		}
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{512 << 20, "512 MiB"},
		{12 * gib, "12 GiB"},
		{12_025_908_428, "11.2 GiB"},
		{1_342_177_280, "1.2 GiB"},
		{3 << 40, "3 TiB"},
	}
	for _, tt := range tests {
		if got := human(tt.n); got != tt.want {
			t.Errorf("human(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestSuggestFitsAndParses(t *testing.T) {
	for _, n := range []int64{1, 256 << 20, 256<<20 + 1, 14_173_392_077, 14 * gib} {
		s := suggest(n)
		spec, err := ParseBudget(s)
		if err != nil {
			t.Fatalf("suggest(%d) = %q does not parse: %v", n, s, err)
		}
		if spec.Bytes < n || spec.Bytes-n >= 256<<20 {
			t.Errorf("suggest(%d) = %q = %d bytes, want the next multiple of 256 MiB", n, s, spec.Bytes)
		}
	}
}

// golden compares got with the file at path, or rewrites the file with
// -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestSleepCommand(t *testing.T) {
	tests := []struct {
		h    Holder
		want string
	}{
		{Holder{Project: "p", Worktree: "/src/shop"}, "wtenv sleep --worktree /src/shop"},
		{Holder{Project: "p", Worktree: "/src/shop docs"}, "wtenv sleep --worktree '/src/shop docs'"},
		{Holder{Project: "p", Worktree: "/src/it's"}, `wtenv sleep --worktree '/src/it'\''s'`},
		{Holder{Project: "p"}, "docker compose -p p down"},
	}
	for _, tt := range tests {
		if got := sleepCommand(tt.h); got != tt.want {
			t.Errorf("sleepCommand(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}
