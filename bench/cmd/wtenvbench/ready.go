package main

import (
	"context"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// readyPoll is how often the harness looks at the engine while an up runs.
// It decides when a Docker Compose v1 up is done (v1 has no --wait), so it
// bounds that side's error: at most this much is added to Compose's time.
// One list call per poll keeps the load it puts on a 2-core engine small.
const readyPoll = 50 * time.Millisecond

// projectContainers lists the service containers (not one-off ones) of a
// compose project. wtenv writes Compose's project label too, so one filter
// finds both sides' containers.
func projectContainers(ctx context.Context, api *client.Client, project string) ([]container.Summary, error) {
	f := client.Filters{}.Add("label", "com.docker.compose.project="+project)
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	out := res.Items[:0]
	for _, c := range res.Items {
		if c.Labels["com.docker.compose.oneoff"] != "True" {
			out = append(out, c)
		}
	}
	return out, nil
}

// ready reports whether want services each have a running container that
// is healthy, or has no healthcheck. Engines before API 1.52 report health
// only inside the Status text ("Up 3 seconds (healthy)").
func ready(cs []container.Summary, want int) bool {
	services := map[string]bool{}
	for _, c := range cs {
		if c.State != container.StateRunning {
			return false
		}
		healthy := !strings.Contains(c.Status, "(health: starting)") && !strings.Contains(c.Status, "(unhealthy)")
		if c.Health != nil {
			healthy = c.Health.Status == container.Healthy || c.Health.Status == container.NoHealthcheck
		}
		if !healthy {
			return false
		}
		services[c.Labels["com.docker.compose.service"]] = true
	}
	return len(services) >= want
}

// pollReady polls until the project is ready and returns when it first
// saw that, relative to t0; 0 when ctx ended first.
func pollReady(ctx context.Context, api *client.Client, project string, want int, t0 time.Time) time.Duration {
	for {
		if cs, err := projectContainers(ctx, api, project); err == nil && ready(cs, want) {
			return time.Since(t0)
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(readyPoll):
		}
	}
}

// upRun is one timed up: the command's own run, when the poller first saw
// every service healthy, and the figure compared, ready: the later of the
// two, i.e. the command has returned and the stack is healthy. Both sides
// are timed by that one definition; wtenv's up returns only once healthy,
// Compose v1's returns once the last container started.
type upRun struct {
	cmdRun
	observed time.Duration
	ready    time.Duration
}

// timedUp runs an up command while polling the engine for readiness.
func timedUp(ctx context.Context, api *client.Client, project string, want int, dir string, argv []string) upRun {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	seen := make(chan time.Duration, 1)
	go func() { seen <- pollReady(pctx, api, project, want, t0) }()
	r := upRun{cmdRun: runTimed(ctx, t0, dir, argv)}
	if r.err != nil {
		cancel()
		<-seen
		return r
	}
	r.observed = <-seen
	if r.observed == 0 {
		r.err = errNotReady(project)
		return r
	}
	r.ready = max(r.wall, r.observed)
	return r
}

type errNotReady string

func (e errNotReady) Error() string {
	return "project " + string(e) + " did not become healthy within 5 minutes after its up returned"
}

// waitGone waits until the project has no containers left: down commands
// are timed to their exit, and this checks they did remove everything.
func waitGone(ctx context.Context, api *client.Client, project string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		cs, err := projectContainers(ctx, api, project)
		if err == nil && len(cs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return errLeft(project)
		case <-time.After(readyPoll):
		}
	}
}

type errLeft string

func (e errLeft) Error() string { return "containers of " + string(e) + " remain after down" }
