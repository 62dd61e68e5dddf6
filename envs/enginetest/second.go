package enginetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/moby/moby/client"
)

// SecondEngine is a second Docker engine on this machine in its own network
// namespace, with an address of its own that the host reaches over a veth
// pair: a stand-in for a remote engine. It runs its own dockerd and its own
// containerd (never the system's), with data root, exec root, sockets and
// logs under Dir.
type SecondEngine struct {
	Host     string // "tcp://<Addr>:2375", what DOCKER_HOST would be set to
	Addr     string // the engine's address in its namespace, e.g. "10.213.7.2"
	HostAddr string // the host's end of the veth pair, e.g. "10.213.7.1"
	Name     string // the network namespace's name, also the engine's host name (docker info's Name)
	Dir      string // everything the engine keeps on disk; removed on cleanup

	veth string // the host's end of the pair; the namespace's end is eth0
	bip  string // the engine's docker0, inside the namespace

	main *client.Client // the main engine, for LoadImages
	net  *flock.Flock   // holds the engine's subnet against other test processes

	mu      sync.Mutex
	dockerd *daemonProc // nil while stopped
}

// Names: every engine is <pid>-<n>, n counting the engines of one test
// process, so parallel test processes never meet, and a leftover of a
// killed run names the process that made it (and Dir/owner its start
// time, against reused pids).
const (
	secondNetnsPrefix = "wtenv-test-se-" // netns: wtenv-test-se-<pid>-<n>
	secondDirPrefix   = "wtenv-se-"      // Dir: $TMPDIR/wtenv-se-<pid>-<n>
	secondVethPrefix  = "wtse"           // host end of the pair: wtse<pid>n<n>
	secondPort        = 2375
	secondMTU         = 1400
	netnsDir          = "/var/run/netns"
)

var (
	secondSeq   atomic.Int64
	secondVethR = regexp.MustCompile(`^` + secondVethPrefix + `(\d+)n(\d+)$`)
	secondIDR   = regexp.MustCompile(`^(\d+)-(\d+)$`)
)

// StartSecondEngine starts a second engine and waits until it answers at
// Host. It fails the test, saying why, when it cannot (it needs root,
// iproute2's ip, util-linux's nsenter, unshare, setpriv and umount,
// hostname, dockerd, containerd and runc); only WTENV_SKIP_DOCKER=1 turns
// that into a skip, as with
// RequireDocker. The main engine must answer too (LoadImages copies from
// it). A cleanup removes every container the engine ran, stops it, and
// removes its namespace, veth pair and Dir, even when the test fails.
// Leftovers of earlier test processes that died are removed first.
func StartSecondEngine(t testing.TB) *SecondEngine {
	t.Helper()
	RequireDocker(t)
	cannot := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("WTENV_SKIP_DOCKER") == "1" {
			t.Skipf("no second Docker engine (%s) and WTENV_SKIP_DOCKER=1", msg)
		}
		t.Fatalf("cannot start a second Docker engine: %s", msg)
	}
	if os.Geteuid() != 0 {
		cannot("it needs root (a network namespace, a veth pair, dockerd)")
	}
	for _, bin := range []string{"ip", "nsenter", "unshare", "setpriv", "hostname", "umount", "dockerd", "containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			cannot("%s is not installed (%v)", bin, err)
		}
	}

	pid, n := os.Getpid(), secondSeq.Add(1)
	id := fmt.Sprintf("%d-%d", pid, n)
	s := &SecondEngine{
		Name: secondNetnsPrefix + id,
		Dir:  filepath.Join(secondTempRoot(), secondDirPrefix+id),
		veth: fmt.Sprintf("%s%dn%d", secondVethPrefix, pid, n),
	}
	if len(s.veth) > 15 {
		cannot("interface name %s is longer than 15 characters", s.veth)
	}
	main, err := client.New(client.FromEnv)
	if err != nil {
		cannot("main engine client: %v", err)
	}
	s.main = main
	t.Cleanup(func() { _ = main.Close() })
	driver := ""
	{
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if info, err := main.Info(ctx, client.InfoOptions{}); err == nil {
			driver = info.Info.Driver
		}
		cancel()
	}

	// One test process at a time sets up or clears leftovers: ip netns
	// add races with itself when /var/run/netns is new, and two processes
	// must not both tear down one dead process's engine.
	setup, err := engineLock("setup.lock", true)
	if err != nil {
		cannot("%v", err)
	}
	began := time.Now()
	cleared, errs := cleanStaleEngines()
	for _, e := range errs {
		t.Logf("second engine: clearing a dead test process's leftovers: %v", e)
	}
	if len(cleared) > 0 {
		t.Logf("second engine: cleared the leftovers of dead test processes' engines %v in %v", cleared, time.Since(began).Round(time.Millisecond))
	}
	// A namesake can only be a dead process's (a reused pid).
	if err := teardownEngine(s.Name, s.veth, s.Dir); err != nil {
		_ = setup.Unlock()
		cannot("clearing a leftover namesake: %v", err)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		_ = setup.Unlock()
		cannot("%v", err)
	}
	start, _ := procStartTime(pid)
	if err := os.WriteFile(filepath.Join(s.Dir, "owner"), fmt.Appendf(nil, "%d %s\n", pid, start), 0o600); err != nil {
		_ = setup.Unlock()
		cannot("%v", err)
	}
	// From here on, whatever exists is undone at the end.
	t.Cleanup(func() { s.cleanup(t) })
	err = s.setupNetwork()
	_ = setup.Unlock()
	if err != nil {
		cannot("%v", err)
	}
	if err := s.writeConfigs(driver); err != nil {
		cannot("%v", err)
	}
	began = time.Now()
	err = s.start()
	if err != nil && driver != "" && errors.Is(err, errDockerdExited) && strings.Contains(err.Error(), "graphdriver") {
		// The main engine's storage driver may not work on the temp
		// dir's file system: let dockerd choose.
		t.Logf("second engine: storage driver %s failed under %s, letting dockerd choose one: %v", driver, s.Dir, err)
		if err = s.writeConfigs(""); err == nil {
			began = time.Now()
			err = s.start()
		}
	}
	if err != nil {
		cannot("%v", err)
	}
	t.Logf("second engine %s at %s (%s) answered in %v", s.Name, s.Host, s.Dir, time.Since(began).Round(time.Millisecond))
	return s
}

// Client returns a client of the engine (over TCP, as a remote engine's
// would be), closed when the test ends.
func (s *SecondEngine) Client(t testing.TB) *client.Client {
	t.Helper()
	api, err := client.New(client.WithHost(s.Host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Close() })
	return api
}

// LoadImages copies images (names or IDs) from the main engine to this one,
// streaming the main engine's save into this one's load.
func (s *SecondEngine) LoadImages(t testing.TB, images ...string) {
	t.Helper()
	if len(images) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	saved, err := s.main.ImageSave(ctx, images)
	if err != nil {
		t.Fatalf("saving %v on the main engine: %v", images, err)
	}
	defer saved.Close()
	api, err := client.New(client.WithHost(s.Host))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	loaded, err := api.ImageLoad(ctx, saved, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatalf("loading %v into the second engine: %v", images, err)
	}
	defer loaded.Close()
	dec := json.NewDecoder(loaded)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("loading %v into the second engine: reading its answer: %v", images, err)
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			msg.Error = msg.ErrorDetail.Message
		}
		if msg.Error != "" {
			t.Fatalf("loading %v into the second engine: %s", images, msg.Error)
		}
	}
	for _, im := range images {
		if _, err := api.ImageInspect(ctx, im); err != nil {
			t.Fatalf("image %s is not on the second engine after the load: %v", im, err)
		}
	}
}

// Stop stops the daemon, and its containerd: its containers stop with it,
// its data stays, and it no longer answers at Host. Stopping a stopped
// engine does nothing.
func (s *SecondEngine) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("stopping the second engine: %v%s", err, s.logTail())
	}
}

// Start starts a stopped engine again, on the same data and address, and
// waits until it answers. Starting a running engine does nothing.
func (s *SecondEngine) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("starting the second engine again: %v", err)
	}
}
