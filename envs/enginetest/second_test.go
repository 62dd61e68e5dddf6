package enginetest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// TestSecondEngine starts a second engine, reaches it over TCP from the
// host, loads an image into it, reaches a container's published port at
// the engine's address, stops and starts it again on the same data, and
// then checks that its cleanup left nothing behind.
func TestSecondEngine(t *testing.T) {
	Full(t)
	var s *SecondEngine
	var pids []int
	t.Run("engine", func(t *testing.T) {
		// Registered first, so it runs last: how long the cleanups take.
		var end time.Time
		t.Cleanup(func() {
			if s != nil {
				t.Logf("timing: cleanup %v", time.Since(end).Round(time.Millisecond))
			}
		})
		defer func() { end = time.Now() }()
		began := time.Now()
		s = StartSecondEngine(t)
		t.Logf("timing: start %v", time.Since(began).Round(time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()

		api := s.Client(t)
		info, err := api.Info(ctx, client.InfoOptions{})
		if err != nil {
			t.Fatalf("info over %s: %v", s.Host, err)
		}
		if info.Info.Name != s.Name || info.Info.DockerRootDir != filepath.Join(s.Dir, "data") {
			t.Fatalf("engine at %s is %q with root %s, want %q with root %s/data", s.Host, info.Info.Name, info.Info.DockerRootDir, s.Name, s.Dir)
		}
		pids = append(pids, s.daemonPIDs(t)...)

		image := KVImage(t)
		began = time.Now()
		s.LoadImages(t, image)
		t.Logf("timing: image load %v", time.Since(began).Round(time.Millisecond))

		created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name: "second-kv",
			Config: &container.Config{
				Image:        image,
				ExposedPorts: network.PortSet{network.MustParsePort("8080/tcp"): {}},
			},
			HostConfig: &container.HostConfig{
				PortBindings: network.PortMap{network.MustParsePort("8080/tcp"): {{}}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		port := startAndReachKV(ctx, t, api, s, created.ID)

		// The container is the second engine's, not the main one's.
		main, err := client.New(client.FromEnv)
		if err != nil {
			t.Fatal(err)
		}
		defer main.Close()
		if _, err := main.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{}); err == nil {
			t.Fatalf("the main engine knows the second engine's container %s", created.ID[:12])
		}

		began = time.Now()
		s.Stop(t)
		t.Logf("timing: stop %v", time.Since(began).Round(time.Millisecond))
		pingCtx, pingCancel := context.WithTimeout(ctx, 3*time.Second)
		_, err = api.Ping(pingCtx, client.PingOptions{})
		pingCancel()
		if err == nil {
			t.Fatalf("the stopped engine still answers at %s", s.Host)
		}
		t.Logf("stopped: ping fails: %v", err)
		if _, err := httpBody(fmt.Sprintf("http://%s:%s/health", s.Addr, port)); err == nil {
			t.Fatalf("port %s still answers with the engine stopped", port)
		}

		began = time.Now()
		s.Start(t)
		t.Logf("timing: restart %v", time.Since(began).Round(time.Millisecond))
		if _, err := api.Ping(ctx, client.PingOptions{}); err != nil {
			t.Fatalf("the restarted engine does not answer: %v", err)
		}
		if _, err := api.ImageInspect(ctx, image); err != nil {
			t.Fatalf("image %s is gone after the restart: %v", image, err)
		}
		startAndReachKV(ctx, t, api, s, created.ID)
		pids = append(pids, s.daemonPIDs(t)...)
	})
	if s == nil || t.Skipped() {
		return
	}

	// The subtest's cleanups have run: nothing of the engine may be left.
	if _, err := os.Stat(filepath.Join(netnsDir, s.Name)); err == nil {
		t.Errorf("netns %s is left", s.Name)
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", s.veth)); err == nil {
		t.Errorf("veth %s is left", s.veth)
	}
	if _, err := os.Stat(s.Dir); err == nil {
		t.Errorf("%s is left", s.Dir)
	}
	if left := waitGone(pids, 0); len(left) > 0 {
		t.Errorf("daemons %v still run", left)
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), s.Dir) {
		t.Errorf("mounts under %s are left", s.Dir)
	}
}

// daemonPIDs returns the pids of the running dockerd and its containerd.
func (s *SecondEngine) daemonPIDs(t *testing.T) []int {
	t.Helper()
	d, c := s.dockerd.cmd.Process.Pid, pidFromFile(filepath.Join(s.Dir, "containerd.pid"))
	if !cmdlineHas(d, s.Dir) || !cmdlineHas(c, s.Dir) {
		t.Fatalf("dockerd (%d) or containerd (%d) is not running", d, c)
	}
	return []int{d, c}
}

// startAndReachKV starts the container and returns its published port once
// the host reaches the service at the engine's address.
func startAndReachKV(ctx context.Context, t *testing.T, api *client.Client, s *SecondEngine, id string) string {
	t.Helper()
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	insp, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound := insp.Container.NetworkSettings.Ports[network.MustParsePort("8080/tcp")]
	if len(bound) == 0 {
		t.Fatalf("port 8080 is not published: %v", insp.Container.NetworkSettings.Ports)
	}
	port := bound[0].HostPort
	url := fmt.Sprintf("http://%s:%s/health", s.Addr, port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		body, err := httpBody(url)
		if err == nil && body == "ok\n" {
			t.Logf("reached %s from the host", url)
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host cannot reach %s: %q, %v", url, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpBody(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}
