package nat

import (
	"encoding/binary"
	"errors"
	"github.com/iptwin/iptwin/xtables"
	"hash/crc32"
	"net/netip"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/packet"
)

// ErrDrop is returned when the kernel would drop the packet: a header too
// short to rewrite, a RELATED ICMP error with a bad checksum, an ICMP
// redirect of a NATed connection, a GRE version NAT does not know.
var ErrDrop = errors.New("nat: packet dropped")

// Packet is nf_nat_packet at hook for the connection c the packet
// belongs to (reply: it travels in the reply direction): the mappings of
// the hook's kind (DST in PREROUTING and OUTPUT, SRC in POSTROUTING and
// INPUT) are applied by rewriting addresses and ports with the packet's
// setters, which update the checksums. Replies get the inverse of the
// original direction's mapping.
//
// An ICMP or ICMPv6 error (RELATED to c; ICMPv6 redirects too) goes
// through nf_nat_icmp_reply_translation instead: the quoted packet is
// rewritten as the packet it quotes was, the ICMP checksum recomputed,
// and the outer header made to look like a reply to the connection.
//
// A nil error means accept; ErrDrop that the kernel drops the packet.
func Packet(p *packet.Packet, c *conntrack.Conn, hook int, reply bool) error {
	m := ManipOf(hook)
	if isICMPError(p) {
		return icmpReplyTranslation(p, c, m, reply)
	}
	statusbit := natBit(m)
	dir := conntrack.Original
	if reply {
		statusbit ^= xtables.IPSNATMask
		dir = conntrack.Reply
	}
	if c.Status()&statusbit == 0 {
		return nil
	}
	// We are aiming to look like the inverse of the other direction.
	target, _ := conntrack.Invert(c.Tuple(1 - dir))
	return manip(&p.Headers, target, m)
}

// isICMPError reports whether p is an ICMP error (or ICMPv6 redirect),
// which conntrack only ever gives a connection as RELATED.
func isICMPError(p *packet.Packet) bool {
	switch {
	case p.Layers&packet.LayerICMPv4 != 0 && p.IsIPv4():
		return p.ICMP.IsError(false)
	case p.Layers&packet.LayerICMPv6 != 0 && p.IsIPv6():
		return p.ICMP.Type < 128 || p.ICMP.Type == 137
	}
	return false
}

// manip is nf_nat_ipv4_manip_pkt / nf_nat_ipv6_manip_pkt: the transport
// part first (l4proto_manip_pkt), then the address.
func manip(h *packet.Headers, target conntrack.Tuple, m Manip) error {
	if l4Present(h) {
		if err := l4Manip(h, target, m); err != nil {
			return err
		}
	}
	old, addr, set := h.Src(), target.Src, h.SetSrc
	if m == Dst {
		old, addr, set = h.Dst(), target.Dst, h.SetDst
	}
	if err := keepL4Checksum(h, func() error { return set(addr) }); err != nil {
		return ErrDrop
	}
	if target.Proto == protoUDPLite && l4Present(h) {
		udpLitePseudo(h, old, addr)
	}
	return nil
}

// l4Present: IPv6 rewrites the transport header only when the header
// chain can be walked and the packet is not a later fragment; IPv4 only
// sees whole datagrams (conntrack reassembled them) or quoted headers.
func l4Present(h *packet.Headers) bool {
	if h.IsIPv4() {
		return h.IPv4.FragOff == 0
	}
	return h.Layers&packet.LayerFragment == 0 || h.IPv6.Frag.Offset == 0
}

// l4 is the transport bytes of h (to the end of the packet or quote).
func l4(h *packet.Headers) []byte {
	if len(h.Net) > len(h.Data) {
		return nil
	}
	return h.Data[len(h.Net):]
}

// keepL4Checksum runs f and puts back the transport checksum where the
// kernel leaves it alone but the packet setters would update it: a TCP
// header of fewer than 20 bytes (a quote: tcp_manip_pkt only changes the
// port) and a UDP checksum of zero (IPv6 included: udp_manip_pkt skips
// the update when there is no checksum).
func keepL4Checksum(h *packet.Headers, f func() error) error {
	b := l4(h)
	at := -1
	switch {
	case h.Layers&packet.LayerTCP != 0 && len(b) < 20 && len(b) >= 18:
		at = 16
	case h.Layers&packet.LayerUDP != 0 && len(b) >= 8 && binary.BigEndian.Uint16(b[6:]) == 0:
		at = 6
	}
	if at < 0 {
		return f()
	}
	cs := binary.BigEndian.Uint16(b[at:])
	err := f()
	binary.BigEndian.PutUint16(b[at:], cs)
	if at == 16 {
		h.TCP.Checksum = cs
	} else {
		h.UDP.Checksum = cs
	}
	return err
}

// l4Manip is l4proto_manip_pkt.
func l4Manip(h *packet.Headers, target conntrack.Tuple, m Manip) error {
	b := l4(h)
	port := target.DstPort
	if m == Src {
		port = target.SrcPort
	}
	switch target.Proto {
	case packet.ProtoTCP, packet.ProtoUDP:
		// tcp_manip_pkt needs 8 bytes (what conntrack guarantees),
		// udp_manip_pkt a whole UDP header.
		if len(b) < 8 || h.Layers&(packet.LayerTCP|packet.LayerUDP) == 0 {
			return ErrDrop
		}
		set := h.SetDstPort
		if m == Src {
			set = h.SetSrcPort
		}
		if err := keepL4Checksum(h, func() error { return set(port) }); err != nil {
			return ErrDrop
		}
	case protoUDPLite:
		if len(b) < 8 {
			return ErrDrop
		}
		at := 2
		if m == Src {
			at = 0
		}
		old := binary.BigEndian.Uint16(b[at:])
		cs := packet.Update16(binary.BigEndian.Uint16(b[6:]), old, port)
		binary.BigEndian.PutUint16(b[at:], port)
		if cs == 0 {
			cs = 0xffff // CSUM_MANGLED_0
		}
		binary.BigEndian.PutUint16(b[6:], cs)
	case protoSCTP:
		if len(b) < 8 {
			return ErrDrop
		}
		at := 2
		if m == Src {
			at = 0
		}
		binary.BigEndian.PutUint16(b[at:], port)
		// A whole header (12 bytes) gets its CRC32c recomputed.
		if len(b) >= 12 {
			sctpChecksum(b)
		}
	case packet.ProtoICMP:
		if len(b) < 8 {
			return ErrDrop
		}
		switch b[0] {
		case packet.ICMPEcho, packet.ICMPEchoReply, 13, 14, 15, 16, 17, 18:
			// Either manip sets the id (tuple->src.u.icmp.id).
			setICMPID(h, b, target.SrcPort, false)
		}
	case packet.ProtoICMPv6:
		if len(b) < 8 {
			return ErrDrop
		}
		// The address part of the checksum follows with the address
		// (nf_csum_update through the packet setters).
		if b[0] == packet.ICMPv6EchoRequest || b[0] == packet.ICMPv6EchoReply {
			setICMPID(h, b, target.SrcPort, true)
		}
	case protoGRE:
		if len(b) < 8 {
			return ErrDrop
		}
		// Only the destination key is in the packet (the PPTP call id).
		if m != Dst {
			return nil
		}
		switch b[1] & 7 {
		case 0: // GREv0 is not NATed
		case 1:
			binary.BigEndian.PutUint16(b[6:], target.DstPort)
		default:
			return ErrDrop
		}
	}
	return nil
}

// setICMPID rewrites the identifier word of an ICMP query or reply and
// its checksum (inet_proto_csum_replace2).
func setICMPID(h *packet.Headers, b []byte, id uint16, v6 bool) {
	old := binary.BigEndian.Uint16(b[4:])
	binary.BigEndian.PutUint16(b[4:], id)
	cs := packet.Update16(binary.BigEndian.Uint16(b[2:]), old, id)
	binary.BigEndian.PutUint16(b[2:], cs)
	if h.Layers&(packet.LayerICMPv4|packet.LayerICMPv6) != 0 {
		h.ICMP.Rest = uint32(id)<<16 | h.ICMP.Rest&0xffff
		h.ICMP.Checksum = cs
	}
}

// udpLitePseudo updates the UDP-Lite checksum for an address change in
// its pseudo-header (nf_csum_update), which the packet setters do not do
// for a protocol they do not decode.
func udpLitePseudo(h *packet.Headers, old, addr netip.Addr) {
	b := l4(h)
	if len(b) < 8 {
		return
	}
	cs := packet.UpdateAddr(binary.BigEndian.Uint16(b[6:]), old, addr)
	if cs == 0 {
		cs = 0xffff // CSUM_MANGLED_0
	}
	binary.BigEndian.PutUint16(b[6:], cs)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sctpChecksum is sctp_compute_cksum: CRC32c over the packet with the
// checksum field zero, stored little-endian.
func sctpChecksum(b []byte) {
	b[8], b[9], b[10], b[11] = 0, 0, 0, 0
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b, castagnoli))
}

// icmpReplyTranslation is nf_nat_icmp_reply_translation and
// nf_nat_icmpv6_reply_translation.
func icmpReplyTranslation(p *packet.Packet, c *conntrack.Conn, m Manip, reply bool) error {
	v6 := p.IsIPv6()
	inner := 20
	if v6 {
		inner = 40
	}
	if len(p.Data) < len(p.Net)+8+inner {
		return ErrDrop
	}
	if !icmpChecksumOK(p) {
		return ErrDrop
	}
	st := c.Status()
	if p.ICMP.Type == packet.ICMPRedirect && !v6 || p.ICMP.Type == 137 && v6 {
		if st&xtables.IPSNATDoneMask != xtables.IPSNATDoneMask || st&xtables.IPSNATMask != 0 {
			return ErrDrop
		}
	}
	statusbit := natBit(m)
	dir := conntrack.Original
	if reply {
		statusbit ^= xtables.IPSNATMask
		dir = conntrack.Reply
	}
	if st&statusbit == 0 {
		return nil
	}
	if p.Layers&packet.LayerInner == 0 {
		return ErrDrop
	}
	// The quoted packet went the other way: it gets the other manip,
	// towards the other direction's tuple as it is (not inverted).
	other := c.Tuple(1 - dir)
	if err := manip(&p.Inner, other, 1-m); err != nil {
		return err
	}
	p.FixICMPChecksum()
	// The outer header looks like the reply to an incoming packet.
	target, _ := conntrack.Invert(other)
	target.Proto = packet.ProtoICMP
	if v6 {
		target.Proto = packet.ProtoICMPv6
	}
	return manip(&p.Headers, target, m)
}

// icmpChecksumOK is nf_ip_checksum / nf_ip6_checksum over the ICMP
// message (the kernel refuses to translate a damaged error).
func icmpChecksumOK(p *packet.Packet) bool {
	b := l4(&p.Headers)
	if p.IsIPv4() {
		return packet.Checksum(b, 0) == 0
	}
	return packet.Checksum(b, packet.PseudoSum(p.IPv6.Src, p.IPv6.Dst, packet.ProtoICMPv6, len(b))) == 0
}
