// Package stack is a twin host's packet path: what a Linux 6.x host does
// with a packet that arrives on one of its interfaces or that one of its
// sockets sends, hook by hook in the kernel's order.
//
//	receive (ip_rcv)    PREROUTING: defrag -400, raw -300, conntrack -200, mangle -150, nat DNAT -100
//	route input         local → INPUT: mangle -150, filter 0, security 50, nat SNAT 100, confirm
//	                    forward → TTL check and decrement → FORWARD: mangle, filter, security
//	local out           route output → OUTPUT: raw, conntrack, mangle, nat DNAT, filter, security
//	                    (re-routed when the mark or the destination changed)
//	post routing        POSTROUTING: mangle -150, nat SNAT 100, confirm → fragment → transmit
//
// IPsec (xfrm*.go): the output policy is looked up when the route is made
// (local output and ip_forward), with the packet's addresses before NAT,
// and again when NAT changes them (nf_xfrm_me_harder); a bundle turns the
// packet into ESP after POSTROUTING, and the ESP packet goes round OUTPUT
// and POSTROUTING itself. ESP (and ESP in UDP on an IKE daemon's 4500
// socket) delivered to the host is decapsulated and received again on the
// same device with its secpath; the fwd policy check runs at the start of
// ip_forward, the in check where the protocol takes the packet.
//
// A Host owns its rule sets (compiled per table), its network
// configuration (package host), its clock and random source; packets it
// emits go to the Emit callback, LOG lines to Log. Packets the host
// generates while handling another (a REJECT reply, a TCP RST, an echo
// reply, a packet to itself over lo) are queued and handled after it, in
// order, so every run is deterministic.
package stack
