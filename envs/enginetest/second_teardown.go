package enginetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cleanStaleEngines tears down the engines of test processes that died
// without their cleanups: only names of this file's scheme, and only when
// the process that made them is gone.
func cleanStaleEngines() (cleared []string, errs []error) {
	ids := map[string]bool{}
	if ents, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range ents {
			if id, ok := strings.CutPrefix(e.Name(), secondNetnsPrefix); ok && secondIDR.MatchString(id) {
				ids[id] = true
			}
		}
	}
	if ents, err := os.ReadDir("/sys/class/net"); err == nil {
		for _, e := range ents {
			if m := secondVethR.FindStringSubmatch(e.Name()); m != nil {
				ids[m[1]+"-"+m[2]] = true
			}
		}
	}
	roots := []string{secondTempRoot()}
	if os.TempDir() != roots[0] {
		roots = append(roots, os.TempDir())
	}
	for _, root := range roots {
		if ents, err := os.ReadDir(root); err == nil {
			for _, e := range ents {
				if id, ok := strings.CutPrefix(e.Name(), secondDirPrefix); ok && secondIDR.MatchString(id) {
					ids[id] = true
				}
			}
		}
	}
	for id := range ids {
		m := secondIDR.FindStringSubmatch(id)
		pid, _ := strconv.Atoi(m[1])
		dirs := make([]string, len(roots))
		for i, root := range roots {
			dirs[i] = filepath.Join(root, secondDirPrefix+id)
		}
		if ownerAlive(pid, dirs) {
			continue
		}
		cleared = append(cleared, id)
		for _, dir := range dirs {
			if err := teardownEngine(secondNetnsPrefix+id, secondVethPrefix+m[1]+"n"+m[2], dir); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
			}
		}
	}
	return cleared, errs
}

// ownerAlive tells whether the test process that made an engine still
// runs: its pid, and the start time the engine's Dir/owner recorded.
func ownerAlive(pid int, dirs []string) bool {
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 2 {
			start, err := procStartTime(pid)
			return err == nil && start == f[1]
		}
	}
	return processAlive(pid)
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

func signalPID(pid int, sig syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Signal(sig)
	}
}

// procStartTime is a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), which tells a process from a later one
// with the same pid.
func procStartTime(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", errors.New("bad stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", errors.New("bad stat")
	}
	return f[19], nil
}

// teardownEngine removes everything of one engine that exists: its
// daemons and their containers, the mounts under dir, the namespace, the
// veth pair and dir. It is for the engine's own cleanup (daemons already
// stopped) and for a dead test process's leftovers (daemons maybe still
// running, orphaned).
func teardownEngine(netns, veth, dir string) error {
	var errs []error
	nsPath := filepath.Join(netnsDir, netns)
	_, nsErr := os.Stat(nsPath)
	haveNS := nsErr == nil

	// dockerd first, alone and gently: it stops its containers.
	if pid := pidFromFile(filepath.Join(dir, "dockerd.pid")); pid > 0 && cmdlineHas(pid, dir) {
		signalPID(pid, syscall.SIGTERM)
		waitGone([]int{pid}, 30*time.Second)
	}
	// Containers still running: runc's state is in the exec root.
	var containers []string
	runcRoot := filepath.Join(dir, "exec", "runtime-runc", "moby")
	if _, err := os.Stat(runcRoot); err == nil {
		if out, err := exec.Command("runc", "--root", runcRoot, "list", "-q").Output(); err == nil {
			for _, id := range strings.Fields(string(out)) {
				_ = exec.Command("runc", "--root", runcRoot, "delete", "--force", id).Run()
				containers = append(containers, id)
			}
		}
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "exec", "containerd", "io.containerd.runtime.v2.task", "moby")); err == nil {
		for _, e := range ents {
			containers = append(containers, e.Name())
		}
	}
	// Then whatever is left: processes in the namespace (containerd, its
	// shims, docker-proxy), or the engine's daemons by name and dir (a
	// shim or fuse-overlayfs daemon that left it).
	var pids []int
	if haveNS {
		if out, err := exec.Command("ip", "netns", "pids", netns).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids = append(pids, pid)
				}
			}
		}
	}
	if _, err := os.Stat(dir); err == nil {
		if ents, err := os.ReadDir("/proc"); err == nil {
			for _, e := range ents {
				if pid, err := strconv.Atoi(e.Name()); err == nil && engineDaemon(pid) && cmdlineHas(pid, dir) {
					pids = append(pids, pid)
				}
			}
		}
	}
	pids = slices.DeleteFunc(pids, func(pid int) bool { return pid == os.Getpid() })
	if len(pids) > 0 {
		for _, pid := range pids {
			signalPID(pid, syscall.SIGKILL)
		}
		if left := waitGone(pids, 10*time.Second); len(left) > 0 {
			errs = append(errs, fmt.Errorf("processes %v survived SIGKILL", left))
		}
	}
	// A shim killed, not stopped, leaves its socket where containerd 1.x
	// puts them all: /run/containerd/s/<sha256 of address/namespace/id>.
	for _, id := range containers {
		sum := sha256.Sum256([]byte(filepath.Join(dir, "exec", "containerd.sock", "moby", id)))
		_ = os.Remove(filepath.Join("/run/containerd/s", hex.EncodeToString(sum[:])))
	}
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	if haveNS {
		if err := runTool("ip", "netns", "delete", netns); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", veth)); err == nil {
		if err := runTool("ip", "link", "delete", veth); err != nil {
			// Deleting the namespace deletes the pair, a moment later.
			if _, serr := os.Stat(filepath.Join("/sys/class/net", veth)); serr == nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func pidFromFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// engineDaemon tells whether a process is one of the programs an engine
// runs.
func engineDaemon(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	name, _, _ := bytes.Cut(b, []byte{0})
	switch filepath.Base(string(name)) {
	case "dockerd", "containerd", "containerd-shim-runc-v2", "fuse-overlayfs", "docker-proxy", "runc":
		return true
	}
	return false
}

// cmdlineHas tells whether a process's command line mentions dir (or a
// path under it).
func cmdlineHas(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	for _, arg := range bytes.Split(b, []byte{0}) {
		a := string(arg)
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = v
		}
		if a == dir || strings.HasPrefix(a, dir+"/") || strings.HasPrefix(a, "unix://"+dir+"/") {
			return true
		}
	}
	return false
}

// waitGone waits until the processes have exited (or are zombies) and
// returns those that have not.
func waitGone(pids []int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		left := slices.DeleteFunc(slices.Clone(pids), func(pid int) bool {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return true
			}
			i := bytes.LastIndexByte(b, ')')
			return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
		})
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unmountUnder detaches every mount at or under dir, deepest first
// (util-linux's umount, lazily: a dead FUSE daemon's mount included).
func unmountUnder(dir string) error {
	var last error
	for range 3 {
		mounts, err := mountsUnder(dir)
		if err != nil || len(mounts) == 0 {
			return err
		}
		for _, mp := range mounts {
			if out, err := exec.Command("umount", "--lazy", mp).CombinedOutput(); err != nil {
				last = fmt.Errorf("umount %s: %v: %s", mp, err, bytes.TrimSpace(out))
			}
		}
	}
	if mounts, _ := mountsUnder(dir); len(mounts) > 0 {
		return fmt.Errorf("mounts %v are left: %v", mounts, last)
	}
	return nil
}

// mountsUnder lists the mount points at or under dir, deepest first; a
// path listed twice has two mounts stacked on it.
func mountsUnder(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	slices.SortStableFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	return mounts, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
