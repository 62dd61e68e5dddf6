package budget

import (
	"errors"
	"testing"
	"time"
)

func TestRoomAt(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	h := func(holds int64, idleFor, after time.Duration, inUse bool) Holder {
		return Holder{Project: "p", State: "running", Measured: holds, IdleSince: now.Add(-idleFor), Policy: true, IdleAfter: after, InUse: inUse}
	}
	for _, c := range []struct {
		name  string
		hs    []Holder
		short int64
		at    time.Duration // from now; -1: never
	}{
		{"one turns idle soon", []Holder{h(100, 10*time.Second, 30*time.Second, false)}, 50, 20 * time.Second},
		{"the soonest ones that free enough", []Holder{
			h(100, 25*time.Second, 30*time.Second, false),
			h(100, 5*time.Second, 30*time.Second, false),
			h(100, 0, 30*time.Second, false),
		}, 150, 25 * time.Second},
		{"in use: idle_after from now at the soonest", []Holder{h(100, time.Hour, 30*time.Second, true)}, 50, 30 * time.Second},
		{"one idle now and one soon", []Holder{
			h(100, time.Minute, 30*time.Second, false),
			h(100, 25*time.Second, 30*time.Second, false),
		}, 150, 5 * time.Second},
		{"last use unknown", []Holder{{Project: "p", State: "running", Measured: 100, Policy: true, IdleAfter: time.Second}}, 50, -1},
		{"never put to sleep", []Holder{h(100, 10*time.Second, 0, false)}, 50, -1},
		{"too little in all", []Holder{h(100, 10*time.Second, 30*time.Second, false)}, 150, -1},
		{"policy unknown", []Holder{{Project: "p", State: "running", Measured: 100, IdleSince: now}}, 50, -1},
	} {
		at, ok := RoomAt(c.hs, c.short, now)
		switch {
		case c.at < 0 && ok:
			t.Errorf("%s: room at %v; want never", c.name, at)
		case c.at >= 0 && (!ok || !at.Equal(now.Add(c.at))):
			t.Errorf("%s: room at %v (%v); want %v", c.name, at.Sub(now), ok, c.at)
		}
	}
}

func TestMachineWait(t *testing.T) {
	for _, c := range []struct {
		env  string
		want time.Duration
		bad  bool
	}{{"", DefaultWait, false}, {"0", 0, false}, {"45s", 45 * time.Second, false}, {"soon", 0, true}, {"-1m", 0, true}} {
		t.Setenv(WaitEnvVar, c.env)
		got, err := MachineWait()
		if c.bad != (err != nil) || got != c.want {
			t.Errorf("%s=%q: %v %v", WaitEnvVar, c.env, got, err)
		}
		if c.bad && !errors.Is(err, ErrInvalidIdle) {
			t.Errorf("%s=%q: %v is not a configuration error", WaitEnvVar, c.env, err)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond: "300ms", 1234 * time.Millisecond: "1s", 45 * time.Second: "45s",
		2 * time.Minute: "2m", 90 * time.Minute: "1h30m",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
}
