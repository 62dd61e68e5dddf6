package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wtenv/wtenv/runner/report"
)

// Failure locations become paths relative to the worktree, whatever form
// the framework printed them in.
func TestRelocate(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"internal/store/store_test.go", "internal/orders/orders_test.go", "internal/api/util_test.go", "cmd/api/util_test.go", "e2e/e2e_test.go", "vendor/x/store_test.go", "t/check.sh", "testing.go", "main_test.go"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs := []report.Failure{
		{Location: "store_test.go:24"},                                      // go test's bare name, one such file (vendor/ not counted)
		{Location: "util_test.go:3", Package: "github.com/me/shop/cmd/api"}, // two such files: the package's
		{Location: "util_test.go:9"},                                        // two, no package: left as printed
		{Location: "/src/internal/orders/orders_test.go:31"},                // in the test container
		{Location: filepath.Join(root, "e2e", "e2e_test.go") + ":7"},        // on the host
		{Location: "t/check.sh:6"},                                          // already relative
		{Location: "/usr/lib/go/src/testing/testing.go:1"},                  // not the worktree's, though it has a testing.go
		{Location: "/src/main_test.go:4"},                                   // at the test container's /src
		{Name: "no location"},
	}
	relocate(root, fs)
	want := []string{"internal/store/store_test.go:24", "cmd/api/util_test.go:3", "util_test.go:9", "internal/orders/orders_test.go:31", "e2e/e2e_test.go:7", "t/check.sh:6", "/usr/lib/go/src/testing/testing.go:1", "main_test.go:4", ""}
	for i, w := range want {
		if fs[i].Location != w {
			t.Errorf("%d: %q, want %q", i, fs[i].Location, w)
		}
	}
}
