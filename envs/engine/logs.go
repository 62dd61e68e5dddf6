package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Logs returns the last tail lines of each service container of the project
// (or of one service), each line prefixed with its service name.
func (e *Docker) Logs(ctx context.Context, scope Scope, service string, tail int) (string, error) {
	project := scope.Project
	f := scope.services()
	if service != "" {
		f = f.Add("label", LabelService+"="+service)
	}
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return "", err
	}
	if service != "" && len(res.Items) == 0 {
		return "", fmt.Errorf("service %q has no container in %s; run env_up first, or check the name with env_status", service, project)
	}
	sort.Slice(res.Items, func(i, j int) bool {
		return res.Items[i].Labels[LabelService] < res.Items[j].Labels[LabelService]
	})
	var out strings.Builder
	for _, c := range res.Items {
		text, err := e.readLogs(ctx, c.ID, tail)
		if err != nil {
			return "", err
		}
		name := c.Labels[LabelService]
		for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(&out, "%s | %s\n", name, line)
			}
		}
	}
	return out.String(), nil
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
