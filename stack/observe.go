package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Observer sees every step a host takes with its packets (iptwin trace).
// The host calls it only when set; implementations may allocate.
type Observer interface {
	xtables.Tracer
	// Begin starts a packet the host generated itself (origin says what:
	// "tcp reset", "icmp error", "loopback" …); End gives its fate.
	Begin(origin, in string, p *packet.Packet)
	End(r Result)
	// Hook: the packet enters a hook.
	Hook(f xtables.Family, hook int)
	// Route is a routing decision (r nil and err set when there is none).
	Route(dst netip.Addr, r *host.Route, err error)
	// Emit: a frame leaves by dev.
	Emit(dev string, frame []byte)
	// Unresolved: a frame could not be sent, its next hop unknown.
	Unresolved(dev string, nexthop netip.Addr)
	// Note is a step of the path that is not a rule: defragmentation,
	// conntrack, NAT.
	Note(kind, text string)
	// Log: a LOG line.
	Log(level uint8, line []byte)
}
