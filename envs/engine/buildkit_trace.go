package engine

import (
	"fmt"
	"io"
	"strings"

	bkclient "github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// tailLines is how many lines of build output an error carries.
const tailLines = 20

// buildTrace follows the status stream of a BuildKit build. It reports
// each step once, when it starts, as the classic builder's "Step" lines
// are reported ("building api: [2/4] RUN go build ./..."), and keeps what
// a failure's error shows: the last lines of output, each step's name
// before its output, and the first step that failed.
type buildTrace struct {
	service  string
	progress func(string)
	out      io.Writer // every line
	started  map[digest.Digest]bool
	partial  map[digest.Digest]string // a step's output after its last newline
	tail     []string
	failure  string // "<step>: <error>" of the first step that failed
}

func newBuildTrace(service string, log io.Writer, progress func(string)) *buildTrace {
	return &buildTrace{service: service, progress: progress, out: log, started: map[digest.Digest]bool{}, partial: map[digest.Digest]string{}}
}

// follow reads the stream until BuildKit closes it. It must be drained
// whatever happens, or the build blocks.
func (t *buildTrace) follow(status <-chan *bkclient.SolveStatus) {
	for st := range status {
		for _, v := range st.Vertexes {
			t.vertex(v)
		}
		for _, l := range st.Logs {
			t.log(l.Vertex, string(l.Data))
		}
	}
	for d, rest := range t.partial {
		if rest != "" {
			t.line(rest)
		}
		delete(t.partial, d)
	}
}

// vertex reports a step that starts. BuildKit's own bookkeeping
// ("[internal] load .dockerignore") is left out of the progress.
func (t *buildTrace) vertex(v *bkclient.Vertex) {
	if v.Error != "" && t.failure == "" {
		t.failure = v.Name + ": " + v.Error
		fmt.Fprintf(t.out, "ERROR %s\n", t.failure)
	}
	if v.Started == nil || t.started[v.Digest] || strings.HasPrefix(v.Name, "[internal]") {
		return
	}
	t.started[v.Digest] = true
	crashPoint(CrashBuild)
	msg := "building " + t.service + ": " + v.Name
	if v.Cached {
		msg += " (cached)"
	}
	t.progress(msg)
	t.line(v.Name)
}

// log keeps a step's output by whole lines.
func (t *buildTrace) log(d digest.Digest, data string) {
	data = t.partial[d] + data
	lines := strings.Split(data, "\n")
	t.partial[d] = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		t.line(l)
	}
}

func (t *buildTrace) line(l string) {
	l = strings.TrimRight(stripANSI(l), "\r")
	if strings.TrimSpace(l) == "" {
		return
	}
	fmt.Fprintln(t.out, l)
	t.tail = append(t.tail, l)
	if len(t.tail) > tailLines {
		t.tail = t.tail[1:]
	}
}

// failed is the error of a build that failed: the step that failed and
// its error, else the frontend's own error (a Dockerfile that does not
// parse, say), else BuildKit's; what to do; and the last lines of output.
func (t *buildTrace) failed(err, frontendErr error) error {
	what := t.failure
	if what == "" && frontendErr != nil {
		what = frontendErr.Error()
	}
	if what == "" {
		what = err.Error()
	}
	if len(t.tail) == 0 {
		return fmt.Errorf("%w: service %q: build failed: %s; fix the Dockerfile and run up again", ErrImage, t.service, what)
	}
	return fmt.Errorf("%w: service %q: build failed: %s; %s\n--- last build output ---\n%s",
		ErrImage, t.service, what, buildAdvice(append(t.tail, what)), strings.Join(t.tail, "\n"))
}
