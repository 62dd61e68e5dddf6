package compose_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/wtenv/wtenv/envs/compose"
)

// corpusDir holds one folder per compose key or behaviour: a worktree with
// a compose file (and, where the case needs them, a wtenv.yaml, a .env and
// the files it mounts) and a want.txt saying what wtenv must do with it.
const corpusDir = "testdata/corpus"

// corpusRequired are the folders the corpus must keep: each pins a key
// whose support (or refusal) was decided on purpose, so deleting one is a
// test failure rather than a silent loss of coverage.
var corpusRequired = []string{
	"secrets-file", "secrets-environment", "secrets-external",
	"bind-selinux", "bind-propagation", "volume-nocopy", "writable-bind-outside",
	"network-mode-host", "network-mode-host-allowed", "network-mode-service", "network-mode-service-ports",
	"logging", "deploy-restart-policy", "deploy-replicas-zero", "deploy-mode-global",
	"links", "configs-file", "configs-environment", "configs-content",
	"security-opt", "develop", "build-dockerfile-inline", "cache-from",
	"platform", "runtime", "ipam-subnet", "ipv4-address", "ports-tcp-udp",
	"subfolder", "env-interpolation",
}

// want is a corpus folder's want.txt. Its first line is "accept" or
// "refuse: <substring of the error>"; the lines after it may say
// "warn: <substring>" (each warning Isolate gives must match one such line,
// and each line must match a warning) and "published: <n>" (the number of
// host ports the project needs). Blank lines and lines starting with #
// are ignored.
type want struct {
	refuse    string
	warns     []string
	published int // -1: not checked
}

func readWant(dir string) (want, error) {
	f, err := os.Open(filepath.Join(dir, "want.txt"))
	if err != nil {
		return want{}, fmt.Errorf("every corpus folder needs a want.txt whose first line is accept or refuse: <error substring>: %w", err)
	}
	defer f.Close()
	w := want{published: -1}
	first := true
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch {
		case first && line == "accept":
		case first && key == "refuse" && value != "":
			w.refuse = value
		case first:
			return want{}, fmt.Errorf("want.txt:%d: the first line must be accept or refuse: <substring>, not %q", n, line)
		case key == "warn" && value != "":
			w.warns = append(w.warns, value)
		case key == "published":
			if w.published, err = strconv.Atoi(value); err != nil {
				return want{}, fmt.Errorf("want.txt:%d: published: needs a number: %w", n, err)
			}
		default:
			return want{}, fmt.Errorf("want.txt:%d: unknown line %q (want warn: or published:)", n, line)
		}
		first = false
	}
	if first {
		return want{}, errors.New("want.txt is empty; its first line must be accept or refuse: <substring>")
	}
	return w, sc.Err()
}

// corpusFolders lists every folder of the corpus by name, with its
// absolute path.
func corpusFolders(t *testing.T) map[string]string {
	t.Helper()
	root, err := filepath.Abs(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			out[e.Name()] = filepath.Join(root, e.Name())
		} else {
			t.Errorf("%s/%s: the corpus holds folders only", corpusDir, e.Name())
		}
	}
	for _, name := range corpusRequired {
		if _, ok := out[name]; !ok {
			t.Errorf("corpus folder %s is missing", name)
		}
	}
	return out
}

// corpusProject is the project name a corpus folder loads under.
func corpusProject(name string) string { return "corpus-" + name }

// outcome is what wtenv made of a corpus folder.
type outcome struct {
	stage     string // where it stopped: wtenv.yaml, load, check, isolate; "" when accepted
	err       error
	published int
	warnings  []string
}

// runCorpus does with the folder what wtenv up does before it reaches the
// engine: read wtenv.yaml, load the compose project, check it, and isolate
// it on placeholder host ports with the folder as the worktree.
func runCorpus(dir, project string) (*types.Project, outcome) {
	cfg, err := compose.LoadConfig(dir)
	if err != nil {
		return nil, outcome{stage: "wtenv.yaml", err: err, published: -1}
	}
	p, err := compose.Load(context.Background(), dir, cfg, project)
	if err != nil {
		return nil, outcome{stage: "load", err: err, published: -1}
	}
	refs := compose.Published(p)
	o := outcome{published: len(refs)}
	if err := compose.Check(p, cfg); err != nil {
		o.stage, o.err = "check", err
		return p, o
	}
	ports := make([]int, len(refs))
	for i := range ports {
		ports[i] = 30000 + i
	}
	res, err := compose.Isolate(p, project, ports, dir)
	if err != nil {
		o.stage, o.err = "isolate", err
		return p, o
	}
	o.warnings = res.Warnings
	return p, o
}

// Every folder of the corpus gets what its want.txt says: accepted with
// exactly the warnings listed, or refused with the error named.
func TestCorpus(t *testing.T) {
	for name, dir := range corpusFolders(t) {
		t.Run(name, func(t *testing.T) {
			w, err := readWant(dir)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_, got := runCorpus(dir, corpusProject(name))
			switch {
			case w.refuse == "" && got.err != nil:
				t.Fatalf("want accept; %s failed: %v", got.stage, got.err)
			case w.refuse != "" && got.err == nil:
				t.Fatalf("want refuse: %s; accepted with warnings %q", w.refuse, got.warnings)
			case w.refuse != "" && !strings.Contains(got.err.Error(), w.refuse):
				t.Fatalf("want refuse: %s; %s failed with another error: %v", w.refuse, got.stage, got.err)
			case w.refuse != "" && !errors.Is(got.err, compose.ErrUnsupported):
				t.Errorf("refused by %s, but not as ErrUnsupported (exit code 3 with a key named): %v", got.stage, got.err)
			}
			if w.published >= 0 && got.published != w.published {
				t.Errorf("compose.Published lists %d host ports, want %d", got.published, w.published)
			}
			for _, warn := range got.warnings {
				if !slices.ContainsFunc(w.warns, func(s string) bool { return strings.Contains(warn, s) }) {
					t.Errorf("unexpected warning (add a warn: line if it is right): %s", warn)
				}
			}
			for _, s := range w.warns {
				if !slices.ContainsFunc(got.warnings, func(warn string) bool { return strings.Contains(warn, s) }) {
					t.Errorf("no warning contains %q; warnings: %q", s, got.warnings)
				}
			}
		})
	}
}
