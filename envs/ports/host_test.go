package ports

import (
	"net"
	"testing"
)

// portOf returns the port of a listener's address.
func portOf(t *testing.T, addr net.Addr) int {
	t.Helper()
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.Port
	case *net.UDPAddr:
		return a.Port
	}
	t.Fatalf("unexpected address %v", addr)
	return 0
}

func TestHostFree(t *testing.T) {
	tests := []struct {
		name    string
		network string // what holds the port
		addr    string
		udp     bool // what HostFree is asked to check
		want    bool
	}{
		{"tcp on loopback", "tcp", "127.0.0.1:0", false, false},
		{"tcp on wildcard", "tcp", "0.0.0.0:0", false, false},
		{"udp on loopback, udp checked", "udp", "127.0.0.1:0", true, false},
		{"udp on loopback, udp not checked", "udp", "127.0.0.1:0", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var port int
			var closeFn func() error
			if tt.network == "tcp" {
				l, err := net.Listen("tcp", tt.addr)
				if err != nil {
					t.Fatal(err)
				}
				port, closeFn = portOf(t, l.Addr()), l.Close
			} else {
				c, err := net.ListenPacket("udp", tt.addr)
				if err != nil {
					t.Fatal(err)
				}
				port, closeFn = portOf(t, c.LocalAddr()), c.Close
			}
			if got := HostFree(port, tt.udp); got != tt.want {
				t.Errorf("HostFree(%d, %v) with %s %s held = %v, want %v", port, tt.udp, tt.network, tt.addr, got, tt.want)
			}
			if err := closeFn(); err != nil {
				t.Fatal(err)
			}
			if !HostFree(port, tt.udp) {
				t.Errorf("HostFree(%d, %v) = false after the holder closed", port, tt.udp)
			}
		})
	}
}

func TestHostFreeRejectsInvalidPorts(t *testing.T) {
	for _, p := range []int{-1, 0, 65536} {
		if HostFree(p, false) {
			t.Errorf("HostFree(%d) = true", p)
		}
	}
}
