package icmpgen

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// Options are what the kernel takes from outside the packet it answers:
// routing, sysctls, the checksum state of the skb and randomness. See the
// package documentation for each field's source.
type Options struct {
	// Src is the reply's source address where the kernel chooses it by
	// routing (SourceRule says when). Ignored where the kernel answers from
	// the packet's destination.
	Src netip.Addr
	// Local says the packet was addressed to this host: for IPv4 its route
	// is local (rt_flags & RTCF_LOCAL, INPUT or OUTPUT to an own address),
	// for IPv6 its destination is an address of the host (ipv6_chk_addr).
	// ICMP errors then come from the packet's destination.
	Local bool
	// RouteType is the RTN_* type of the packet's route (xtables.RTN*):
	// IPv4 errors and RSTs are never sent for broadcast or multicast
	// routes (RTCF_BROADCAST, RTCF_MULTICAST); the stack's RST needs
	// xtables.RTNLocal. 0 counts as unicast.
	RouteType int
	// NotHost says the frame was not addressed to this host's MAC
	// (skb->pkt_type != PACKET_HOST: link broadcast or multicast).
	NotHost bool
	// ChecksumValid says the transport checksum is known good
	// (skb_csum_unnecessary: CHECKSUM_UNNECESSARY, csum_valid, or
	// CHECKSUM_PARTIAL): a packet from a local socket (checksum left to
	// the device) or one whose checksum conntrack verified good. Otherwise
	// REJECT verifies it and sends nothing for a bad one. A bad checksum
	// conntrack saw stays bad: INPUT verifies it again and forwarding
	// resets the stored sum (skb_forward_csum), so there is no hook where
	// REJECT would take it as good (recorded: r4-fwd-rst-badsum-ct).
	ChecksumValid bool
	// TTL is the reply's TTL or hop limit; 0 means 64.
	TTL uint8
	// ID is the IPv4 identification of ICMP messages (random in the
	// kernel).
	ID uint16
	// FlowLabel is the IPv6 flow label of ICMPv6 messages and of the
	// stack's RST (an auto flow label hash in the kernel, 0 when
	// net.ipv6.auto_flowlabels=0).
	FlowLabel uint32
	// MTU is the reply route's MTU; IPv4 errors fit in min(MTU, 576)
	// bytes. 0 means at least 576.
	MTU int
}

func (o *Options) ttl() uint8 {
	if o.TTL == 0 {
		return 64
	}
	return o.TTL
}

// inaddrDummy is the source of an IPv4 ICMP error when the host has no
// address to send it from (INADDR_DUMMY, RFC 7600).
var inaddrDummy = netip.AddrFrom4([4]byte{192, 0, 0, 8})

// SrcRule names where a generated packet's source address comes from.
type SrcRule uint8

const (
	// SrcOrigDst: the original packet's destination. TCP RSTs (REJECT's
	// and the stack's) always; ICMP errors about packets addressed to
	// this host (Options.Local); echo replies to a unicast request.
	SrcOrigDst SrcRule = iota
	// SrcInboundAddr: IPv4 with net.ipv4.icmp_errors_use_inbound_ifaddr=1
	// for a packet that was being forwarded: inet_select_addr(in device,
	// original source, RT_SCOPE_LINK), the first primary address of the
	// input device in the source's subnet, else its first address of link
	// scope or wider (__icmp_send).
	SrcInboundAddr
	// SrcRoute: the preferred source of the route back to the original
	// source. IPv4: ip_route_output_key for daddr = original source with
	// no saddr (the route's prefsrc, else the output device's first
	// primary address in the gateway's or destination's subnet:
	// fib_select_default / inet_select_addr), 192.0.0.8 when the host has
	// none. IPv6: the route's prefsrc; else source address selection
	// (ipv6_dev_get_saddr, RFC 6724) with the input device preferred
	// (icmp6_send: parm->iif); else selection for the output route
	// (ip6_dst_lookup).
	SrcRoute
)

// SourceRule says which rule gives the source address of an ICMP error
// (icmp_send / icmp6_send) about a packet: local says the packet was
// addressed to this host (see Options.Local), forwarded that it arrived
// on an interface and was being routed on, inbound the value of
// net.ipv4.icmp_errors_use_inbound_ifaddr (IPv4 only).
func SourceRule(v6, local, forwarded, inbound bool) SrcRule {
	switch {
	case local:
		return SrcOrigDst
	case !v6 && forwarded && inbound:
		return SrcInboundAddr
	}
	return SrcRoute
}

// ICMP types and codes the package sends.
const (
	ICMPEchoReply       = 0
	ICMPDestUnreach     = 3
	ICMPTimeExceeded    = 11
	ICMPParamProblem    = 12
	ICMPNetUnreach      = 0
	ICMPHostUnreach     = 1
	ICMPProtUnreach     = 2
	ICMPPortUnreach     = 3
	ICMPFragNeeded      = 4
	ICMPNetProhibited   = 9  // ICMP_NET_ANO
	ICMPHostProhibited  = 10 // ICMP_HOST_ANO
	ICMPAdminProhibited = 13 // ICMP_PKT_FILTERED
	ICMPExcTTL          = 0
	ICMPExcFragTime     = 1

	ICMPv6DestUnreach     = 1
	ICMPv6PacketTooBig    = 2
	ICMPv6TimeExceeded    = 3
	ICMPv6ParamProblem    = 4
	ICMPv6EchoReply       = 129
	ICMPv6NoRoute         = 0
	ICMPv6AdminProhibited = 1
	ICMPv6NotNeighbour    = 2
	ICMPv6AddrUnreach     = 3
	ICMPv6PortUnreach     = 4
	ICMPv6PolicyFail      = 5
	ICMPv6RejectRoute     = 6
	ICMPv6ExcHopLimit     = 0
	ICMPv6ExcFragTime     = 1
	ICMPv6HdrField        = 0
	ICMPv6UnkNextHdr      = 1
	ICMPv6UnkOption       = 2
	ICMPv6HdrIncomplete   = 3
)

// RejectCode is the ICMP or ICMPv6 destination unreachable code REJECT
// sends for t (reject_tg / reject_tg6); ok is false for tcp-reset, for
// echo-reply (refused by the kernel) and for a type of the other family.
func RejectCode(t xtables.RejectType, v6 bool) (code uint8, ok bool) {
	if v6 {
		switch t {
		case xtables.RejectNoRoute:
			return ICMPv6NoRoute, true
		case xtables.RejectAdminProhibited:
			return ICMPv6AdminProhibited, true
		case xtables.RejectAddrUnreach:
			return ICMPv6AddrUnreach, true
		case xtables.RejectPortUnreach:
			return ICMPv6PortUnreach, true
		case xtables.RejectPolicyFail:
			return ICMPv6PolicyFail, true
		case xtables.RejectRejectRoute:
			return ICMPv6RejectRoute, true
		}
		return 0, false
	}
	switch t {
	case xtables.RejectNetUnreach:
		return ICMPNetUnreach, true
	case xtables.RejectHostUnreach:
		return ICMPHostUnreach, true
	case xtables.RejectProtoUnreach:
		return ICMPProtUnreach, true
	case xtables.RejectPortUnreach:
		return ICMPPortUnreach, true
	case xtables.RejectNetProhibited:
		return ICMPNetProhibited, true
	case xtables.RejectHostProhibited:
		return ICMPHostProhibited, true
	case xtables.RejectAdminProhibited:
		return ICMPAdminProhibited, true
	}
	return 0, false
}
