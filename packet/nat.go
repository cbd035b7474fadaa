package packet

import "net/netip"

// In-place rewrites for NAT and forwarding. They change the decoded
// buffer (through Net and Transport) and the fields of h, and update the
// IPv4 header checksum and the transport checksum incrementally (RFC 1624),
// as the kernel's nf_nat_*_manip_pkt functions do: an IPv4 UDP checksum
// of 0 (none) stays 0, and a computed 0 becomes 0xffff. A transport
// checksum not present in the buffer (later fragments, a short quote) is
// left alone. After rewriting Inner, call FixICMPChecksum.

// SetSrc rewrites the source address.
func (h *Headers) SetSrc(a netip.Addr) error { return h.setAddr(a, false) }

// SetDst rewrites the destination address.
func (h *Headers) SetDst(a netip.Addr) error { return h.setAddr(a, true) }

func (h *Headers) setAddr(a netip.Addr, isDst bool) error {
	var field []byte
	var old netip.Addr
	pseudo := true
	switch {
	case h.Layers&LayerIPv4 != 0 && len(h.Net) >= 20:
		if !a.Is4() {
			return encErr("ipv4", "address length", OpInvalid, a.BitLen()/8, 4)
		}
		if isDst {
			field, old = h.Net[16:20], h.IPv4.Dst
			h.IPv4.Dst = a
		} else {
			field, old = h.Net[12:16], h.IPv4.Src
			h.IPv4.Src = a
		}
		b := a.As4()
		copy(field, b[:])
		be.PutUint16(h.Net[10:], UpdateAddr(be.Uint16(h.Net[10:]), old, a))
		h.IPv4.Checksum = be.Uint16(h.Net[10:])
	case h.Layers&LayerIPv6 != 0 && len(h.Net) >= 40:
		if !a.Is6() {
			return encErr("ipv6", "address length", OpInvalid, a.BitLen()/8, 16)
		}
		if isDst {
			// With a routing header under way the pseudo-header uses the
			// final destination, not this one.
			pseudo = h.finalDst() == h.IPv6.Dst
			field, old = h.Net[24:40], h.IPv6.Dst
			h.IPv6.Dst = a
		} else {
			field, old = h.Net[8:24], h.IPv6.Src
			h.IPv6.Src = a
		}
		b := a.As16()
		copy(field, b[:])
	default:
		return encErr("ip", "version", OpInvalid, 0, 0)
	}
	if pseudo {
		h.updateL4(func(cs uint16) uint16 { return UpdateAddr(cs, old, a) }, false)
	}
	return nil
}

// updateL4 applies f to the transport checksum that covers the changed
// data; icmpToo includes the ICMPv4 checksum (which has no pseudo-header).
func (h *Headers) updateL4(f func(uint16) uint16, icmpToo bool) {
	t := h.Transport
	var off int
	udp := false
	switch {
	case h.Layers&LayerTCP != 0:
		off = 16
	case h.Layers&LayerUDP != 0:
		off, udp = 6, true
	case h.Layers&LayerICMPv6 != 0:
		off = 2
	case h.Layers&LayerICMPv4 != 0 && icmpToo:
		off = 2
	default:
		return
	}
	if off+2 > len(t) {
		return
	}
	cs := be.Uint16(t[off:])
	if udp && cs == 0 && h.Layers&LayerIPv4 != 0 {
		return
	}
	cs = f(cs)
	if udp && cs == 0 {
		cs = 0xffff
	}
	be.PutUint16(t[off:], cs)
	switch {
	case h.Layers&LayerTCP != 0:
		h.TCP.Checksum = cs
	case udp:
		h.UDP.Checksum = cs
	default:
		h.ICMP.Checksum = cs
	}
}

// SetSrcPort rewrites the TCP or UDP source port, or the ICMP/ICMPv6 echo
// identifier (the "port" conntrack and NAT use for echo).
func (h *Headers) SetSrcPort(port uint16) error { return h.setPort(port, false) }

// SetDstPort rewrites the TCP or UDP destination port, or the echo
// identifier like SetSrcPort.
func (h *Headers) SetDstPort(port uint16) error { return h.setPort(port, true) }

func (h *Headers) setPort(port uint16, isDst bool) error {
	var at int
	var p *uint16
	switch {
	case h.Layers&LayerTCP != 0:
		p = &h.TCP.SrcPort
		if isDst {
			at, p = 2, &h.TCP.DstPort
		}
	case h.Layers&LayerUDP != 0:
		p = &h.UDP.SrcPort
		if isDst {
			at, p = 2, &h.UDP.DstPort
		}
	case h.Layers&(LayerICMPv4|LayerICMPv6) != 0 && h.ICMP.IsEcho():
		if len(h.Transport) < 6 {
			return encErr("icmp", "header bytes", OpTruncated, 6, len(h.Transport))
		}
		old := h.ICMP.ID()
		be.PutUint16(h.Transport[4:], port)
		h.ICMP.Rest = uint32(port)<<16 | h.ICMP.Rest&0xffff
		h.updateL4(func(cs uint16) uint16 { return Update16(cs, old, port) }, true)
		return nil
	default:
		return encErr("ip", "transport header", OpInvalid, int(h.Proto), 0)
	}
	if at+2 > len(h.Transport) {
		return encErr("tcp", "header bytes", OpTruncated, at+2, len(h.Transport))
	}
	old := *p
	be.PutUint16(h.Transport[at:], port)
	*p = port
	h.updateL4(func(cs uint16) uint16 { return Update16(cs, old, port) }, false)
	return nil
}

// SetTTL rewrites the IPv4 TTL (updating the header checksum) or the IPv6
// hop limit.
func (h *Headers) SetTTL(ttl uint8) {
	switch {
	case h.Layers&LayerIPv4 != 0 && len(h.Net) >= 20:
		old := be.Uint16(h.Net[8:])
		h.Net[8] = ttl
		be.PutUint16(h.Net[10:], Update16(be.Uint16(h.Net[10:]), old, be.Uint16(h.Net[8:])))
		h.IPv4.TTL = ttl
		h.IPv4.Checksum = be.Uint16(h.Net[10:])
	case h.Layers&LayerIPv6 != 0 && len(h.Net) >= 40:
		h.Net[7] = ttl
		h.IPv6.HopLimit = ttl
	}
}

// FixICMPChecksum recomputes the ICMP or ICMPv6 checksum of the packet
// over its whole message, as needed after rewriting the quoted packet
// (Inner), whose bytes it covers; Linux's NAT recomputes it the same way.
func (p *Packet) FixICMPChecksum() {
	if p.Layers&(LayerICMPv4|LayerICMPv6) == 0 || len(p.Transport) < 8 {
		return
	}
	start := len(p.Data) - len(p.Payload) - len(p.Transport)
	msg := p.Data[start:]
	var sum uint32
	if p.Layers&LayerICMPv6 != 0 {
		sum = PseudoSum(p.Src(), p.finalDst(), ProtoICMPv6, len(msg))
	}
	msg[2], msg[3] = 0, 0
	cs := Checksum(msg, sum)
	be.PutUint16(msg[2:], cs)
	p.ICMP.Checksum = cs
}
