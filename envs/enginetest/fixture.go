package enginetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// FixtureCompose is written the way real projects write their compose
// files: fixed host ports, a fixed container_name, a named volume and a
// service_healthy dependency. wtenv must run it unchanged, twice at once.
const FixtureCompose = `services:
  store:
    build: ./kv
    container_name: store
    ports:
      - "8080:8080"
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "/kv", "health"]
      interval: 1s
      timeout: 2s
      retries: 30
  front:
    build: ./kv
    ports:
      - "3000:8080"
    environment:
      UPSTREAM_URL: http://store:8080
    depends_on:
      store:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "/kv", "health"]
      interval: 1s
      timeout: 2s
      retries: 30
volumes:
  data:
`

// FixtureDockerfile packs the static fixture binary into an empty image:
// no registry is needed to build it.
const FixtureDockerfile = "FROM scratch\nCOPY kv /kv\nENTRYPOINT [\"/kv\"]\n"

// FixtureFiles returns the fixture project's files: compose file,
// Dockerfile and the static binary.
func FixtureFiles(t testing.TB) map[string][]byte {
	t.Helper()
	bin, err := os.ReadFile(KVBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"compose.yaml":  []byte(FixtureCompose),
		"kv/Dockerfile": []byte(FixtureDockerfile),
		"kv/kv":         bin,
	}
}

// Worktrees is the usual start of an engine test: it requires Docker,
// isolates the test (Isolate), makes the fixture repository (on main)
// with one linked worktree per extra branch, and removes everything they
// create when the test ends. It returns the worktree roots, main first.
func Worktrees(t testing.TB, branches ...string) []string {
	t.Helper()
	Isolate(t)
	return worktrees(t, FixtureFiles(t), branches)
}

// ImageWorktrees is Worktrees with the fixture's services run from an
// image built once for the test, for tests about something other than
// builds: a stack then comes up in a few seconds.
func ImageWorktrees(t testing.TB, branches ...string) []string {
	t.Helper()
	Isolate(t)
	compose := strings.ReplaceAll(FixtureCompose, "    build: ./kv\n", "    image: "+KVImage(t)+"\n    pull_policy: never\n")
	return worktrees(t, map[string][]byte{"compose.yaml": []byte(compose)}, branches)
}

func worktrees(t testing.TB, files map[string][]byte, branches []string) []string {
	t.Helper()
	roots := []string{Repo(t, "shop", files)}
	for _, b := range branches {
		roots = append(roots, Worktree(t, roots[0], b))
	}
	Cleanup(t, roots...)
	return roots
}

// KVImage builds the fixture service into an image of its own, tagged
// uniquely and removed when the test ends, for compose files that name an
// image rather than build one.
func KVImage(t testing.TB) string {
	t.Helper()
	RequireDocker(t)
	dir := t.TempDir()
	bin, err := os.ReadFile(KVBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kv"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(FixtureDockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "wtenv-test-kv:" + randomHex(8)
	// Without the build cache every test gets an image of its own: tests
	// in parallel packages build the same content, and one test removing
	// its image must not remove the cached layer another's build uses.
	if out, err := exec.Command("docker", "build", "-q", "--no-cache", "-t", tag, "--label", "dev.wtenv.test=kv", dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "image", "rm", "-f", tag).Run() })
	return tag
}
