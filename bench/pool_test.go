package bench

// The pool's costs, each against a peer doing the same by hand on the same
// second engine (a dockerd in its own network namespace):
//
//	WTENV_TEST_FULL=1 go test -run '^$' -bench Pool -benchtime 10x ./bench
//
// BenchmarkPoolRefreshOneFile refreshes the example's worktree copy after
// a one-line change (what a test run on a remote engine does first);
// BenchmarkPoolPeerCopyOneFile copies that one file with `docker cp`.
// BenchmarkPoolFirstCopy copies the whole worktree into a fresh volume;
// BenchmarkPoolPeerCopyAll does it with `docker cp` of the folder.
// BenchmarkPoolForwardedGet asks a stack on the remote engine through
// wtenv's forward at 127.0.0.1; BenchmarkPoolDirectGet asks it at the
// engine's address.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
)

// remote starts the second engine for this benchmark (each benchmark gets
// its own: a benchmark's cleanup ends it) and points the engines file at
// it alone, so every stack goes there.
func remote(b *testing.B) *enginetest.SecondEngine {
	b.Helper()
	enginetest.Full(b)
	e := enginetest.StartSecondEngine(b)
	path := filepath.Join(b.TempDir(), "engines.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf("engines:\n  - name: remote\n    host: %s\n", e.Host)), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Setenv("WTENV_ENGINES", path)
	return e
}

// shopOnRemote is the example's worktree bound to the remote engine, with
// its first copy made.
func shopOnRemote(b *testing.B) (*envs.Env, string) {
	b.Helper()
	root := enginetest.ExampleWorktrees(b)[0]
	env, err := envs.Open(context.Background(), root)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { env.Close() })
	if _, err := env.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return env, root
}

// edit changes one line of a file of the worktree.
func edit(b *testing.B, root string, i int) string {
	b.Helper()
	path := filepath.Join(root, "internal", "bench_edit.go")
	body := fmt.Sprintf("package internal\n\nconst benchEdit = %d\n", i)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkPoolRefreshOneFile(b *testing.B) {
	remote(b)
	env, root := shopOnRemote(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		edit(b, root, i)
		b.StartTimer()
		n, err := env.Refresh(ctx)
		if err != nil || n != 1 {
			b.Fatalf("refresh sent %d files, %v; want 1", n, err)
		}
	}
}

func BenchmarkPoolPeerCopyOneFile(b *testing.B) {
	e := remote(b)
	root := enginetest.ExampleWorktrees(b)[0]
	ctr := peerContainer(b, e)
	docker(b, e, "cp", root+"/.", ctr+":/src") // the first copy, as wtenv's
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		path := edit(b, root, i)
		b.StartTimer()
		docker(b, e, "cp", path, ctr+":/src/internal/bench_edit.go")
	}
}

func BenchmarkPoolFirstCopy(b *testing.B) {
	remote(b)
	ctx := context.Background()
	root := enginetest.ExampleWorktrees(b)[0]
	for range b.N {
		b.StopTimer()
		env, err := envs.Open(ctx, root)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := env.Down(ctx, true); err != nil { // a fresh volume each time
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := env.Refresh(ctx); err != nil || n < 100 {
			b.Fatalf("first copy sent %d files, %v", n, err)
		}
		env.Close()
	}
}

func BenchmarkPoolPeerCopyAll(b *testing.B) {
	e := remote(b)
	root := enginetest.ExampleWorktrees(b)[0]
	for range b.N {
		b.StopTimer()
		ctr := peerContainer(b, e)
		b.StartTimer()
		docker(b, e, "cp", root+"/.", ctr+":/src")
	}
}

func BenchmarkPoolForwardedGet(b *testing.B) {
	port, _ := kvOnRemote(b, true)
	getN(b, fmt.Sprintf("http://127.0.0.1:%d/", port))
}

func BenchmarkPoolDirectGet(b *testing.B) {
	port, addr := kvOnRemote(b, false)
	getN(b, fmt.Sprintf("http://%s:%d/", addr, port))
}

// kvOnRemote brings the small fixture stack up on the remote engine,
// forwarded to 127.0.0.1 when forward is set, and returns its front's
// port and the engine's address.
func kvOnRemote(b *testing.B, forward bool) (int, string) {
	b.Helper()
	e := remote(b)
	kv := enginetest.KVImage(b)
	e.LoadImages(b, kv)
	enginetest.Isolate(b)
	compose := strings.ReplaceAll(enginetest.FixtureCompose, "    build: ./kv\n", "    image: "+kv+"\n    pull_policy: never\n")
	root := enginetest.Repo(b, "kv", map[string][]byte{"compose.yaml": []byte(compose)})
	enginetest.Cleanup(b, root)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	env, err := envs.Open(ctx, root)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { env.Down(context.Background(), true); env.Close() })
	st, err := env.Up(ctx, envs.UpOptions{})
	if err != nil {
		b.Fatal(err)
	}
	port := 0
	for _, s := range st.Services {
		if s.Name == "front" && len(s.Ports) > 0 {
			port = s.Ports[0].HostPort
		}
	}
	if forward {
		go env.Forward(ctx, nil)
		deadline := time.Now().Add(10 * time.Second)
		for !ok(fmt.Sprintf("http://127.0.0.1:%d/", port)) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return port, e.Addr
}

func getN(b *testing.B, u string) {
	b.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	b.ResetTimer()
	for range b.N {
		resp, err := c.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

func ok(u string) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// peerContainer is a container on the remote engine with a volume at
// /src, never started, that docker cp writes into.
func peerContainer(b *testing.B, e *enginetest.SecondEngine) string {
	b.Helper()
	kv := enginetest.KVImage(b)
	e.LoadImages(b, kv)
	out := docker(b, e, "create", "-v", "/src", kv)
	id := strings.TrimSpace(out)
	b.Cleanup(func() { exec.Command("docker", "-H", e.Host, "rm", "-fv", id).Run() })
	return id
}

func docker(b *testing.B, e *enginetest.SecondEngine, args ...string) string {
	b.Helper()
	out, err := exec.Command("docker", append([]string{"-H", e.Host}, args...)...).CombinedOutput()
	if err != nil {
		b.Fatalf("docker %v: %v\n%s", args, err, out)
	}
	return string(out)
}
