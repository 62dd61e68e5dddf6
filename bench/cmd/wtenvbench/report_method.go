package main

import (
	"slices"
	"strings"
	"time"
)

func first(lines []stamped) time.Duration {
	if len(lines) == 0 {
		return 0
	}
	return lines[0].at
}

func last(lines []stamped) time.Duration {
	if len(lines) == 0 {
		return 0
	}
	return lines[len(lines)-1].at
}

// method says exactly what was timed, so the figures can be checked and
// the comparison judged fair or not.
func (r *report) method(p func(string, ...any)) {
	c := r.compose
	p("## How it was measured")
	p("")
	p("- **Same input.** Both sides run `examples/shop/compose.yaml` unchanged, from one git worktree of a copy of the example (`%s/shop`), with the local images of `images/build.sh --print-env` in the environment (POSTGRES_IMAGE, REDIS_IMAGE, GO_IMAGE), as the file reads them. wtenv isolates it (project `%s`, ports in WTENV_PORT_RANGE=%s, renamed container_name); Compose runs it as written (project `%s`, host ports %s as the file says).", r.base, r.ab.project, r.cfg.portRange, composeProject, "3000, 8080, 5432, 6379")
	p("- **Images present on both sides.** The %s services are built from the Dockerfile. Before any timed run, wtenv builds its images in the warm-up round (`wtenv up --build`) and Compose its own (`%s`), wtenv with the engine's BuildKit (the classic builder where the engine has none), Compose with its own builder, each with the engine's layer cache. Every timed Compose up is `%s`; every timed wtenv up finds its images by tag and builds nothing. Neither side pulls.", strings.Join(r.builds, ", "), strings.Join(c.build()[len(c.argv):], " "), strings.Join(c.up()[len(c.argv):], " "))
	p("- **Cold up** starts with no containers, no network and no volume of the stack (after the timed down, the harness removes the stack's volume by label, untimed), so Postgres initialises its database on both sides. It ends when the command has returned *and* the harness has seen all %d services running and healthy: it lists the project's containers (label com.docker.compose.project) every %s through the Docker API from the moment the command starts. %s has no `--wait`, so its up returns once the last container started; wtenv's returns once every service is healthy, so for wtenv the two ends nearly coincide. The poll adds at most %s to either side.", len(r.services), readyPoll, c.variant, readyPoll)
	p("- **Warm up**: the same up command again on the running, unchanged stack (%d per side and round), same end condition. **Status**: `wtenv status --json` vs `%s` (%d per side and round); Compose's `ps` reports less (no memory, no budget). **Down**: `wtenv down --json` vs `%s` — both stop containers gracefully and remove containers and network, keeping the volume; the harness then removes the volume, untimed.", r.cfg.warm, strings.Join(c.status()[len(c.argv):], " "), r.cfg.statusCalls, strings.Join(c.down()[len(c.argv):], " "))
	p("- **Interleaving.** Each round runs cold up, warm ups, status and down on one side, then on the other, so only one stack runs at a time; who goes first alternates between rounds. Round 0 warms caches and builds images and is not counted. Medians over %d counted rounds; per-sample figures are in the samples line above.", r.cfg.rounds)
	p("- **wtenv as users run it**: the binary built by this run (`go build ./cmd/wtenv`), a new process per command with `--worktree DIR --json`. **As agents run it**: env_status/env_up over stdio to one `wtenv serve --worktree DIR` kept open across rounds (go-sdk client, %d env_status calls a round, the session's very first call reported apart). **In-process**: `envs.Env` calls, for the breakdowns.", r.cfg.mcpCalls)
	p("- **Isolation of the run**: WTENV_STATE_DIR is the run's own, WTENV_MEMORY_BUDGET=%s (other stacks on this engine never cause a refusal), WTENV_PORT_RANGE=%s. Every stack, network and volume the run made is removed at the end by label. Built images stay for the next run (`-purge-images` removes them), unless a `wtenv gc` reaps them first: `wtenv serve` runs one at start, which removes the images of deleted worktrees, and the run deletes its worktrees.", r.cfg.budget, r.cfg.portRange)
	p("- **Noise.** The machine may be shared with other work (see the load figures above). Before each round and phase the harness waits up to %s for at most cores+1 runnable tasks (-quiet-wait); medians of interleaved runs cancel slow drifts, not bursts. CPU times are the least load-sensitive figures; compare ratios across runs rather than absolute times.", r.cfg.quietWait)
	var steps []string
	for name, d := range r.setup {
		steps = append(steps, name+" "+dur(d))
	}
	p("- Setup (not part of any figure): %s.", strings.Join(slices.Sorted(slices.Values(steps)), "; "))
}
