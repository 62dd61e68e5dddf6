package engine

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestProbeCommandRunsTheTestAsTheEngineDoes(t *testing.T) {
	for _, c := range []struct {
		test, shell, want []string
	}{
		{test: []string{"CMD", "pg_isready", "-U", "shop"}, want: []string{"pg_isready", "-U", "shop"}},
		{test: []string{"CMD-SHELL", "curl -f localhost || exit 1"}, want: []string{"/bin/sh", "-c", "curl -f localhost || exit 1"}},
		{test: []string{"CMD-SHELL", "ok"}, shell: []string{"/bin/bash", "-ec"}, want: []string{"/bin/bash", "-ec", "ok"}},
		{test: []string{"NONE"}},
		{test: []string{"CMD"}},
		{},
	} {
		cfg := &container.Config{Shell: c.shell}
		if c.test != nil {
			cfg.Healthcheck = &container.HealthConfig{Test: c.test}
		}
		if got := probeCommand(cfg); !slices.Equal(got, c.want) {
			t.Errorf("test %q, shell %q: %q; want %q", c.test, c.shell, got, c.want)
		}
	}
}
