package budget

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIdlePolicy(t *testing.T) {
	for in, want := range map[string]time.Duration{"15m": 15 * time.Minute, "0": 0, " 1h30m ": 90 * time.Minute, "20s": 20 * time.Second} {
		if got, err := ParseIdleAfter(in); err != nil || got != want {
			t.Errorf("ParseIdleAfter(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "-5m", "", "15"} {
		if _, err := ParseIdleAfter(in); !errors.Is(err, ErrInvalidIdle) || !strings.Contains(err.Error(), "0 for never") {
			t.Errorf("ParseIdleAfter(%q): %v, want an error naming the forms", in, err)
		}
	}
	t.Setenv(IdleEnvVar, "")
	if d, src, err := MachineIdleAfter(); d != DefaultIdleAfter || src != "the default" || err != nil {
		t.Errorf("unset: %v %q %v", d, src, err)
	}
	t.Setenv(IdleEnvVar, "5m")
	if d, src, err := MachineIdleAfter(); d != 5*time.Minute || !strings.Contains(src, IdleEnvVar) || err != nil {
		t.Errorf("5m: %v %q %v", d, src, err)
	}
	t.Setenv(IdleEnvVar, "later")
	if _, _, err := MachineIdleAfter(); !errors.Is(err, ErrInvalidIdle) || !strings.Contains(err.Error(), IdleEnvVar) {
		t.Errorf("bad %s: %v", IdleEnvVar, err)
	}
	for d, want := range map[time.Duration]string{0: "never", 15 * time.Minute: "15m", 90 * time.Minute: "1h30m", 20 * time.Second: "20s", time.Hour: "1h"} {
		if got := DescribeIdleAfter(d); got != want {
			t.Errorf("DescribeIdleAfter(%v) = %q, want %q", d, got, want)
		}
	}
}
