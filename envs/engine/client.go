// Package engine runs a compose project as containers, networks and volumes
// on a Docker engine through the Docker SDK. It knows nothing of worktrees
// or ports: it receives a loaded, already isolated project and the labels to
// write, and finds everything it made again by label.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/moby/client"
)

// ErrUnreachable means no Docker engine answered.
var ErrUnreachable = errors.New("Docker engine unreachable")

// Docker is a connection to one Docker engine. It implements the engine
// seam of package envs: every method is documented there, and the contract
// tests in this package check each against a real engine.
type Docker struct {
	api  *client.Client
	host Host

	memMu    sync.Mutex
	memTotal int64

	// buildKitProbe is whether the engine offers BuildKit, probed on the
	// first build.
	buildKitProbe buildKitProbe

	// passed holds, by container ID, the start time of the run in which
	// wtenv's own probe of its healthcheck passed (see probe.go).
	passed sync.Map
}

// New connects to the engine that DOCKER_HOST, else DOCKER_CONTEXT or the
// current docker CLI context, else the default socket names, and checks
// that it answers. The client negotiates the API version, so engines as old
// as API 1.41 work.
func New(ctx context.Context) (*Docker, error) {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "ssh://") {
		return Dial(ctx, h)
	}
	opts := []client.Opt{client.FromEnv}
	if os.Getenv("DOCKER_HOST") == "" {
		ctxOpts, err := contextOpts(envContext())
		if err != nil {
			return nil, err
		}
		opts = append(opts, ctxOpts...)
	}
	return open(ctx, opts, "", "point DOCKER_HOST at a running engine")
}

// Dial connects to the engine at host, an address (unix://, tcp://,
// ssh://, npipe://) or the name of a Docker context, and checks that it
// answers: an engine of the pool. TCP uses TLS when DOCKER_CERT_PATH names
// the certificates, as Docker's own settings do.
func Dial(ctx context.Context, host string) (*Docker, error) {
	opts := []client.Opt{client.WithAPIVersionFromEnv()}
	if strings.HasPrefix(host, "ssh://") {
		ssh, err := sshOpts(host)
		if err != nil {
			return nil, err
		}
		return open(ctx, append(opts, ssh...), host, "check that `ssh "+strings.TrimPrefix(host, "ssh://")+" docker version` works without a password")
	}
	if strings.Contains(host, "://") {
		opts = append(opts, client.WithHost(host))
		if os.Getenv("DOCKER_CERT_PATH") != "" && strings.HasPrefix(host, "tcp://") {
			opts = append(opts, client.WithTLSClientConfigFromEnv())
		}
	} else {
		ctxOpts, err := contextOpts(host)
		if err != nil {
			return nil, err
		}
		opts = append(opts, ctxOpts...)
	}
	return open(ctx, opts, "", "start it or fix its entry in the engines file")
}

// open makes the client and checks that the engine answers; endpoint, when
// set, is the engine's address as the user wrote it (an ssh:// engine's
// client talks to a placeholder host).
func open(ctx context.Context, opts []client.Opt, endpoint, fix string) (*Docker, error) {
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w; %s", ErrUnreachable, err, fix)
	}
	if endpoint == "" {
		endpoint = api.DaemonHost()
	}
	e := &Docker{api: api, host: HostOf(endpoint)}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		if e.host.Local {
			fix = "start it (on Linux: `sudo systemctl start docker` or `sudo dockerd &`; elsewhere start Docker Desktop), or " + fix
		}
		return nil, fmt.Errorf("%w at %s: %w; %s", ErrUnreachable, e.host.Endpoint, err, fix)
	}
	return e, nil
}

// Close releases the connection.
func (e *Docker) Close() error { return e.api.Close() }

// Host tells where the engine runs.
func (e *Docker) Host() Host { return e.host }

// contextOpts are the client options of the Docker context name: its
// engine address and, when it has them, its TLS files; none for the
// default context.
func contextOpts(name string) ([]client.Opt, error) {
	host, tlsDir, err := contextEndpoint(name)
	if err != nil {
		return nil, err
	}
	var opts []client.Opt
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	if tlsDir != "" {
		opts = append(opts, client.WithTLSClientConfig(
			filepath.Join(tlsDir, "ca.pem"), filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")))
	}
	return opts, nil
}

// configDir is the docker CLI's config folder.
func configDir() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker")
}

// envContext is the Docker context Docker's settings name: DOCKER_CONTEXT,
// else the CLI's current context ("" for none).
func envContext() string {
	if name := os.Getenv("DOCKER_CONTEXT"); name != "" {
		return name
	}
	dir := configDir()
	if dir == "" {
		return ""
	}
	var cfg struct {
		CurrentContext string `json:"currentContext"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		_ = json.Unmarshal(b, &cfg)
	}
	return cfg.CurrentContext
}

// contextEndpoint returns the engine address of the Docker context name
// and the folder of its TLS files when it has them; "" for the default
// context. It reads the CLI's context store directly:
// contexts/meta/<sha256 of the name>/meta.json and
// contexts/tls/<same>/docker/{ca,cert,key}.pem in the CLI config dir.
func contextEndpoint(name string) (host, tlsDir string, err error) {
	dir := configDir()
	if name == "" || name == "default" || dir == "" {
		return "", "", nil
	}
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	path := filepath.Join(dir, "contexts", "meta", id, "meta.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("%w: docker context %q not found (%w); run `docker context ls`, or name another", ErrUnreachable, name, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", "", fmt.Errorf("%w: docker context %q: %w", ErrUnreachable, name, err)
	}
	tls := filepath.Join(dir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(filepath.Join(tls, "ca.pem")); err != nil {
		tls = ""
	}
	return meta.Endpoints["docker"].Host, tls, nil
}
