package envs_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// Failures come back as errors a user can act on: which service, what
// happened, and its last output.
func TestUpFailuresNameTheServiceAndShowOutput(t *testing.T) {
	enginetest.Isolate(t)
	files := enginetest.FixtureFiles(t)
	cases := []struct {
		name    string
		compose string
		extra   map[string][]byte
		is      error
		want    []string
		// within bounds the up, loosely: a service that cannot become
		// healthy fails in about its retries' time, not at the timeout.
		within time.Duration
	}{{
		name: "build failure shows the build log",
		compose: `services:
  app:
    build: ./app
`,
		extra: map[string][]byte{"app/Dockerfile": []byte("FROM scratch\nCOPY missing-file /x\n")},
		is:    envs.ErrImage,
		want:  []string{`service "app"`, "build failed", "missing-file", "last build output", "the whole build output: "},
	}, {
		name: "unhealthy service shows its logs",
		compose: `services:
  app:
    build: ./kv
    healthcheck:
      test: ["CMD", "/does-not-exist"]
      interval: 1s
      retries: 2
`,
		is:     envs.ErrUnhealthy,
		want:   []string{`service "app"`, "unhealthy", "kv listening on :8080", "last log lines"},
		within: 20 * time.Second,
	}, {
		name: "dependency that exits stops its dependents",
		compose: `services:
  dep:
    build: ./kv
    command: ["health"]
    healthcheck:
      test: ["CMD", "/kv", "health"]
      interval: 1s
  app:
    build: ./kv
    depends_on:
      dep:
        condition: service_healthy
`,
		is:   envs.ErrUnhealthy,
		want: []string{`service "dep" exited with code 1`, "unhealthy"},
	}, {
		name: "image that cannot be pulled names the image",
		compose: `services:
  app:
    image: wtenv-test-no-such-image:never
`,
		is:   envs.ErrImage,
		want: []string{`"wtenv-test-no-such-image:never"`, "build it or load it locally"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := map[string][]byte{"compose.yaml": []byte(tc.compose), "kv/Dockerfile": files["kv/Dockerfile"], "kv/kv": files["kv/kv"]}
			for k, v := range tc.extra {
				fs[k] = v
			}
			root := enginetest.Repo(t, "broken", fs)
			enginetest.Cleanup(t, root)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			e := open(ctx, t, root)
			start := time.Now()
			_, err := e.Up(ctx, envs.UpOptions{Timeout: 30 * time.Second})
			took := time.Since(start)
			t.Logf("up failed after %s", took.Round(100*time.Millisecond))
			if err == nil {
				t.Fatal("up succeeded")
			}
			if tc.within > 0 && took > tc.within && !strings.Contains(err.Error(), "the machine is overloaded") {
				t.Errorf("up took %s to fail, want about the healthcheck's retries (under %s), not the 30s timeout", took.Round(time.Second), tc.within)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				// On a machine so loaded that the engine's probes run
				// late, up says so instead of "unhealthy" (the engine has
				// not judged yet); the rest of the message stands.
				if w == "unhealthy" && strings.Contains(err.Error(), "the machine is overloaded") {
					continue
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			// The error names the file with the whole build output.
			if _, path, ok := strings.Cut(err.Error(), "the whole build output: "); ok {
				if b, rerr := os.ReadFile(strings.TrimSpace(path)); rerr != nil || !strings.Contains(string(b), "missing-file") {
					t.Errorf("build log %s: %v\n%s", path, rerr, b)
				}
			}
			if _, err := e.Down(ctx, true); err != nil {
				t.Errorf("down after a failed up: %v", err)
			}
		})
	}
}

// Problems found before anything runs: no compose file, bad YAML, a key
// the engine does not implement, no git worktree.
func TestOpenAndLoadErrors(t *testing.T) {
	enginetest.Isolate(t)
	ctx := context.Background()

	if _, err := envs.Open(ctx, t.TempDir()); !errors.Is(err, envs.ErrNotWorktree) || !strings.Contains(err.Error(), "--worktree") {
		t.Errorf("outside a worktree: %v", err)
	}
	cases := []struct {
		name, file, body string
		is               error
		want             []string
	}{
		{"no compose file", "README.md", "hello", envs.ErrNoCompose, []string{"add compose.yaml", "wtenv.yaml"}},
		{"syntax error", "compose.yaml", "services:\n  app:\n    image: x\n   bad: [\n", nil, []string{"compose.yaml", "line"}},
		{"unsupported key", "compose.yaml", "services:\n  app:\n    image: x\n    gpus: all\n", envs.ErrUnsupported, []string{`service "app"`, `"gpus"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := enginetest.Repo(t, "bad", map[string][]byte{tc.file: []byte(tc.body)})
			enginetest.Cleanup(t, root)
			e := open(ctx, t, root)
			_, err := e.Up(ctx, envs.UpOptions{})
			if err == nil {
				t.Fatal("up succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}
