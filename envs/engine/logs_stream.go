package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// LogOptions choose what StreamLogs writes.
type LogOptions struct {
	Service string // one service; "" for all
	Tail    int    // lines per service before following; 0: all
	Since   string // only lines since: a duration (10m) or a time (RFC 3339)
	Follow  bool   // keep writing new lines until ctx ends
}

// StreamLogs writes the project's service logs to w, each line prefixed
// with its service name, interleaved by the time the engine stamped on
// them: the lines already there sorted by time, then, with Follow, new
// lines as they come.
func (e *Docker) StreamLogs(ctx context.Context, scope Scope, opts LogOptions, w io.Writer) error {
	f := scope.services()
	if opts.Service != "" {
		f = f.Add("label", LabelService+"="+opts.Service)
	}
	res, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	if opts.Service != "" && len(res.Items) == 0 {
		return fmt.Errorf("service %q has no container in %s; bring the stack up first (env_up, wtenv up), or check the name (env_status, wtenv status)", opts.Service, scope.Project)
	}
	tail := "all"
	if opts.Tail > 0 {
		tail = strconv.Itoa(opts.Tail)
	}
	// What is there already, from every container, merged by time.
	var lines []stampedLine
	tty := map[string]bool{} // by container: its log stream is not multiplexed
	for _, c := range res.Items {
		insp, err := e.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		tty[c.ID] = insp.Container.Config != nil && insp.Container.Config.Tty
		err = e.readStamped(ctx, c.ID, c.Labels[LabelService], tty[c.ID], client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Tail: tail, Since: opts.Since},
			func(l stampedLine) { lines = append(lines, l) })
		if err != nil {
			return err
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	for _, l := range lines {
		fmt.Fprintf(w, "%s | %s\n", l.service, l.text)
	}
	if !opts.Follow {
		return nil
	}
	// Then what comes, from each container as it comes.
	var mu sync.Mutex
	var wg sync.WaitGroup
	since := time.Now().UTC().Format(time.RFC3339Nano)
	for _, c := range res.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.readStamped(ctx, c.ID, c.Labels[LabelService], tty[c.ID], client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: true, Since: since}, func(l stampedLine) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(w, "%s | %s\n", l.service, l.text)
			})
		}()
	}
	wg.Wait() // following ends when the caller stops it, or the containers do
	return nil
}

type stampedLine struct {
	at      time.Time
	service string
	text    string
}

// readStamped reads a container's logs as lines with the engine's
// timestamps, calling each for every line, until the stream ends (or, when
// following, until ctx does). tty says the stream is the container's
// terminal rather than stdout and stderr multiplexed.
func (e *Docker) readStamped(ctx context.Context, id, service string, tty bool, opts client.ContainerLogsOptions, each func(stampedLine)) error {
	rc, err := e.api.ContainerLogs(ctx, id, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		var err error
		if tty {
			_, err = io.Copy(pw, rc)
		} else {
			_, err = stdcopy.StdCopy(pw, pw, rc)
		}
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		stamp, text, _ := strings.Cut(sc.Text(), " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			text = sc.Text()
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		each(stampedLine{at: at, service: service, text: strings.TrimRight(text, "\r")})
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
