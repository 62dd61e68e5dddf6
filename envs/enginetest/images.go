package enginetest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// buildImages runs images/build.sh once per test process; every caller
// gets that one run's outcome, a failure included.
var buildImages = sync.OnceValues(func() ([]byte, error) {
	return exec.Command("bash", imagesScript()).CombinedOutput()
})

func imagesScript() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..", "images", "build.sh")
}

// LocalImages requires Docker, then makes sure the local stand-ins for
// registry images exist (images/build.sh, a no-op when they do) and
// returns the variables that select them in compose files written like
// the example's (POSTGRES_IMAGE=…, REDIS_IMAGE=…, GO_IMAGE=…), after
// setting them in the test's environment. BaseImage is always among what
// it provides.
func LocalImages(t testing.TB) map[string]string {
	t.Helper()
	RequireDocker(t)
	if out, err := buildImages(); err != nil {
		t.Fatalf("images/build.sh: %v\n%s", err, out)
	}
	script := imagesScript()
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
