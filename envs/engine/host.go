package engine

import (
	"net"
	"net/url"
	"strings"
)

// Host is where an engine runs, as far as wtenv cares: whether it is this
// machine, and which address its published ports answer on from here.
type Host struct {
	// Endpoint is the engine's address as Docker names it
	// (unix:///var/run/docker.sock, tcp://10.0.0.5:2376, ssh://me@bigbox).
	Endpoint string
	// Local means the engine runs on this machine, or in a VM whose ports
	// and files this machine shares (Docker Desktop): host ports are probed
	// here, bind mounts name this machine's paths, and published ports
	// answer on 127.0.0.1.
	Local bool
	// Address is the host name or IP that URLs of published ports carry:
	// 127.0.0.1 for a local engine, the remote machine's name otherwise.
	Address string
}

// HostOf describes the engine at endpoint. A Unix socket or named pipe is
// this machine; so is TCP to a loopback address. Anything else (tcp:// to
// another machine, ssh://) is remote, reached at the endpoint's host name.
func HostOf(endpoint string) Host {
	h := Host{Endpoint: endpoint, Local: true, Address: "127.0.0.1"}
	u, err := url.Parse(endpoint)
	if err != nil {
		return h
	}
	switch u.Scheme {
	case "unix", "npipe", "":
		return h
	}
	name := u.Hostname()
	if name == "" || name == "localhost" || isLoopback(name) {
		return h
	}
	h.Local, h.Address = false, name
	return h
}

func isLoopback(name string) bool {
	ip := net.ParseIP(strings.Trim(name, "[]"))
	return ip != nil && ip.IsLoopback()
}
