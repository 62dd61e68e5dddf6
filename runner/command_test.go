package runner

import (
	"slices"
	"testing"

	"github.com/wtenv/wtenv/envs/compose"
)

// Only a command written as one string runs through a shell; a list runs
// as written, so a filter or extra argument with shell syntax in it stays
// one literal argument.
func TestCommandUsesAShellOnlyForTheStringForm(t *testing.T) {
	hostile := "x; touch /tmp/pwned $(id) `id` | cat"
	for _, tc := range []struct {
		name  string
		suite compose.Suite
		opts  Options
		want  []string
	}{
		{"list", compose.Suite{Command: compose.StringOrList{Args: []string{"go", "test", "./..."}}, Format: compose.FormatGoTestJSON},
			Options{Filter: hostile, ExtraArgs: []string{hostile}},
			[]string{"go", "test", "./...", "-run", hostile, hostile}},
		{"list, other format: filter only in the environment", compose.Suite{Command: compose.StringOrList{Args: []string{"pytest"}}, Format: compose.FormatJUnit},
			Options{Filter: hostile},
			[]string{"pytest"}},
		{"string", compose.Suite{Command: compose.StringOrList{Args: []string{"make test"}, Shell: true}},
			Options{ExtraArgs: []string{hostile}},
			[]string{"sh", "-c", "make test", "sh", hostile}},
	} {
		if got := command(tc.suite, tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
