package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A pull cut short by the caller is a cancellation, not a missing image;
// a pull the registry refuses is ErrImage with the engine's reason kept.
func TestPullFailedNamesTheRealCause(t *testing.T) {
	refused := errors.New("dial tcp: lookup registry-1.docker.io: no such host")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := pullFailed(ctx, "db", "postgres:15", refused)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrImage) {
		t.Errorf("cancelled pull: %v", err)
	}
	err = pullFailed(context.Background(), "db", "postgres:15", refused)
	if !errors.Is(err, ErrImage) || !errors.Is(err, refused) || !strings.Contains(err.Error(), "docker load") {
		t.Errorf("refused pull: %v", err)
	}
}
