package ports

import (
	"net"
	"strconv"
)

// HostFree reports whether nothing listens on port. It binds the port on
// 127.0.0.1 and on the wildcard address, and for UDP too when udp is set,
// closing each socket at once. Both binds are needed: a listener on the
// wildcard blocks a loopback bind and a loopback listener blocks a wildcard
// bind, and stacks publish on either. Go binds "0.0.0.0" with network "tcp"
// dual-stack where the system allows, so IPv6 wildcard listeners count too.
//
// The answer can be stale by the time a container binds the port; callers
// accept that, as the engine then reports the conflict.
func HostFree(port int, udp bool) bool {
	if port < 1 || port > 65535 {
		return false
	}
	for _, host := range []string{"127.0.0.1", "0.0.0.0"} {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		_ = l.Close()
		if !udp {
			continue
		}
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		_ = c.Close()
	}
	return true
}
