package engine

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Logs returns the last tail lines of each service container of the project
// (or of one service), each line prefixed with its service name, the
// services' lines interleaved by time.
func (e *Docker) Logs(ctx context.Context, scope Scope, service string, tail int) (string, error) {
	var out strings.Builder
	err := e.StreamLogs(ctx, scope, LogOptions{Service: service, Tail: tail}, &out)
	return out.String(), err
}

// readLogs returns the container's last lines of stdout and stderr.
func (e *Docker) readLogs(ctx context.Context, id string, tail int) (string, error) {
	insp, err := e.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", err
	}
	rc, err := e.api.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(tail)})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if insp.Container.Config != nil && insp.Container.Config.Tty {
		_, err = io.Copy(&buf, rc)
	} else {
		// Without a TTY the engine multiplexes stdout and stderr into one
		// framed stream; both go to the same buffer, in order.
		_, err = stdcopy.StdCopy(&buf, &buf, rc)
	}
	return buf.String(), err
}

// logTail formats a container's last n log lines for an error message, or
// returns "" when there are none.
func (e *Docker) logTail(ctx context.Context, id string, n int) string {
	text, err := e.readLogs(context.WithoutCancel(ctx), id, n)
	text = strings.TrimRight(text, "\n")
	if err != nil || text == "" {
		return ""
	}
	return "\n--- last log lines ---\n" + text
}
