// Package forward makes ports of a remote engine answer on this machine:
// for each port it listens on 127.0.0.1 and relays every connection to the
// same port at the engine's address, so an app on another machine answers
// where it would if it ran here.
package forward

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Forwarder holds one listener per forwarded port.
type Forwarder struct {
	mu sync.Mutex
	ls map[int]*listener
	// Logf reports what changes and what fails; may be nil.
	Logf func(format string, args ...any)
}

type listener struct {
	target string
	ln     net.Listener
}

// Set forwards exactly the ports of targets (host port → "address:port"
// to relay to): new ones start listening on 127.0.0.1, gone or changed
// ones stop. A port that cannot be listened on is reported and skipped;
// the others still forward.
func (f *Forwarder) Set(targets map[int]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ls == nil {
		f.ls = map[int]*listener{}
	}
	for port, l := range f.ls {
		if targets[port] != l.target {
			l.ln.Close()
			delete(f.ls, port)
			f.logf("stopped forwarding 127.0.0.1:%d", port)
		}
	}
	var errs []error
	for port, target := range targets {
		if _, ok := f.ls[port]; ok {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			errs = append(errs, fmt.Errorf("forward 127.0.0.1:%d to %s: %w", port, target, err))
			continue
		}
		f.ls[port] = &listener{target: target, ln: ln}
		f.logf("forwarding 127.0.0.1:%d to %s", port, target)
		go serve(ln, target)
	}
	return errors.Join(errs...)
}

// Ports are the ports being forwarded.
func (f *Forwarder) Ports() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for port := range f.ls {
		out = append(out, port)
	}
	return out
}

// Close stops every listener; connections under way end with their peers.
func (f *Forwarder) Close() {
	f.Set(nil)
}

func (f *Forwarder) logf(format string, args ...any) {
	if f.Logf != nil {
		f.Logf(format, args...)
	}
}

// dialWait bounds how long a relayed connection waits for the engine.
const dialWait = 10 * time.Second

func serve(ln net.Listener, target string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed
		}
		go relay(c, target)
	}
}

func relay(c net.Conn, target string) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", target, dialWait)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}
