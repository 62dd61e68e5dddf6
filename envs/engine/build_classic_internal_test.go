package engine

import "testing"

func TestOwnLabelStep(t *testing.T) {
	for line, want := range map[string]bool{
		`Step 18/20 : LABEL com.docker.compose.project=shop-main-1a2b`: true,
		`Step 19/20 : LABEL dev.wtenv.worktree=/src/shop`:              true,
		`Step 3/20 : LABEL maintainer=me`:                              false,
		`Step 4/20 : RUN echo dev.wtenv.x`:                             false,
	} {
		if got := ownLabelStep(line); got != want {
			t.Errorf("%q: %v", line, got)
		}
	}
}
