package budget

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// IdleEnvVar is the machine's idle policy: how long a stack must go
// untouched before admission may put it to sleep to make room; 0 never.
// A worktree's wtenv.yaml idle_after overrides it for that worktree.
const IdleEnvVar = "WTENV_IDLE_AFTER"

// DefaultIdleAfter is the idle policy when neither wtenv.yaml nor the
// environment sets one.
const DefaultIdleAfter = 15 * time.Minute

// ErrInvalidIdle is wrapped by the errors ParseIdleAfter returns.
var ErrInvalidIdle = errors.New("invalid idle_after")

// idleError is an invalid idle policy: its message says what to write,
// and it is ErrInvalidIdle for errors.Is.
type idleError string

func (e idleError) Error() string        { return string(e) }
func (e idleError) Is(target error) bool { return target == ErrInvalidIdle }

// ParseIdleAfter reads an idle policy: a duration such as 15m or 1h30m,
// or 0 for never. It returns 0 for never.
func ParseIdleAfter(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, idleError(fmt.Sprintf("idle_after %q is not a duration; write it like 15m or 1h, or 0 for never", s))
	}
	return d, nil
}

// MachineIdleAfter is the idle policy of WTENV_IDLE_AFTER, else the
// default, and a description of where it came from.
func MachineIdleAfter() (time.Duration, string, error) {
	v := os.Getenv(IdleEnvVar)
	if v == "" {
		return DefaultIdleAfter, "the default", nil
	}
	d, err := ParseIdleAfter(v)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", IdleEnvVar, err)
	}
	return d, "set by " + IdleEnvVar, nil
}

// DescribeIdleAfter is a policy for people: "15m", "never".
func DescribeIdleAfter(d time.Duration) string {
	if d <= 0 {
		return "never"
	}
	s := d.String() // 15m0s, 1h30m0s, 1h0m0s, 20s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
