package compose

import (
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// PortRef identifies one host port a service publishes: one container
// port, on one host address, for each protocol the file lists it with.
type PortRef struct {
	// Service is the service's name.
	Service string
	// Indexes are the positions in the service's ports (after loading,
	// where compose-go has expanded each range into one entry per port)
	// of the entries that share this host port: 5000/tcp and 5000/udp
	// are one port to the user, as they are to Docker Compose when it
	// picks the host port.
	Indexes []int
	// Target is the container port.
	Target uint32
	// Protocols are the protocols (tcp, udp) published on it.
	Protocols []string
	// HostIP is the host address the file binds to, or "".
	HostIP string
	// Published is the host port as the file wrote it: a port, a range to
	// pick from, or "" for any free port.
	Published string
}

// Published lists every port of p's enabled services that reaches the host,
// in a stable order: services by name, then their ports in order. This is
// the order in which Isolate takes host ports.
//
// Every entry of ports counts, including a container port alone such as
// "8080": Docker Compose publishes it on a random host port, and wtenv gives
// it a port of the stack's block instead so that it is known in advance.
// Ports listed under expose reach only other containers and are not listed,
// nor are the ports of a service that is not started (scaled to zero) or
// that has no network of its own to publish from (network_mode host,
// service: or container:), where Docker discards them.
func Published(p *types.Project) []PortRef {
	var refs []PortRef
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		if !Starts(s) || !ownNetwork(s) {
			continue
		}
		type same struct {
			target            uint32
			hostIP, published string
		}
		first := map[same]int{} // → index into refs
		for i, port := range s.Ports {
			key := same{port.Target, port.HostIP, port.Published}
			if at, ok := first[key]; ok && !slices.Contains(refs[at].Protocols, protocol(port)) {
				refs[at].Indexes = append(refs[at].Indexes, i)
				refs[at].Protocols = append(refs[at].Protocols, protocol(port))
				continue
			}
			first[key] = len(refs)
			refs = append(refs, PortRef{
				Service:   name,
				Indexes:   []int{i},
				Target:    port.Target,
				Protocols: []string{protocol(port)},
				HostIP:    port.HostIP,
				Published: port.Published,
			})
		}
	}
	return refs
}

func protocol(port types.ServicePortConfig) string {
	if port.Protocol == "" {
		return "tcp"
	}
	return port.Protocol
}

// Starts reports whether up starts the service: Docker Compose creates no
// container for a service scaled to zero.
func Starts(s types.ServiceConfig) bool {
	if s.Scale != nil && *s.Scale == 0 {
		return false
	}
	return s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != 0
}

// ownNetwork reports whether the service has a network namespace of its
// own, where published ports mean something.
func ownNetwork(s types.ServiceConfig) bool {
	m := s.NetworkMode
	return m != "host" && !strings.HasPrefix(m, types.NetworkModeServicePrefix) && !strings.HasPrefix(m, "container:")
}
