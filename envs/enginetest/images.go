package enginetest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	imagesOnce sync.Once
	imagesOut  []byte
	imagesErr  error
)

// LocalImages requires Docker, then makes sure the local stand-ins for registry images exist
// (images/build.sh, a no-op when they do) and returns the variables that
// select them in compose files written like the example's
// (POSTGRES_IMAGE=…, REDIS_IMAGE=…, GO_IMAGE=…), after setting them in the
// test's environment. BaseImage is always among what it provides.
func LocalImages(t testing.TB) map[string]string {
	t.Helper()
	RequireDocker(t)
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "images", "build.sh")
	// Every caller gets the one build's outcome, a failure included.
	imagesOnce.Do(func() {
		imagesOut, imagesErr = exec.Command("bash", script).CombinedOutput()
	})
	if imagesErr != nil {
		t.Fatalf("images/build.sh: %v\n%s", imagesErr, imagesOut)
	}
	env, err := exec.Command("bash", script, "--print-env").Output()
	if err != nil {
		t.Fatalf("images/build.sh --print-env: %v", err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
			t.Setenv(k, v)
		}
	}
	return vars
}

// BaseImage is the minimal Debian image images/build.sh makes: a shell and
// coreutils, for fixture suites.
const BaseImage = "wtenv-local/debian:bookworm"
