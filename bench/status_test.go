// Package bench measures wtenv against a peer run side by side, as ratios:
// timings on shared machines are noisy, so nothing here asserts a time.
//
//	go test -run '^$' -bench . -benchtime 20x ./bench
//
// BenchmarkStatus reads one stack's status the way env_status does
// (containers, health, memory from the cgroup files, the budget);
// BenchmarkPeerComposePs asks the compose CLI about the same stack. The
// ratio of their ns/op is the number to watch.
package bench

import (
	"context"
	"os/exec"
	"testing"

	"github.com/wtenv/wtenv/envs"
	"github.com/wtenv/wtenv/envs/enginetest"
)

func upFixture(b *testing.B) *envs.Env {
	b.Helper()
	root := enginetest.Worktrees(b)[0]
	env, err := envs.Open(context.Background(), root)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { env.Close() })
	if _, err := env.Up(context.Background(), envs.UpOptions{}); err != nil {
		b.Fatal(err)
	}
	return env
}

func BenchmarkStatus(b *testing.B) {
	env := upFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		st, err := env.Status(ctx)
		if err != nil || st.MemoryBytes == 0 {
			b.Fatalf("status: %v (memory %d)", err, st.MemoryBytes)
		}
	}
}

func BenchmarkPeerComposePs(b *testing.B) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		b.Skip("no docker-compose CLI to compare with")
	}
	env := upFixture(b)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command("docker-compose", "-p", env.Project, "ps")
		cmd.Dir = env.Worktree.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("docker-compose ps: %v\n%s", err, out)
		}
	}
}
