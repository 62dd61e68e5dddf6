package shared

import (
	"testing"
	"time"
)

func TestMadeFrom(t *testing.T) {
	out := "Timing is on.\nTime: 0.412 ms\nALTER DATABASE\nTime: 2.500 ms\nTime: 0.301 ms\npresent=1\nTime: 0.2 ms\n"
	if m := madeFrom(out); !m.Renamed || m.Copied || m.Server != 2500*time.Microsecond {
		t.Errorf("rename: %+v", m)
	}
	out = "Timing is on.\nCREATE DATABASE\nTime: 381.000 ms (00:00.381)\npresent=1\n"
	if m := madeFrom(out); m.Renamed || !m.Copied || m.Server != 381*time.Millisecond {
		t.Errorf("copy: %+v", m)
	}
	if m := madeFrom("Timing is on.\npresent=1\nTime: 0.3 ms\n"); m.Created() || m.Server != 0 {
		t.Errorf("nothing made: %+v", m)
	}
}
