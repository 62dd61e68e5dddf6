package engine

import (
	"strings"
	"testing"
)

func TestOverloadedNamesTheLoadOnlyWhenHigh(t *testing.T) {
	for _, c := range []struct {
		load  float64
		cores int
		want  string
	}{
		{0.5, 2, ""},
		{4, 2, ""},
		{4.1, 2, "load average 4 on 2 cores"},
		{136, 2, "load average 136 on 2 cores"},
		{30, 16, ""},
		{10, 0, ""},
	} {
		got := overloaded(c.load, c.cores)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("overloaded(%v, %d) = %q, want it to say %q", c.load, c.cores, got, c.want)
		}
		if got != "" && !strings.Contains(got, "wtenv ls") {
			t.Errorf("overloaded(%v, %d) = %q names no next action", c.load, c.cores, got)
		}
	}
}
