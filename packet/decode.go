package packet

import (
	"encoding/binary"
	"net/netip"
)

var be = binary.BigEndian

// Decode decodes an IP packet (IPv4 or IPv6, chosen by the version nibble)
// starting at b[0]. The Packet's slices point into b; b must not change
// while they are in use. Bytes after the end given by the IP length field
// (link-layer padding) are ignored. The returned error, an *Error, is held
// in p and is valid until the next decode. Decode never allocates.
func (p *Packet) Decode(b []byte) error {
	p.Eth = Ethernet{}
	return p.decodeIP(b)
}

// DecodeEthernet decodes an Ethernet II frame (with at most one 802.1Q tag)
// and the IPv4 or IPv6 packet it carries. Frames of other EtherTypes decode
// without error with only LayerEthernet set and the frame body in Payload.
func (p *Packet) DecodeEthernet(b []byte) error {
	p.Eth = Ethernet{}
	p.Headers = Headers{}
	if p.Inner.Layers != 0 || p.Inner.Truncated {
		p.Inner = Headers{}
	}
	if len(b) < 14 {
		return p.err.set("ethernet", "header bytes", OpTruncated, 14, len(b))
	}
	copy(p.Eth.Dst[:], b[0:6])
	copy(p.Eth.Src[:], b[6:12])
	p.Eth.EtherType = be.Uint16(b[12:])
	off := 14
	if p.Eth.EtherType == EtherTypeVLAN {
		if len(b) < 18 {
			return p.err.set("ethernet", "header bytes", OpTruncated, 18, len(b))
		}
		p.Eth.HasVLAN = true
		p.Eth.VLAN = be.Uint16(b[14:])
		p.Eth.EtherType = be.Uint16(b[16:])
		off = 18
	}
	var want byte
	switch p.Eth.EtherType {
	case EtherTypeIPv4:
		want = 4
	case EtherTypeIPv6:
		want = 6
	default:
		p.Layers = LayerEthernet
		p.Payload = b[off:]
		return nil
	}
	if len(b) > off && b[off]>>4 != want {
		return p.err.set("ethernet", "ip version", OpInvalid, int(b[off]>>4), 0)
	}
	err := p.decodeIP(b[off:])
	p.Layers |= LayerEthernet
	return err
}

func (p *Packet) decodeIP(b []byte) error {
	if p.Inner.Layers != 0 || p.Inner.Truncated {
		// Cleared only when used: it is half the size of a Packet.
		p.Inner = Headers{}
	}
	if err := p.Headers.decode(b, false, &p.err); err != nil {
		return err
	}
	v6 := p.Layers&LayerIPv6 != 0
	if p.Layers&(LayerICMPv4|LayerICMPv6) != 0 && p.ICMP.IsError(v6) && len(p.Payload) > 0 {
		// p.err serves as scratch: the outer packet decoded fine.
		p.Inner.decode(p.Payload, true, &p.err)
		p.err = Error{}
		// Only a quoted packet of the same family is meaningful.
		if v6 && p.Inner.Layers&LayerIPv6 != 0 || !v6 && p.Inner.Layers&LayerIPv4 != 0 {
			p.Layers |= LayerInner
		} else {
			p.Inner = Headers{}
		}
	}
	return nil
}

// decode decodes one IP packet into h. quoted is for the packet inside an
// ICMP error: it may be cut anywhere; decoding then stops, keeps what was
// decoded and sets Truncated.
func (h *Headers) decode(b []byte, quoted bool, e *Error) error {
	*h = Headers{}
	if len(b) < 1 {
		return h.fail(quoted, e.set("ip", "header bytes", OpTruncated, 1, 0))
	}
	switch v := b[0] >> 4; v {
	case 4:
		return h.decodeIPv4(b, quoted, e)
	case 6:
		return h.decodeIPv6(b, quoted, e)
	default:
		return h.fail(quoted, e.set("ip", "version", OpInvalid, int(v), 0))
	}
}

// fail records a truncation of a quoted packet.
func (h *Headers) fail(quoted bool, e *Error) error {
	if quoted && e.Op == OpTruncated {
		h.Truncated = true
	}
	return e
}

func (h *Headers) decodeIPv4(b []byte, quoted bool, e *Error) error {
	if len(b) < 20 {
		return h.fail(quoted, e.set("ipv4", "header bytes", OpTruncated, 20, len(b)))
	}
	ihl := b[0] & 0xf
	if ihl < 5 {
		return h.fail(quoted, e.set("ipv4", "header length", OpLess, int(ihl), 5))
	}
	hl := int(ihl) * 4
	if len(b) < hl {
		return h.fail(quoted, e.set("ipv4", "header bytes", OpTruncated, hl, len(b)))
	}
	tot := int(be.Uint16(b[2:]))
	if tot < hl {
		return h.fail(quoted, e.set("ipv4", "total length", OpLess, tot, hl))
	}
	data := b
	if tot > len(b) {
		if !quoted {
			return e.set("ipv4", "total length", OpTruncated, tot, len(b))
		}
		h.Truncated = true
	} else {
		data = b[:tot]
	}
	ip := &h.IPv4
	ip.IHL = ihl
	ip.TOS = b[1]
	ip.TotalLen = uint16(tot)
	ip.ID = be.Uint16(b[4:])
	fo := be.Uint16(b[6:])
	ip.Flags = uint8(fo >> 13)
	ip.FragOff = fo & 0x1fff
	ip.TTL = b[8]
	ip.Protocol = b[9]
	ip.Checksum = be.Uint16(b[10:])
	ip.Src = netip.AddrFrom4([4]byte(b[12:16]))
	ip.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	if hl > 20 {
		ip.Options = b[20:hl:hl]
	}
	h.Layers = LayerIPv4
	h.Data = data
	h.Net = data[:hl:hl]
	h.Proto = ip.Protocol
	if ip.FragOff != 0 {
		// Not the first fragment: no transport header here.
		h.Payload = data[hl:]
		return nil
	}
	fragmented := ip.Flags&IPv4MF != 0
	off := hl
	for h.Proto == ProtoAH {
		n, err := h.decodeAH(data[off:], quoted, e)
		if err != nil {
			return err
		}
		off += n
		h.Net = data[:off:off]
	}
	return h.decodeTransport(data[off:], fragmented, quoted, e)
}

func (h *Headers) pushExt(proto uint8, d []byte, quoted bool, e *Error) error {
	if int(h.NumExt) == MaxExt {
		return h.fail(quoted, e.set("ipv6", "extension headers", OpGreater, MaxExt+1, MaxExt))
	}
	h.Ext[h.NumExt] = Ext{Proto: proto, Next: d[0], Data: d}
	h.NumExt++
	return nil
}

// decodeAH decodes an AH header at b (IPv4 or IPv6) and returns its length.
func (h *Headers) decodeAH(b []byte, quoted bool, e *Error) (int, error) {
	if len(b) < 12 {
		return 0, h.fail(quoted, e.set("ah", "header bytes", OpTruncated, 12, len(b)))
	}
	n := (int(b[1]) + 2) * 4
	if n < 12 {
		return 0, h.fail(quoted, e.set("ah", "length", OpLess, int(b[1]), 1))
	}
	if n > len(b) {
		return 0, h.fail(quoted, e.set("ah", "header bytes", OpTruncated, n, len(b)))
	}
	if err := h.pushExt(ProtoAH, b[:n:n], quoted, e); err != nil {
		return 0, err
	}
	if h.Layers&LayerAH == 0 {
		h.Layers |= LayerAH
		h.AH = AH{NextHeader: b[0], Len: b[1], Reserved: be.Uint16(b[2:]),
			SPI: be.Uint32(b[4:]), Seq: be.Uint32(b[8:]), ICV: b[12:n:n]}
	}
	h.Proto = b[0]
	return n, nil
}

func (h *Headers) decodeIPv6(b []byte, quoted bool, e *Error) error {
	if len(b) < 40 {
		return h.fail(quoted, e.set("ipv6", "header bytes", OpTruncated, 40, len(b)))
	}
	plen := int(be.Uint16(b[4:]))
	data := b
	if 40+plen > len(b) {
		if !quoted {
			return e.set("ipv6", "payload length", OpTruncated, plen, len(b)-40)
		}
		h.Truncated = true
	} else {
		data = b[:40+plen]
	}
	ip := &h.IPv6
	w := be.Uint32(b)
	ip.TrafficClass = uint8(w >> 20)
	ip.FlowLabel = w & 0xfffff
	ip.PayloadLen = uint16(plen)
	ip.NextHeader = b[6]
	ip.HopLimit = b[7]
	ip.Src = netip.AddrFrom16([16]byte(b[8:24]))
	ip.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	h.Layers = LayerIPv6
	h.Data = data
	h.Net = data[:40:40]
	h.Proto = ip.NextHeader
	off := 40
	fragmented := false
	for {
		rest := data[off:]
		switch h.Proto {
		case ProtoHopByHop, ProtoRouting, ProtoDstOpts:
			if len(rest) < 8 {
				return h.fail(quoted, e.set(extName(h.Proto), "header bytes", OpTruncated, 8, len(rest)))
			}
			n := (int(rest[1]) + 1) * 8
			if n > len(rest) {
				return h.fail(quoted, e.set(extName(h.Proto), "header bytes", OpTruncated, n, len(rest)))
			}
			if err := h.pushExt(h.Proto, rest[:n:n], quoted, e); err != nil {
				return err
			}
			h.Proto = rest[0]
			off += n
		case ProtoFragment:
			if len(rest) < 8 {
				return h.fail(quoted, e.set("frag6", "header bytes", OpTruncated, 8, len(rest)))
			}
			if h.Layers&LayerFragment != 0 {
				return h.fail(quoted, e.set("frag6", "fragment headers", OpGreater, 2, 1))
			}
			if err := h.pushExt(ProtoFragment, rest[:8:8], quoted, e); err != nil {
				return err
			}
			fo := be.Uint16(rest[2:])
			ip.Frag = IPv6Frag{NextHeader: rest[0], Reserved: rest[1], Offset: fo >> 3,
				Res2: uint8(fo>>1) & 3, More: fo&1 != 0, ID: be.Uint32(rest[4:])}
			h.Layers |= LayerFragment
			h.Proto = rest[0]
			off += 8
			h.Net = data[:off:off]
			if ip.Frag.Offset != 0 {
				h.Payload = data[off:]
				return nil
			}
			fragmented = ip.Frag.More
		case ProtoAH:
			n, err := h.decodeAH(rest, quoted, e)
			if err != nil {
				return err
			}
			off += n
		default:
			h.Net = data[:off:off]
			return h.decodeTransport(data[off:], fragmented, quoted, e)
		}
		h.Net = data[:off:off]
	}
}

func extName(proto uint8) string {
	switch proto {
	case ProtoHopByHop:
		return "hbh"
	case ProtoRouting:
		return "rt6"
	case ProtoDstOpts:
		return "dstopt"
	}
	return "ipv6"
}

// decodeTransport decodes the header of protocol h.Proto at b. In a first
// fragment (fragmented) a header that does not fit is left undecoded.
func (h *Headers) decodeTransport(b []byte, fragmented, quoted bool, e *Error) error {
	v6 := h.Layers&LayerIPv6 != 0
	h.Payload = b
	switch h.Proto {
	case ProtoTCP:
		return h.decodeTCP(b, fragmented, quoted, e)
	case ProtoUDP:
		return h.decodeUDP(b, fragmented, quoted, e)
	case ProtoICMP, ProtoICMPv6:
		if (h.Proto == ProtoICMPv6) != v6 {
			return nil // ICMP in IPv6 or ICMPv6 in IPv4: not decoded
		}
		name := "icmp"
		if v6 {
			name = "icmp6"
		}
		if len(b) < 8 {
			if fragmented && !quoted {
				return nil
			}
			if quoted && len(b) >= 4 {
				h.ICMP = ICMP{Type: b[0], Code: b[1], Checksum: be.Uint16(b[2:])}
				h.setICMPLayer(v6)
				h.Transport = b
				h.Payload = b[len(b):]
			}
			return h.fail(quoted, e.set(name, "header bytes", OpTruncated, 8, len(b)))
		}
		h.ICMP = ICMP{Type: b[0], Code: b[1], Checksum: be.Uint16(b[2:]), Rest: be.Uint32(b[4:])}
		h.setICMPLayer(v6)
		h.Transport = b[:8:8]
		h.Payload = b[8:]
	case ProtoESP:
		if len(b) < 8 {
			if fragmented && !quoted {
				return nil
			}
			return h.fail(quoted, e.set("esp", "header bytes", OpTruncated, 8, len(b)))
		}
		h.ESP = ESP{SPI: be.Uint32(b), Seq: be.Uint32(b[4:])}
		h.Layers |= LayerESP
		h.Transport = b[:8:8]
		h.Payload = b[8:]
	}
	return nil
}

func (h *Headers) setICMPLayer(v6 bool) {
	if v6 {
		h.Layers |= LayerICMPv6
	} else {
		h.Layers |= LayerICMPv4
	}
}

func (h *Headers) decodeTCP(b []byte, fragmented, quoted bool, e *Error) error {
	t := &h.TCP
	if len(b) < 20 {
		if fragmented && !quoted {
			return nil
		}
		if quoted && len(b) >= 8 {
			// RFC 792 quotes only 8 bytes: ports and sequence number.
			t.SrcPort, t.DstPort, t.Seq = be.Uint16(b), be.Uint16(b[2:]), be.Uint32(b[4:])
			h.Layers |= LayerTCP
			h.Transport = b
			h.Payload = b[len(b):]
		}
		return h.fail(quoted, e.set("tcp", "header bytes", OpTruncated, 20, len(b)))
	}
	doff := b[12] >> 4
	if doff < 5 {
		return h.fail(quoted, e.set("tcp", "data offset", OpLess, int(doff), 5))
	}
	hl := int(doff) * 4
	t.SrcPort = be.Uint16(b)
	t.DstPort = be.Uint16(b[2:])
	t.Seq = be.Uint32(b[4:])
	t.Ack = be.Uint32(b[8:])
	t.DataOff = doff
	t.Reserved = b[12] & 0xf
	t.Flags = b[13]
	t.Window = be.Uint16(b[14:])
	t.Checksum = be.Uint16(b[16:])
	t.Urgent = be.Uint16(b[18:])
	if hl > len(b) {
		if fragmented && !quoted {
			*t = TCP{}
			return nil
		}
		if quoted {
			h.Layers |= LayerTCP
			h.Transport = b
			h.Payload = b[len(b):]
		}
		return h.fail(quoted, e.set("tcp", "header bytes", OpTruncated, hl, len(b)))
	}
	h.Layers |= LayerTCP
	if hl > 20 {
		t.Options = b[20:hl:hl]
		t.parseOptions()
	}
	h.Transport = b[:hl:hl]
	h.Payload = b[hl:]
	return nil
}

// parseOptions fills the parsed option fields the way the kernel's
// tcp_parse_options reads them: options of the wrong size are skipped.
func (t *TCP) parseOptions() {
	o := t.Options
	for i := 0; i < len(o); {
		kind := o[i]
		if kind == 0 {
			return
		}
		if kind == 1 {
			i++
			continue
		}
		if i+1 >= len(o) {
			t.Opts |= OptMalformed
			return
		}
		l := int(o[i+1])
		if l < 2 || i+l > len(o) {
			t.Opts |= OptMalformed
			return
		}
		d := o[i+2 : i+l]
		switch kind {
		case 2:
			if l == 4 {
				t.Opts |= OptMSS
				t.MSS = be.Uint16(d)
			}
		case 3:
			if l == 3 {
				t.Opts |= OptWScale
				t.WScale = d[0]
			}
		case 4:
			if l == 2 {
				t.Opts |= OptSACKPermitted
			}
		case 5:
			if (l-2)%8 == 0 && l > 2 {
				t.Opts |= OptSACK
				t.SACK = d[:len(d):len(d)]
			}
		case 8:
			if l == 10 {
				t.Opts |= OptTimestamp
				t.TSVal = be.Uint32(d)
				t.TSEcr = be.Uint32(d[4:])
			}
		}
		i += l
	}
}

func (h *Headers) decodeUDP(b []byte, fragmented, quoted bool, e *Error) error {
	if len(b) < 8 {
		if fragmented && !quoted {
			return nil
		}
		if quoted && len(b) >= 4 {
			h.UDP.SrcPort, h.UDP.DstPort = be.Uint16(b), be.Uint16(b[2:])
			h.Layers |= LayerUDP
			h.Transport = b
			h.Payload = b[len(b):]
		}
		return h.fail(quoted, e.set("udp", "header bytes", OpTruncated, 8, len(b)))
	}
	u := &h.UDP
	u.SrcPort = be.Uint16(b)
	u.DstPort = be.Uint16(b[2:])
	u.Length = be.Uint16(b[4:])
	u.Checksum = be.Uint16(b[6:])
	ulen := int(u.Length)
	h.Layers |= LayerUDP
	h.Transport = b[:8:8]
	h.Payload = b[8:]
	if fragmented || quoted {
		// The datagram continues in other fragments / was cut by the quote.
		return nil
	}
	if ulen < 8 {
		return e.set("udp", "length", OpLess, ulen, 8)
	}
	if ulen > len(b) {
		return e.set("udp", "length", OpTruncated, ulen, len(b))
	}
	h.Payload = b[8:ulen]
	h.Pad = b[ulen:]
	if u.SrcPort == PortIPsecNATT || u.DstPort == PortIPsecNATT {
		pl := h.Payload
		switch {
		case len(pl) >= 4 && be.Uint32(pl) == 0:
			h.Layers |= LayerIKE
			h.Transport = b[:12:12]
			h.Payload = pl[4:]
		case len(pl) >= 8:
			h.ESP = ESP{SPI: be.Uint32(pl), Seq: be.Uint32(pl[4:])}
			h.Layers |= LayerESP
			h.Transport = b[:16:16]
			h.Payload = pl[8:]
		}
	}
	return nil
}
