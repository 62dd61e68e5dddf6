package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// The current docker CLI context is honoured the way the CLI stores it.
func TestContextEndpoint(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_CONTEXT", "")
	if host, tls, err := contextEndpoint(envContext()); err != nil || host != "" || tls != "" {
		t.Fatalf("no config: %q %q %v", host, tls, err)
	}
	sum := sha256.Sum256([]byte("remote"))
	id := hex.EncodeToString(sum[:])
	write := func(path, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "config.json"), `{"currentContext":"remote"}`)
	write(filepath.Join(dir, "contexts", "meta", id, "meta.json"), `{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376"}}}`)
	host, tls, err := contextEndpoint(envContext())
	if err != nil || host != "tcp://10.0.0.5:2376" || tls != "" {
		t.Fatalf("current context: %q %q %v", host, tls, err)
	}
	write(filepath.Join(dir, "contexts", "tls", id, "docker", "ca.pem"), "x")
	if _, tls, _ := contextEndpoint(envContext()); tls != filepath.Join(dir, "contexts", "tls", id, "docker") {
		t.Errorf("tls dir %q", tls)
	}
	t.Setenv("DOCKER_CONTEXT", "missing")
	if _, _, err := contextEndpoint(envContext()); err == nil {
		t.Error("a missing context is not an error")
	}
	t.Setenv("DOCKER_CONTEXT", "default")
	if host, _, err := contextEndpoint(envContext()); err != nil || host != "" {
		t.Errorf("default context: %q %v", host, err)
	}
}
