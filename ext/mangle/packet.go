package mangle

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// What the packet semantics of some targets need of the host beyond
// xtables.Env. The packet path provides them by implementing these
// methods on its Env; without one the target does what the comment of
// its TargetPacket says.

// RouteMTU is what TCPMSS --clamp-mss-to-pmtu reads: the MTU of the
// packet's route (dst_mtu(skb_dst(skb))) and of the route back to its
// source (tcpmss_reverse_mtu; ^0 when there is none).
type RouteMTU interface {
	RouteMTU(st *xtables.PacketState) (out, reverse uint32)
}

// Duplicator is nf_dup_ipv4/nf_dup_ipv6 for TEE: send a copy of the
// current packet to gw (through oif when given), as the kernel does
// before the original goes on.
type Duplicator interface {
	Duplicate(st *xtables.PacketState, gw netip.Addr, oif string)
}

// TproxySocket is the socket look-up of TPROXY (nf_tproxy_get_sock_v4/v6
// for an established socket of the packet's addresses, else a listener
// on laddr:lport; a TIME_WAIT socket handled as
// nf_tproxy_handle_time_wait4/6 does): found reports a transparent
// socket, which the host assigns to the packet (nf_tproxy_assign_sock).
// laddr is the target's address, or the in device's primary address when
// the rule gives none (nf_tproxy_laddr4/6).
type TproxySocket interface {
	TproxyAssign(st *xtables.PacketState, laddr netip.Addr, lport uint16) (found bool)
}

// SynproxyHost answers for SYNPROXY: SynAck sends the SYN cookie SYN/ACK
// for a client's SYN (synproxy_send_client_synack); ClientACK checks the
// cookie of the client's ACK and, when valid, opens the connection to the
// server (synproxy_recv_client_ack). opts are the options the target
// allows (XT_SYNPROXY_OPT_*), mss and wscale its values.
type SynproxyHost interface {
	SynproxySynAck(st *xtables.PacketState, opts uint8, mss uint16, wscale uint8)
	SynproxyClientACK(st *xtables.PacketState, opts uint8, mss uint16, wscale uint8) bool
}

// CTTemplateHost receives what the CT target attaches to the packet for
// conntrack (the kernel's template conntrack: zone and its direction or
// mark source, helper, timeout policy, event masks).
type CTTemplateHost interface {
	SetCTTemplate(st *xtables.PacketState, t *CT)
}

// PriorityHost receives skb->priority (CLASSIFY).
type PriorityHost interface {
	SetPriority(st *xtables.PacketState, prio uint32)
}
