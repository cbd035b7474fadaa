package icmpgen

import (
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The stack's own answers: what the kernel sends when no rule is
// involved. They assume the packet reached the layer that answers (a
// whole datagram, IP header checks passed); the checks of that layer that
// silence the answer are made here.

// ErrorBytes is Error on the raw IP packet b (from its IP header to the
// end its length field gives).
func ErrorBytes(dst, b []byte, typ, code uint8, info uint32, o Options) ([]byte, bool) {
	switch {
	case len(b) >= 40 && b[0]>>4 == 6:
		return error6(dst, b, typ, code, info, &o)
	case len(b) >= 20 && b[0]>>4 == 4:
		return error4(dst, b, typ, code, info, &o)
	}
	return dst, false
}

// StackReset appends the RST the TCP stack sends for a segment no socket
// takes (tcp_v4_send_reset, tcp_v6_send_reset) and reports whether one is
// sent: not for a RST, a segment to a non-local route or not addressed to
// this host's MAC, a header shorter than 20 bytes or than its data offset,
// or a bad checksum (tcp_v4_rcv / tcp_v6_rcv drop it first).
//
// Unlike REJECT's RST (Reset) it copies orig's TOS / traffic class
// without the ECN bits, and an IPv6 RST carries o.FlowLabel (an auto flow
// label, or orig's with net.ipv6.flowlabel_reflect bit 1). Also DF and ID
// 0, TTL o.TTL.
func StackReset(dst []byte, orig *packet.Packet, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil || o.NotHost || o.RouteType != 0 && o.RouteType != xtables.RTNLocal {
		return dst, false
	}
	v6 := orig.IsIPv6()
	var off int
	if v6 {
		var proto uint8
		var fo uint16
		off, proto, fo = skipExthdr(b)
		if off < 0 || proto != packet.ProtoTCP || fo&^7 != 0 {
			return dst, false
		}
	} else {
		if be.Uint16(b[6:])&0x1fff != 0 || b[9] != packet.ProtoTCP {
			return dst, false
		}
		off = int(b[0]&0xf) * 4
	}
	if off+20 > len(b) {
		return dst, false
	}
	th := b[off:]
	doff := int(th[12]>>4) * 4
	if doff < 20 || doff > len(th) || th[13]&packet.TCPRst != 0 {
		return dst, false
	}
	if v6 {
		if !o.ChecksumValid && !csumOK6(b, packet.ProtoTCP, off) {
			return dst, false
		}
		osrc, odst := v6Addrs(b)
		tc := uint8(be.Uint32(b)>>20) &^ 3
		dst = appendIPv6(dst, tc, o.FlowLabel, 20, packet.ProtoTCP, o.ttl(), odst, osrc)
		return appendRST(dst, th, len(b)-off, odst, osrc), true
	}
	if !o.ChecksumValid && !csumOK4(b, packet.ProtoTCP, off) {
		return dst, false
	}
	osrc, odst := v4Addrs(b)
	dst = appendIPv4(dst, b[1]&^3, 40, 0, true, o.ttl(), packet.ProtoTCP, odst, osrc)
	return appendRST(dst, th, len(b)-off, odst, osrc), true
}

// PortUnreachable appends the ICMP or ICMPv6 port unreachable the UDP
// stack sends for a datagram no socket takes (__udp4_lib_rcv,
// __udp6_lib_rcv) and reports whether one is sent. The datagram is cut to
// its UDP length first, so bytes beyond it are not quoted; there is no
// answer for a bad UDP length or checksum, for an IPv6 datagram without
// checksum, or for a broadcast or multicast destination. The error comes
// from orig's destination.
func PortUnreachable(dst []byte, orig *packet.Packet, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil || o.RouteType == xtables.RTNBroadcast || o.RouteType == xtables.RTNMulticast {
		return dst, false
	}
	v6 := orig.IsIPv6()
	var off int
	if v6 {
		var proto uint8
		var fo uint16
		off, proto, fo = skipExthdr(b)
		if off < 0 || proto != packet.ProtoUDP || fo&^7 != 0 || ipv6AddrType(b[24:40])&addrMulticast != 0 {
			return dst, false
		}
	} else {
		if be.Uint16(b[6:])&0x1fff != 0 || b[9] != packet.ProtoUDP {
			return dst, false
		}
		off = int(b[0]&0xf) * 4
	}
	if off+8 > len(b) {
		return dst, false
	}
	ulen := int(be.Uint16(b[off+4:]))
	if ulen == 0 && v6 {
		ulen = len(b) - off // jumbogram convention of __udp6_lib_rcv
	}
	if ulen > len(b)-off || ulen < 8 {
		return dst, false
	}
	b = b[:off+ulen]
	check := be.Uint16(b[off+6:])
	switch {
	case check == 0 && v6:
		return dst, false // RFC 8200 8.1: no zero checksum over IPv6
	case check != 0 && !o.ChecksumValid:
		ok := false
		if v6 {
			ok = csumOK6(b, packet.ProtoUDP, off)
		} else {
			src, to := v4Addrs(b)
			ok = packet.Checksum(b[off:], packet.PseudoSum(src, to, packet.ProtoUDP, ulen)) == 0
		}
		if !ok {
			return dst, false
		}
	}
	o.Local = true
	if v6 {
		return error6(dst, b, ICMPv6DestUnreach, ICMPv6PortUnreach, 0, &o)
	}
	return error4(dst, b, ICMPDestUnreach, ICMPPortUnreach, 0, &o)
}

// ProtoUnreachable appends what the host sends for a packet addressed to
// it with a protocol nothing handles (ip_protocol_deliver_rcu: ICMP
// protocol unreachable; ip6_protocol_deliver_rcu: ICMPv6 parameter
// problem "unrecognized next header" pointing at the next-header byte
// that named it).
func ProtoUnreachable(dst []byte, orig *packet.Packet, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil {
		return dst, false
	}
	o.Local = true
	if !orig.IsIPv6() {
		return error4(dst, b, ICMPDestUnreach, ICMPProtUnreach, 0, &o)
	}
	nhoff := uint32(6)
	off := 40
	for i := 0; i < int(orig.NumExt); i++ {
		nhoff = uint32(off)
		off += len(orig.Ext[i].Data)
	}
	return error6(dst, b, ICMPv6ParamProblem, ICMPv6UnkNextHdr, nhoff, &o)
}

// TimeExceeded appends the error a router sends for a packet whose TTL or
// hop limit would reach 0 (ip_forward: ICMP time exceeded in transit;
// ip6_forward: ICMPv6 hop limit exceeded). orig is quoted as it arrived,
// TTL not decremented. The source follows SourceRule with local false.
func TimeExceeded(dst []byte, orig *packet.Packet, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil {
		return dst, false
	}
	o.Local = false
	if orig.IsIPv6() {
		return error6(dst, b, ICMPv6TimeExceeded, ICMPv6ExcHopLimit, 0, &o)
	}
	return error4(dst, b, ICMPTimeExceeded, ICMPExcTTL, 0, &o)
}

// TooBig appends the error a router sends for a packet larger than the
// next hop's MTU mtu that it may not fragment (ip_forward with DF:
// fragmentation needed, the MTU in the low 16 bits; ip6_forward: packet
// too big with the MTU as 32 bits, answered even to a multicast). orig is
// quoted as it arrived.
func TooBig(dst []byte, orig *packet.Packet, mtu int, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil {
		return dst, false
	}
	if orig.IsIPv6() {
		return error6(dst, b, ICMPv6PacketTooBig, 0, uint32(mtu), &o)
	}
	return error4(dst, b, ICMPDestUnreach, ICMPFragNeeded, uint32(mtu)&0xffff, &o)
}

// ReassemblyTimeout appends the error for a fragment queue that timed out
// (ip_expire, ip6frag_expire_frag_queue): time exceeded, code "fragment
// reassembly time exceeded", quoting first, the datagram's first
// fragment as queued (see defrag.Queue.Expire).
func ReassemblyTimeout(dst, first []byte, o Options) ([]byte, bool) {
	if len(first) >= 40 && first[0]>>4 == 6 {
		return error6(dst, first, ICMPv6TimeExceeded, ICMPv6ExcFragTime, 0, &o)
	}
	if len(first) >= 20 && first[0]>>4 == 4 {
		return error4(dst, first, ICMPTimeExceeded, ICMPExcFragTime, 0, &o)
	}
	return dst, false
}

// EchoReply appends the answer to an ICMP or ICMPv6 echo request
// addressed to this host (icmp_echo + icmp_reply, icmpv6_echo_reply) and
// reports whether one is sent (not for a bad checksum, nor for a
// broadcast or multicast request, which net.ipv4.icmp_echo_ignore_broadcasts
// refuses by default; set o.RouteType to unicast to answer it anyway).
// The reply copies the request's header words (code, identifier,
// sequence) with the reply type, and its whole payload; its TOS or
// traffic class is the request's, with ECN bits. It has no DF and
// identification o.ID (IPv4) or flow label o.FlowLabel (IPv6). The
// source is the request's destination when o.Local (a unicast request)
// and o.Src otherwise. IP options are not echoed; a reply that does not
// fit the route's MTU is not fragmented here.
func EchoReply(dst []byte, orig *packet.Packet, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil {
		return dst, false
	}
	if orig.IsIPv6() {
		off, proto, fo := skipExthdr(b)
		if off < 0 || proto != packet.ProtoICMPv6 || fo != 0 || off+8 > len(b) || b[off] != 128 {
			return dst, false
		}
		osrc, odst := v6Addrs(b)
		if !o.ChecksumValid && !csumOK6(b, packet.ProtoICMPv6, off) {
			return dst, false
		}
		src := o.Src
		if o.Local && ipv6AddrType(b[24:40])&addrMulticast == 0 {
			src = odst
		}
		if !src.Is6() {
			return dst, false
		}
		tc := uint8(be.Uint32(b) >> 20)
		return appendICMP6(dst, tc, ICMPv6EchoReply, b[off+1], be.Uint32(b[off+4:]), b[off+8:], src, osrc, &o), true
	}
	if o.RouteType == xtables.RTNBroadcast || o.RouteType == xtables.RTNMulticast {
		return dst, false
	}
	ihl := int(b[0]&0xf) * 4
	if be.Uint16(b[6:])&0x3fff != 0 || b[9] != packet.ProtoICMP || ihl+8 > len(b) || b[ihl] != 8 {
		return dst, false
	}
	if !o.ChecksumValid && packet.Checksum(b[ihl:], 0) != 0 {
		return dst, false
	}
	osrc, odst := v4Addrs(b)
	src := o.Src
	if o.Local {
		src = odst
	}
	if !src.Is4() {
		return dst, false
	}
	return appendICMP4(dst, b[1], ICMPEchoReply, b[ihl+1], be.Uint32(b[ihl+4:]), b[ihl+8:], src, osrc, &o), true
}
