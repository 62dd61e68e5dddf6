package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/moby/moby/client"
)

// secondTempRoot is where engine directories go: the temp dir, unless its
// path is so long that the sockets under it would pass the 108 bytes a
// unix socket's path may have.
func secondTempRoot() string {
	if d := os.TempDir(); len(d) <= 24 {
		return d
	}
	return "/tmp"
}

func engineLock(name string, wait bool) (*flock.Flock, error) {
	dir := filepath.Join(os.TempDir(), "wtenv-test-engines")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	fl := flock.New(filepath.Join(dir, name))
	if wait {
		return fl, fl.Lock()
	}
	ok, err := fl.TryLock()
	if err != nil || !ok {
		return nil, err
	}
	return fl, nil
}

// setupNetwork picks a subnet, makes the namespace and the veth pair, and
// gives the engine its own host name (a UTS namespace kept in Dir/uts).
func (s *SecondEngine) setupNetwork() error {
	if err := s.pickSubnet(); err != nil {
		return err
	}
	ns := s.Name
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", s.veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "addr", "add", s.HostAddr + "/30", "dev", s.veth},
		{"ip", "link", "set", s.veth, "mtu", strconv.Itoa(secondMTU), "up"},
		{"ip", "-n", ns, "addr", "add", s.Addr + "/30", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "mtu", strconv.Itoa(secondMTU), "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "route", "add", "default", "via", s.HostAddr},
	}
	for _, argv := range steps {
		if err := runTool(argv...); err != nil {
			return err
		}
	}
	uts := filepath.Join(s.Dir, "uts")
	if err := os.WriteFile(uts, nil, 0o600); err != nil {
		return err
	}
	return runTool("unshare", "--uts="+uts, "hostname", s.Name)
}

// pickSubnet takes a /30 that no address or route of the host overlaps
// and no other test process holds: 10.213.X.0/30 (else 10.187.X.0/30),
// the host at .1, the engine at .2; the engine's docker0 gets the /24 one
// above in the second byte, which only its namespace sees.
func (s *SecondEngine) pickSubnet() error {
	used, err := hostPrefixes()
	if err != nil {
		return err
	}
	off := rand.IntN(256)
	for _, base := range [][2]int{{10, 213}, {10, 187}} {
		for i := range 256 {
			x := (off + i) % 256
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(base[0]), byte(base[1]), byte(x), 0}), 30)
			if slices.ContainsFunc(used, p.Overlaps) {
				continue
			}
			fl, err := engineLock(fmt.Sprintf("net-%s.lock", p.Addr()), false)
			if err != nil {
				return err
			}
			if fl == nil {
				continue
			}
			s.net = fl
			s.HostAddr = fmt.Sprintf("%d.%d.%d.1", base[0], base[1], x)
			s.Addr = fmt.Sprintf("%d.%d.%d.2", base[0], base[1], x)
			s.bip = fmt.Sprintf("%d.%d.%d.1/24", base[0], base[1]+1, x)
			s.Host = fmt.Sprintf("tcp://%s:%d", s.Addr, secondPort)
			return nil
		}
	}
	return errors.New("no free /30 in 10.213.0.0/16 or 10.187.0.0/16 (the host's addresses and routes overlap them all)")
}

// hostPrefixes lists the host's IPv4 addresses and routes, all tables,
// the default routes left out.
func hostPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	addrs, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("ip addr: %w", err)
	}
	for _, line := range strings.Split(string(addrs), "\n") {
		f := strings.Fields(line)
		if i := slices.Index(f, "inet"); i >= 0 && i+1 < len(f) {
			if p, err := netip.ParsePrefix(f[i+1]); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	routes, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("ip route: %w", err)
	}
	for _, line := range strings.Split(string(routes), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && slices.Contains([]string{"unicast", "local", "broadcast", "multicast", "unreachable", "blackhole", "prohibit", "throw", "nat", "anycast"}, f[0]) {
			f = f[1:]
		}
		if len(f) == 0 || f[0] == "default" {
			continue
		}
		dst := f[0]
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil && p.Bits() > 0 {
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

func (s *SecondEngine) writeConfigs(driver string) error {
	exe := filepath.Join(s.Dir, "exec")
	data := filepath.Join(s.Dir, "data")
	for _, d := range []string{exe, data} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	// The engine's own containerd, never the system's: dockerd 20.10
	// would use /run/containerd/containerd.sock whenever it exists, and
	// share its "moby" namespace with the main engine.
	toml := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[debug]
  level = "warn"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = %q
`, filepath.Join(data, "containerd"), filepath.Join(exe, "containerd"), s.containerdSock(), filepath.Join(data, "containerd-opt"))
	if err := os.WriteFile(filepath.Join(s.Dir, "containerd.toml"), []byte(toml), 0o600); err != nil {
		return err
	}
	// Not /etc/docker/daemon.json: its data root and hosts would clash.
	conf := map[string]any{"mtu": secondMTU, "log-driver": "json-file", "log-opts": map[string]string{"max-size": "10m"}}
	if driver != "" {
		conf["storage-driver"] = driver // what works for the main engine here
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	return os.WriteFile(filepath.Join(s.Dir, "daemon.json"), b, 0o600)
}

func (s *SecondEngine) containerdSock() string {
	return filepath.Join(s.Dir, "exec", "containerd.sock")
}

// start starts the engine in the namespace and waits until dockerd
// answers at Host. The process it starts is a shell that forks containerd
// and then becomes dockerd, so that containerd is dockerd's child: its
// parent-death signal (setpriv --pdeathsig) comes when dockerd has ended.
// dockerd's own comes when the test process ends without its cleanups (a
// test timeout, a kill): dockerd then stops its containers, through a
// containerd still there, before containerd goes too.
func (s *SecondEngine) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dockerd != nil {
		return nil
	}
	const script = `setpriv --pdeathsig TERM -- containerd --config "$1" >>"$2" 2>&1 &
echo $! >"$3"
shift 3
exec dockerd "$@"`
	p, err := startDaemon(filepath.Join(s.Dir, "dockerd.log"), []string{
		"setpriv", "--pdeathsig", "TERM", "--",
		"nsenter", "--net=" + filepath.Join(netnsDir, s.Name), "--uts=" + filepath.Join(s.Dir, "uts"), "--",
		"sh", "-c", script, "sh",
		filepath.Join(s.Dir, "containerd.toml"), filepath.Join(s.Dir, "containerd.log"), filepath.Join(s.Dir, "containerd.pid"),
		"--config-file", filepath.Join(s.Dir, "daemon.json"),
		"--data-root", filepath.Join(s.Dir, "data"),
		"--exec-root", filepath.Join(s.Dir, "exec"),
		"--pidfile", filepath.Join(s.Dir, "dockerd.pid"),
		"--containerd", s.containerdSock(),
		"--bip", s.bip,
		// Explicit: without it, dockerd 20.10 sleeps 15 s to warn about a
		// TCP socket without TLS (it still sleeps 1 s).
		"--tls=false",
		"-H", "unix://" + filepath.Join(s.Dir, "docker.sock"),
		"-H", fmt.Sprintf("tcp://%s:%d", s.Addr, secondPort),
	})
	if err != nil {
		return fmt.Errorf("dockerd: %w", err)
	}
	s.dockerd = p
	api, err := client.New(client.WithHost(s.Host))
	if err != nil {
		return err
	}
	defer api.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			s.dockerd = nil
			s.waitContainerd()
			return fmt.Errorf("%w: %v%s", errDockerdExited, p.err, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd did not answer at %s within 60s: %v%s", s.Host, err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops dockerd, which stops its containers, and waits for its
// containerd to follow it.
func (s *SecondEngine) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dockerd == nil {
		return nil
	}
	err := s.dockerd.stop("dockerd", 60*time.Second)
	s.dockerd = nil
	return errors.Join(err, s.waitContainerd())
}

var errDockerdExited = errors.New("dockerd exited")

// waitContainerd waits for the containerd of a dockerd that has exited to
// follow it (its parent-death signal).
func (s *SecondEngine) waitContainerd() error {
	if pid := pidFromFile(filepath.Join(s.Dir, "containerd.pid")); pid > 0 && cmdlineHas(pid, s.Dir) {
		if left := waitGone([]int{pid}, 30*time.Second); len(left) > 0 {
			signalPID(pid, syscall.SIGKILL)
			waitGone(left, 10*time.Second)
			return errors.New("containerd did not stop within 30s of dockerd and was killed")
		}
	}
	return nil
}

func (s *SecondEngine) cleanup(t testing.TB) {
	if t.Failed() {
		t.Logf("second engine %s:%s", s.Name, s.logTail())
	}
	s.mu.Lock()
	running := s.dockerd != nil
	s.mu.Unlock()
	if running {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if api, err := client.New(client.WithHost(s.Host)); err == nil {
			if cs, err := api.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
				for _, c := range cs.Items {
					if _, err := api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
						t.Logf("second engine cleanup: container %s: %v", c.ID[:12], err)
					}
				}
			}
			api.Close()
		}
		cancel()
	}
	if err := s.stop(); err != nil {
		t.Logf("second engine cleanup: %v", err)
	}
	if err := teardownEngine(s.Name, s.veth, s.Dir); err != nil {
		t.Errorf("second engine cleanup left something behind: %v", err)
	}
	if s.net != nil {
		_ = s.net.Unlock()
	}
}

// logTail is the end of the daemons' logs, for failure messages.
func (s *SecondEngine) logTail() string {
	var b strings.Builder
	for _, name := range []string{"containerd.log", "dockerd.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, name))
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 25 {
			lines = lines[len(lines)-25:]
		}
		fmt.Fprintf(&b, "\n--- %s (end) ---\n%s", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

// daemonProc is a daemon the test process started.
type daemonProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error         // its exit, once done is closed
}

// startDaemon starts argv with its output appended to logPath. The
// command line starts with setpriv --pdeathsig, so that the daemon stops
// if the test process dies without its cleanups (a test timeout): the
// signal comes when the thread that forked it ends, so that goroutine
// keeps its thread for as long as the daemon runs.
func startDaemon(logPath string, argv []string) (*daemonProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	p := &daemonProc{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = logf, logf
		err := cmd.Start()
		logf.Close()
		if err != nil {
			started <- err
			return
		}
		p.cmd = cmd
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop sends SIGTERM and waits for the exit; SIGKILL after timeout.
func (p *daemonProc) stop(name string, timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %v of SIGTERM and was killed", name, timeout)
}

func runTool(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
