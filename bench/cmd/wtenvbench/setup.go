package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"
)

// bench is one harness run: where things are and what it created.
type bench struct {
	cfg      config
	repo     string // the wtenv repository (module root)
	base     string // everything the run makes on disk lives here
	wtenv    string // the wtenv binary built for this run
	shop     string // the A/B worktree (branch main of a copy of examples/shop)
	trees    []string
	compose  composeCLI
	api      *client.Client
	services []string // services an up starts (profiles left out)
	builds   []string // services built from a Dockerfile
	// concServices and concBuilds are the same for the concurrent phase's
	// stacks (-concurrent-services and their dependencies).
	concServices, concBuilds []string
	start                    time.Time
	setup                    map[string]time.Duration // untimed-in-results preparation steps
	lockFile                 *os.File
}

// baseDir is fixed rather than random on purpose: a worktree's project name
// hashes its path, and wtenv tags the images it builds per project, so the
// same paths let the next run reuse the images this one built (down keeps
// them) — unless a `wtenv gc` (which `wtenv serve` runs at start) reaped
// them once the worktrees were deleted. A lock keeps two harness runs from
// sharing it.
func baseDir() string { return filepath.Join(os.TempDir(), "wtenvbench") }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// prepare takes the lock, removes what a crashed earlier run left, and
// makes the images, the binary and the worktrees.
func (b *bench) prepare(ctx context.Context) error {
	b.base = baseDir()
	f, err := os.OpenFile(b.base+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("another wtenvbench run holds %s.lock; wait for it to finish", b.base)
	}
	b.lockFile = f
	if b.api, err = client.New(client.FromEnv); err != nil {
		return err
	}
	if _, err := b.api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	// Whatever an earlier run left (killed, or its engine restarted under
	// it) goes first; on a clean machine this finds nothing.
	b.cleanup()
	if err := os.MkdirAll(filepath.Join(b.base, "state"), 0o755); err != nil {
		return err
	}
	if b.repo, err = moduleRoot(); err != nil {
		return err
	}
	if err := b.isolateEnv(); err != nil {
		return err
	}
	if b.compose, err = detectCompose(ctx); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"bash images/build.sh", b.buildImages},
		{"go build ./cmd/wtenv", b.buildBinary},
		{"git repository and worktrees", b.makeWorktrees},
	}
	for _, s := range steps {
		b.logf("setup: %s", s.name)
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("setup: %s: %w", s.name, err)
		}
		b.setup[s.name] = time.Since(t)
	}
	b.compose.project, b.compose.dir = composeProject, b.shop
	b.compose.file = filepath.Join(b.shop, "compose.yaml")
	return b.loadServices(ctx)
}

// isolateEnv points every wtenv process and in-process call of this run at
// its own state, a big explicit budget (so stacks of other people's tests
// on this engine never get ours refused) and its own port range (so its
// port blocks do not race theirs).
func (b *bench) isolateEnv() error {
	for k, v := range map[string]string{
		"WTENV_STATE_DIR":     filepath.Join(b.base, "state"),
		"WTENV_MEMORY_BUDGET": b.cfg.budget,
		"WTENV_PORT_RANGE":    b.cfg.portRange,
	} {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return os.Unsetenv("WTENV_WORKTREE")
}

// buildImages runs images/build.sh (fast when the images exist) and
// exports what --print-env names, which the shop's compose file reads on
// both sides.
func (b *bench) buildImages(ctx context.Context) error {
	script := filepath.Join(b.repo, "images", "build.sh")
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	out, err := runQuiet(ctx, b.repo, "bash", script, "--print-env")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			os.Setenv(k, v)
		}
	}
	return nil
}

func (b *bench) buildBinary(ctx context.Context) error {
	b.wtenv = filepath.Join(b.base, "bin", "wtenv")
	_, err := runQuiet(ctx, b.repo, "go", "build", "-o", b.wtenv, "./cmd/wtenv")
	return err
}

// makeWorktrees copies the example into a git repository on main (the A/B
// worktree) and adds one linked worktree per concurrent stack, as
// cmd/wtenv/demo_setup.go does.
func (b *bench) makeWorktrees(ctx context.Context) error {
	b.shop = filepath.Join(b.base, "shop")
	if err := os.CopyFS(b.shop, os.DirFS(filepath.Join(b.repo, "examples", "shop"))); err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(b.shop, ".wtenv"))
	git := [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "the example shop"}}
	b.trees = nil
	for i := 1; i <= b.cfg.concurrent; i++ {
		dir := filepath.Join(b.base, fmt.Sprintf("shop-c%02d", i))
		git = append(git, []string{"worktree", "add", "-q", "-b", fmt.Sprintf("bench/c%02d", i), dir})
		b.trees = append(b.trees, dir)
	}
	for _, args := range git {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", b.shop}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=wtenvbench", "GIT_AUTHOR_EMAIL=bench@wtenv.invalid",
			"GIT_COMMITTER_NAME=wtenvbench", "GIT_COMMITTER_EMAIL=bench@wtenv.invalid", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// moduleRoot finds the wtenv repository from the current directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/wtenv/wtenv\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run wtenvbench from inside the wtenv repository (go run ./bench/cmd/wtenvbench)")
		}
		dir = parent
	}
}
