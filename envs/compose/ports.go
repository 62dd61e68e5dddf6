package compose

import (
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// PortRef identifies one port a service publishes on the host.
type PortRef struct {
	// Service is the service's name.
	Service string
	// Index is the position of the port in the service's ports after
	// loading, where compose-go has expanded each range into one entry per
	// port.
	Index int
	// Target is the container port.
	Target uint32
	// Protocol is tcp or udp.
	Protocol string
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
// Ports listed under expose reach only other containers and are not listed.
func Published(p *types.Project) []PortRef {
	var refs []PortRef
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		for i, port := range p.Services[name].Ports {
			refs = append(refs, PortRef{
				Service:   name,
				Index:     i,
				Target:    port.Target,
				Protocol:  port.Protocol,
				HostIP:    port.HostIP,
				Published: port.Published,
			})
		}
	}
	return refs
}
