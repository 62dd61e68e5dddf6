package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtenv/wtenv/envs/enginetest"
)

// An ssh:// engine is reached through `ssh … docker system dial-stdio`,
// as the docker CLI reaches one. A stand-in ssh on PATH checks the
// arguments it gets and relays to this machine's engine; a refused login
// comes back with ssh's own words and the command to try.
func TestSSHEngine(t *testing.T) {
	enginetest.RequireDocker(t)
	local := os.Getenv("DOCKER_HOST")
	if local == "" {
		local = "unix:///var/run/docker.sock"
	}
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	ssh := filepath.Join(dir, "ssh")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(ssh, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("#!/bin/sh\necho \"$@\" >> " + args + "\nexec docker -H " + local + " system dial-stdio\n")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Dial(ctx, "ssh://me@bigbox:2222")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if h := d.Host(); h.Local || h.Address != "bigbox" || h.Endpoint != "ssh://me@bigbox:2222" {
		t.Errorf("host %+v", h)
	}
	if _, err := d.Snapshot(ctx, Scope{}); err != nil {
		t.Errorf("snapshot over ssh: %v", err)
	}
	b, _ := os.ReadFile(args)
	first, _, _ := strings.Cut(string(b), "\n")
	if want := "-o BatchMode=yes -o ConnectTimeout=10 -l me -p 2222 -- bigbox docker system dial-stdio"; first != want {
		t.Errorf("ssh got %q, want %q", first, want)
	}

	write("#!/bin/sh\necho 'me@bigbox: Permission denied (publickey).' >&2\nexit 255\n")
	_, err = Dial(ctx, "ssh://me@bigbox")
	if err == nil || !strings.Contains(err.Error(), "Permission denied") || !strings.Contains(err.Error(), "ssh me@bigbox docker version") {
		t.Errorf("refused login: %v", err)
	}
	if _, err := Dial(ctx, "ssh:///nohost"); err == nil || !strings.Contains(err.Error(), "ssh://user@host") {
		t.Errorf("no host: %v", err)
	}
}
