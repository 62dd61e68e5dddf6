package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wtenv/wtenv/envs/engine"
	"github.com/wtenv/wtenv/envs/stack"
)

// officialImages are what the example's compose file uses by default.
var officialImages = map[string]string{
	"POSTGRES_IMAGE": "postgres:15",
	"REDIS_IMAGE":    "redis:7",
	"GO_IMAGE":       "golang:1.26-bookworm",
}

// prepareImages makes the example's images available and says which it
// used: the official ones when present or pullable, else local equivalents
// that images/build.sh makes from Debian packages. The choice reaches the
// unchanged compose file through the environment variables it reads.
func prepareImages(ctx context.Context, repoRoot string, progress func(string)) (string, error) {
	eng, err := engine.New(ctx)
	if err != nil {
		return "", err
	}
	defer eng.Close()
	missing := 0
	for _, ref := range officialImages {
		if ok, err := eng.HasImage(ctx, ref); err != nil {
			return "", err
		} else if !ok {
			missing++
		}
	}
	if missing == 0 {
		return "the official postgres, redis and golang images (already on the engine)", nil
	}
	progress("trying to pull the official images")
	pullCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	pulled := true
	for _, ref := range officialImages {
		if err := eng.Pull(pullCtx, ref); err != nil {
			progress(fmt.Sprintf("cannot pull %s (%v): using local images instead", ref, err))
			pulled = false
			break
		}
	}
	if pulled {
		return "the official postgres, redis and golang images (pulled)", nil
	}
	script := filepath.Join(repoRoot, "images", "build.sh")
	progress("building local images with " + script + " (about a minute the first time)")
	cmd := exec.CommandContext(ctx, "bash", script)
	lines := lineWriter(progress)
	cmd.Stdout, cmd.Stderr = lines, lines
	err = cmd.Run()
	lines.Close()
	if err != nil {
		return "", fmt.Errorf("no registry answered and %s failed: %w; see its output above", script, err)
	}
	out, err := exec.CommandContext(ctx, "bash", script, "--print-env").Output()
	if err != nil {
		return "", fmt.Errorf("%s --print-env: %w", script, err)
	}
	var used []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if _, known := officialImages[k]; known {
			os.Setenv(k, v)
			used = append(used, v)
		}
	}
	return "local images built from Debian packages, since no registry answered: " + strings.Join(used, ", "), nil
}

// lineWriter turns a command's output lines into progress messages until
// it is closed; Close waits until every line is out.
func lineWriter(progress func(string)) io.WriteCloser {
	r, w := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 64*1024), 1024*1024)
		for s.Scan() {
			progress(s.Text())
		}
		io.Copy(io.Discard, r) // never block the writer, even on a huge line
	}()
	return closer{w, done}
}

type closer struct {
	*io.PipeWriter
	done chan struct{}
}

func (c closer) Close() error {
	err := c.PipeWriter.Close()
	<-c.done
	return err
}

// makeWorktrees copies the example into a new git repository on main and
// adds a linked worktree on branch; it returns both roots.
func makeWorktrees(src, tmp, branch string) ([]string, error) {
	main := filepath.Join(tmp, "shop")
	if err := os.CopyFS(main, os.DirFS(src)); err != nil {
		return nil, fmt.Errorf("copying the example: %w", err)
	}
	os.RemoveAll(filepath.Join(main, ".wtenv"))
	other := filepath.Join(tmp, "shop-"+filepath.Base(branch))
	for _, args := range [][]string{
		{"-C", main, "init", "-q", "-b", "main"},
		{"-C", main, "add", "-A"},
		{"-C", main, "commit", "-q", "-m", "the example shop"},
		{"-C", main, "worktree", "add", "-q", "-b", branch, other},
	} {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=wtenv demo", "GIT_AUTHOR_EMAIL=demo@wtenv.invalid",
			"GIT_COMMITTER_NAME=wtenv demo", "GIT_COMMITTER_EMAIL=demo@wtenv.invalid")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("git %s: %v\n%s", strings.Join(args[2:], " "), err, out)
		}
	}
	return []string{main, other}, nil
}

// distinctPorts checks that no host port is used by both stacks.
func distinctPorts(stacks []stack.Stack) error {
	seen := map[int]string{}
	for _, st := range stacks {
		for _, s := range st.Services {
			if s.Shared != nil {
				continue // one server for all: its port is the same in every stack
			}
			for _, p := range s.Ports {
				if prev, dup := seen[p.HostPort]; dup {
					return fmt.Errorf("host port %d is used by %s and %s/%s", p.HostPort, prev, st.Project, s.Name)
				}
				seen[p.HostPort] = st.Project + "/" + s.Name
			}
		}
	}
	return nil
}

// order is the example API's order; newOrder is what it accepts.
type order struct {
	ID         int64  `json:"id"`
	Item       string `json:"item"`
	Qty        int    `json:"qty"`
	Status     string `json:"status"`
	TotalCents *int64 `json:"total_cents"`
	CreatedAt  string `json:"created_at"`
}

type newOrder struct {
	Item string `json:"item"`
	Qty  int    `json:"qty"`
}

// proveIsolation places an order through the first stack's API, waits for
// that stack's worker to complete it, and checks that the second stack has
// never heard of it.
func (d *demo) proveIsolation(ctx context.Context, stacks []stack.Stack) error {
	a, err := serviceURL(stacks[0], "api")
	if err != nil {
		return err
	}
	b, err := serviceURL(stacks[1], "api")
	if err != nil {
		return err
	}
	var before []order
	if err := doJSON(ctx, http.MethodGet, b+"/orders", nil, &before); err != nil {
		return err
	}
	body, _ := json.Marshal(newOrder{Item: "coffee", Qty: 7})
	var placed order
	if err := doJSON(ctx, http.MethodPost, a+"/orders", body, &placed); err != nil {
		return fmt.Errorf("placing an order in %s: %w", stacks[0].Project, err)
	}
	d.say("isolation: placed order %d (7 × coffee) in %s", placed.ID, stacks[0].Project)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got order
		if err := doJSON(ctx, http.MethodGet, fmt.Sprintf("%s/orders/%d", a, placed.ID), nil, &got); err != nil {
			return err
		}
		if got.Status == "done" && got.TotalCents != nil {
			d.say("isolation: %s's worker completed order %d: total %d cents", stacks[0].Project, placed.ID, *got.TotalCents)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the worker of %s did not complete order %d in 30s (status %q); see wtenv logs worker", stacks[0].Project, placed.ID, got.Status)
		}
		time.Sleep(300 * time.Millisecond)
	}
	var others []order
	if err := doJSON(ctx, http.MethodGet, b+"/orders", nil, &others); err != nil {
		return err
	}
	for _, o := range others {
		if o.CreatedAt == placed.CreatedAt {
			return fmt.Errorf("isolation broken: order %d placed in %s is visible in %s", placed.ID, stacks[0].Project, stacks[1].Project)
		}
	}
	if len(others) != len(before) {
		return fmt.Errorf("isolation broken: %s went from %d to %d orders while an order was placed in %s", stacks[1].Project, len(before), len(others), stacks[0].Project)
	}
	d.say("isolation: proven — %s still has %d orders, and not this one", stacks[1].Project, len(others))
	return nil
}

func serviceURL(st stack.Stack, name string) (string, error) {
	for _, s := range st.Services {
		if s.Name == name && len(s.Ports) > 0 && s.Ports[0].URL != "" {
			return s.Ports[0].URL, nil
		}
	}
	return "", fmt.Errorf("%s publishes no URL for %s", st.Project, name)
}

func doJSON(ctx context.Context, method, url string, body []byte, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, into)
}
