package icmpgen

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Reset appends REJECT --reject-with tcp-reset's RST to orig
// (nf_send_reset, nf_send_reset6) and reports whether one is sent. There
// is none for a non-TCP packet, a non-first fragment, a segment shorter
// than a TCP header, a RST, a bad checksum (unless o.ChecksumValid), a
// broadcast or multicast route (IPv4) or a non-unicast address (IPv6).
//
// The RST comes from orig's destination, with TOS / traffic class 0, flow
// label 0, ID 0 and DF, TTL o.TTL (nf_send_reset: the hop limit of orig's
// own route; nf_send_reset6: of the route back). If orig has ACK the RST
// takes its sequence number from orig's acknowledgment and carries no
// ACK; otherwise it has sequence 0 and acknowledges everything orig
// occupied (SYN, FIN and payload). Window 0, no options.
func Reset(dst []byte, orig *packet.Packet, o Options) ([]byte, bool) {
	b := ipData(orig)
	if b == nil {
		return dst, false
	}
	if orig.IsIPv6() {
		return reset6(dst, b, &o)
	}
	return reset4(dst, b, &o)
}

// reset4 is nf_send_reset with nf_reject_ip_tcphdr_get.
func reset4(dst, b []byte, o *Options) ([]byte, bool) {
	ihl := int(b[0]&0xf) * 4
	if be.Uint16(b[6:])&0x1fff != 0 || b[9] != packet.ProtoTCP || ihl+20 > len(b) {
		return dst, false
	}
	th := b[ihl:]
	if th[13]&packet.TCPRst != 0 {
		return dst, false
	}
	if !o.ChecksumValid && !csumOK4(b, packet.ProtoTCP, ihl) {
		return dst, false
	}
	if o.RouteType == xtables.RTNBroadcast || o.RouteType == xtables.RTNMulticast {
		return dst, false
	}
	osrc, odst := v4Addrs(b)
	dst = appendIPv4(dst, 0, 40, 0, true, o.ttl(), packet.ProtoTCP, odst, osrc)
	return appendRST(dst, th, len(b)-ihl, odst, osrc), true
}

// reset6 is nf_send_reset6 with nf_reject_ip6_tcphdr_get.
func reset6(dst, b []byte, o *Options) ([]byte, bool) {
	if ipv6AddrType(b[8:24])&addrUnicast == 0 || ipv6AddrType(b[24:40])&addrUnicast == 0 {
		return dst, false
	}
	off, proto, _ := skipExthdr(b)
	if off < 0 || off > len(b) || proto != packet.ProtoTCP || len(b)-off < 20 {
		return dst, false
	}
	th := b[off:]
	if th[13]&packet.TCPRst != 0 {
		return dst, false
	}
	if !o.ChecksumValid && !csumOK6(b, packet.ProtoTCP, off) {
		return dst, false
	}
	osrc, odst := v6Addrs(b)
	dst = appendIPv6(dst, 0, 0, 20, packet.ProtoTCP, o.ttl(), odst, osrc)
	return appendRST(dst, th, len(b)-off, odst, osrc), true
}

// appendRST appends the TCP header of a RST answering the segment th of
// seglen bytes (header and payload), with its checksum for src → to.
func appendRST(dst, th []byte, seglen int, src, to netip.Addr) []byte {
	start := len(dst)
	flags := th[13]
	var seq, ack uint32
	out := uint8(packet.TCPRst)
	if flags&packet.TCPAck != 0 {
		seq = be.Uint32(th[8:])
	} else {
		// Unsigned arithmetic as the kernel's: a data offset beyond the
		// segment wraps.
		ack = be.Uint32(th[4:]) + uint32(flags>>1&1) + uint32(flags&1) + uint32(seglen-int(th[12]>>4)*4)
		out |= packet.TCPAck
	}
	dst = append(dst, th[2], th[3], th[0], th[1])
	dst = be.AppendUint32(dst, seq)
	dst = be.AppendUint32(dst, ack)
	dst = append(dst, 5<<4, out, 0, 0, 0, 0, 0, 0)
	fixChecksum(dst[start:], 16, packet.PseudoSum(src, to, packet.ProtoTCP, 20))
	return dst
}
