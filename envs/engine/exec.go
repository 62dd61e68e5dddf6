package engine

import (
	"bytes"
	"context"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Exec runs cmd in the running container id as user (the container's own
// when empty) and returns its output, stdout then stderr, and its exit
// code. When ctx ends first it returns ctx's error; the command may still
// run in the container, as the API cannot kill an exec.
func (e *Docker) Exec(ctx context.Context, id, user string, cmd []string) (stdout, stderr string, code int, err error) {
	ex, err := e.api.ExecCreate(ctx, id, client.ExecCreateOptions{
		User: user, Cmd: cmd, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return "", "", -1, err
	}
	att, err := e.api.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return "", "", -1, err
	}
	// The stream ends when the command exits, or when ctx ends.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			att.Close()
		case <-done:
		}
	}()
	var out, errOut bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &errOut, att.Reader)
	att.Close()
	if err := ctx.Err(); err != nil {
		return out.String(), errOut.String(), -1, err
	}
	// The engine records the exit code as the stream ends; look until it
	// has.
	for {
		res, err := e.api.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if err != nil {
			return out.String(), errOut.String(), -1, err
		}
		if !res.Running {
			return out.String(), errOut.String(), res.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return out.String(), errOut.String(), -1, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
