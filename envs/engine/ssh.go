package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// sshOpts are the client options of an ssh://[user@]host[:port] engine:
// each connection runs `ssh … docker system dial-stdio` on that machine,
// as the docker CLI does for such hosts, so the remote machine needs only
// sshd and the docker CLI, and this one an ssh client whose keys or agent
// reach it without a password (BatchMode: wtenv never prompts).
func sshOpts(endpoint string) ([]client.Opt, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: %q is not an ssh engine address; write it as ssh://user@host or ssh://user@host:port", ErrUnreachable, endpoint)
	}
	args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=10"}
	if u.User != nil && u.User.Username() != "" {
		args = append(args, "-l", u.User.Username())
	}
	if p := u.Port(); p != "" {
		args = append(args, "-p", p)
	}
	args = append(args, "--", u.Hostname(), "docker", "system", "dial-stdio")
	dial := func(context.Context, string, string) (net.Conn, error) {
		return dialCommand("ssh", args...)
	}
	// The host is a placeholder: every connection goes through dial.
	return []client.Opt{client.WithHost("http://docker.example.com"), client.WithDialContext(dial)}, nil
}

// dialCommand starts name with args and speaks to it over its standard
// input and output. The command outlives the dial's context: it is the
// connection, and Close ends it.
func dialCommand(name string, args ...string) (net.Conn, error) {
	cmd := exec.Command(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &commandConn{cmd: cmd, in: stdin, out: stdout}
	cmd.Stderr = &c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w; install an ssh client", name, err)
	}
	return c, nil
}

// commandConn is a connection over a command's standard input and output.
type commandConn struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    io.ReadCloser
	stderr lockedBuffer
	once   sync.Once
}

func (c *commandConn) Read(p []byte) (int, error) {
	n, err := c.out.Read(p)
	if err == io.EOF && n == 0 {
		if why := c.ended(); why != nil {
			return 0, why
		}
	}
	return n, err
}

// Write fails when the command has ended (a broken pipe); its stderr then
// says why, as for Read.
func (c *commandConn) Write(p []byte) (int, error) {
	n, err := c.in.Write(p)
	if err != nil {
		if why := c.ended(); why != nil {
			return n, why
		}
	}
	return n, err
}

// ended waits for the command that ended and returns what its stderr
// says (a refused login, a missing docker), or nil when it said nothing.
func (c *commandConn) ended() error {
	c.wait()
	msg := strings.TrimSpace(c.stderr.String())
	if msg == "" {
		return nil
	}
	if name := filepath.Base(c.cmd.Path); !strings.HasPrefix(msg, name+":") {
		msg = name + ": " + msg
	}
	return errors.New(msg)
}

func (c *commandConn) Close() error {
	c.in.Close()
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
	c.wait()
	return nil
}

// wait reaps the command, once.
func (c *commandConn) wait() { c.once.Do(func() { c.cmd.Wait() }) }

func (c *commandConn) LocalAddr() net.Addr              { return commandAddr{} }
func (c *commandConn) RemoteAddr() net.Addr             { return commandAddr{} }
func (c *commandConn) SetDeadline(time.Time) error      { return nil }
func (c *commandConn) SetReadDeadline(time.Time) error  { return nil }
func (c *commandConn) SetWriteDeadline(time.Time) error { return nil }

type commandAddr struct{}

func (commandAddr) Network() string { return "command" }
func (commandAddr) String() string  { return "command" }

// lockedBuffer keeps the first 4 KB a command writes to its stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4096 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
