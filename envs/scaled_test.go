package envs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Asking up for a service scaled to zero says so, rather than that the
// service does not exist.
func TestUpOfAServiceScaledToZero(t *testing.T) {
	t.Setenv("WTENV_PORT_RANGE", "30000-30063")
	e := fakeWorktree(t, newFake(), tempStore(t), "main", "api")
	compose := "services:\n  api: {image: busybox}\n  debug: {image: busybox, deploy: {replicas: 0}}\n"
	if err := os.WriteFile(filepath.Join(e.Worktree.Root, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := e.Up(context.Background(), UpOptions{Services: []string{"debug"}})
	if !errors.Is(err, ErrInvalidArguments) || !strings.Contains(err.Error(), `service "debug" is scaled to zero`) {
		t.Errorf("up debug: %v", err)
	}
}
