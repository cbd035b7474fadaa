package icmpgen

import "github.com/iptwin/iptwin/packet"

// IP protocols nf_reject_verify_csum leaves unverified: their checksum
// does not cover the whole payload in the Internet checksum way.
const (
	protoDCCP    = 33
	protoGRE     = 47
	protoSCTP    = 132
	protoUDPLite = 136
)

// verifyCsum is nf_reject_verify_csum: whether REJECT checks the
// transport checksum of protocol proto whose header starts at l4. A UDP
// datagram with checksum 0 (none) is not checked, in either family.
func verifyCsum(proto uint8, l4 []byte) bool {
	switch proto {
	case packet.ProtoUDP:
		return len(l4) < 8 || l4[6] != 0 || l4[7] != 0
	case protoGRE, packet.ProtoAH, packet.ProtoESP, protoSCTP, protoUDPLite, protoDCCP:
		return false
	}
	return true
}

// csumOK4 is nf_ip_checksum on an skb without a verified checksum
// (CHECKSUM_NONE): the sum runs over the whole packet from its IP header,
// seeded with the pseudo-header for TCP and UDP only. For other protocols
// the packet verifies when its payload sums to zero (the IP header itself
// sums to -0), which holds for a correct ICMP message and rarely for
// anything else.
func csumOK4(b []byte, proto uint8, dataoff int) bool {
	var seed uint32
	if proto == packet.ProtoTCP || proto == packet.ProtoUDP {
		src, dst := v4Addrs(b)
		seed = packet.PseudoSum(src, dst, proto, len(b)-dataoff)
	}
	return packet.Checksum(b, seed) == 0
}

// csumOK6 is nf_ip6_checksum on an unverified skb: the payload from
// dataoff with the pseudo-header of proto, whatever proto is.
func csumOK6(b []byte, proto uint8, dataoff int) bool {
	src, dst := v6Addrs(b)
	return packet.Checksum(b[dataoff:], packet.PseudoSum(src, dst, proto, len(b)-dataoff)) == 0
}

// rejectCsumOK6 is reject6_csum_ok (nf_send_unreach6): no ICMPv6 error
// for a packet whose headers end the packet, a non-first fragment, or a
// bad checksum.
func rejectCsumOK6(b []byte, o *Options) bool {
	if o.ChecksumValid {
		return true
	}
	off, proto, fo := skipExthdr(b)
	if off < 0 || off >= len(b) || fo&^7 != 0 {
		return false
	}
	if !verifyCsum(proto, b[off:]) {
		return true
	}
	return csumOK6(b, proto, off)
}

// rejectCsumOK4 is the check of nf_send_unreach before icmp_send.
func rejectCsumOK4(b []byte, o *Options) bool {
	if o.ChecksumValid {
		return true
	}
	ihl := int(b[0]&0xf) * 4
	proto := b[9]
	if ihl > len(b) {
		return false
	}
	if !verifyCsum(proto, b[ihl:]) {
		return true
	}
	return csumOK4(b, proto, ihl)
}
