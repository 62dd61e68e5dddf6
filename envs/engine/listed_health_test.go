package engine

import "testing"

func TestListedHealth(t *testing.T) {
	for status, want := range map[string]string{
		"Up 3 minutes (healthy)":          "healthy",
		"Up 2 seconds (health: starting)": "starting",
		"Up 40 seconds (unhealthy)":       "unhealthy",
		"Up 3 minutes":                    "",
		"Exited (0) 5 seconds ago":        "",
		"Up 1 second (Paused)":            "",
	} {
		if got := listedHealth(status); got != want {
			t.Errorf("listedHealth(%q) = %q, want %q", status, got, want)
		}
	}
}
