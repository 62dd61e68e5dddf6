package tools

import "testing"

// Progress values increase strictly; where a message gives a total, the
// value is the items done, so progress/total is the share done.
func TestProgressCounter(t *testing.T) {
	var c progressCounter
	last := -1.0
	for _, tc := range []struct {
		msg   string
		at    float64 // -1: anywhere above the last
		total int
	}{
		{"building api", 0, 0},
		{"starting db", -1, 0},
		{"waiting for api: healthy 0/4", -1, 4},
		{"waiting for db: healthy 1/4", 1, 4},
		{"waiting for db: healthy, for 5s", -1, 4},
		{"waiting for queue: healthy 2/4", 2, 4},
		{"waiting for web: healthy 3/4", 3, 4},
		{"healthy 4/4", 4, 4},
		{"unit: 10 passed, 1 failed, 1 skipped of 30", 12, 30},
		{"unit: 10 passed, 1 failed, 1 skipped of 30", -1, 30},
	} {
		p, total := c.next(tc.msg)
		if p <= last || (tc.at >= 0 && p != tc.at) || total != tc.total {
			t.Errorf("%q: progress %v (last %v), total %d; want %v, %d", tc.msg, p, last, total, tc.at, tc.total)
		}
		last = p
	}
}
