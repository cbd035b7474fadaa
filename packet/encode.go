package packet

import "net/netip"

// Fix selects what Append computes instead of copying from the fields.
type Fix uint8

const (
	// FixLengths computes IPv4 IHL and total length, IPv6 payload length,
	// the next-header chain (IPv4 protocol, IPv6 next headers, extension
	// Next fields), TCP data offset and UDP length, and pads IPv4 and TCP
	// options with zero (end-of-list) bytes to a multiple of 4.
	FixLengths Fix = 1 << iota
	// FixChecksums computes the IPv4 header checksum and the TCP, UDP,
	// ICMP and ICMPv6 checksums (with the pseudo-header). Transport
	// checksums are left alone in fragments: they cover the whole datagram.
	FixChecksums
	FixAll = FixLengths | FixChecksums
)

func encErr(layer, field string, op Op, value, limit int) error {
	return &Error{Layer: layer, Field: field, Op: op, Value: value, Limit: limit}
}

// Append serialises the headers and Payload to dst and returns the
// extended slice. Without Fix flags every field is written as it is, so a
// decoded packet re-encodes to the bytes it was decoded from (up to the IP
// length). Append does not allocate when dst has enough capacity. The
// Ethernet header and the quoted packet (Inner, part of Payload) are not
// written.
func (h *Headers) Append(dst []byte, fix Fix) ([]byte, error) {
	start := len(dst)
	v6 := h.Layers&LayerIPv6 != 0
	if !v6 && h.Layers&LayerIPv4 == 0 {
		return dst, encErr("ip", "version", OpInvalid, 0, 0)
	}
	first := h.Proto // what follows the IP header
	if h.NumExt > 0 {
		first = h.Ext[0].Proto
	}
	if v6 {
		ip := &h.IPv6
		if !ip.Src.Is6() || !ip.Dst.Is6() {
			return dst, encErr("ipv6", "address length", OpInvalid, addrLen(ip.Src, ip.Dst, 16), 16)
		}
		nh := ip.NextHeader
		if fix&FixLengths != 0 {
			nh = first
		}
		dst = be.AppendUint32(dst, 6<<28|uint32(ip.TrafficClass)<<20|ip.FlowLabel&0xfffff)
		dst = be.AppendUint16(dst, ip.PayloadLen)
		dst = append(dst, nh, ip.HopLimit)
		dst = append16(dst, ip.Src)
		dst = append16(dst, ip.Dst)
	} else {
		ip := &h.IPv4
		if !ip.Src.Is4() || !ip.Dst.Is4() {
			return dst, encErr("ipv4", "address length", OpInvalid, addrLen(ip.Src, ip.Dst, 4), 4)
		}
		hl := 20 + len(ip.Options)
		ihl := ip.IHL
		proto := ip.Protocol
		if fix&FixLengths != 0 {
			hl = (hl + 3) &^ 3
			if hl > 60 {
				return dst, encErr("ipv4", "options length", OpGreater, len(ip.Options), 40)
			}
			ihl = uint8(hl / 4)
			proto = first
		} else if int(ihl)*4 != hl {
			return dst, encErr("ipv4", "header length", OpInvalid, int(ihl), hl/4)
		}
		dst = append(dst, 4<<4|ihl&0xf, ip.TOS)
		dst = be.AppendUint16(dst, ip.TotalLen)
		dst = be.AppendUint16(dst, ip.ID)
		dst = be.AppendUint16(dst, uint16(ip.Flags&7)<<13|ip.FragOff&0x1fff)
		dst = append(dst, ip.TTL, proto)
		dst = be.AppendUint16(dst, ip.Checksum)
		a, b := ip.Src.As4(), ip.Dst.As4()
		dst = append(dst, a[:]...)
		dst = append(dst, b[:]...)
		dst = append(dst, ip.Options...)
		for len(dst)-start < hl {
			dst = append(dst, 0)
		}
	}
	for i := 0; i < int(h.NumExt); i++ {
		x := &h.Ext[i]
		next := x.Next
		if fix&FixLengths != 0 {
			next = h.Proto
			if i+1 < int(h.NumExt) {
				next = h.Ext[i+1].Proto
			}
		}
		if x.Proto == ProtoFragment {
			f := &h.IPv6.Frag
			if fix&FixLengths == 0 {
				next = f.NextHeader
			}
			w := f.Offset<<3 | uint16(f.Res2&3)<<1
			if f.More {
				w |= 1
			}
			dst = append(dst, next, f.Reserved)
			dst = be.AppendUint16(dst, w)
			dst = be.AppendUint32(dst, f.ID)
			continue
		}
		if len(x.Data) < 2 {
			return dst[:start], encErr("ipv6", "extension header bytes", OpLess, len(x.Data), 2)
		}
		dst = append(dst, next)
		dst = append(dst, x.Data[1:]...)
	}
	ts := len(dst)
	switch {
	case h.Layers&LayerTCP != 0:
		t := &h.TCP
		hl := 20 + len(t.Options)
		doff := t.DataOff
		if fix&FixLengths != 0 {
			hl = (hl + 3) &^ 3
			if hl > 60 {
				return dst[:start], encErr("tcp", "options length", OpGreater, len(t.Options), 40)
			}
			doff = uint8(hl / 4)
		} else if int(doff)*4 != hl {
			return dst[:start], encErr("tcp", "data offset", OpInvalid, int(doff), hl/4)
		}
		dst = be.AppendUint16(dst, t.SrcPort)
		dst = be.AppendUint16(dst, t.DstPort)
		dst = be.AppendUint32(dst, t.Seq)
		dst = be.AppendUint32(dst, t.Ack)
		dst = append(dst, doff<<4|t.Reserved&0xf, t.Flags)
		dst = be.AppendUint16(dst, t.Window)
		dst = be.AppendUint16(dst, t.Checksum)
		dst = be.AppendUint16(dst, t.Urgent)
		dst = append(dst, t.Options...)
		for len(dst)-ts < hl {
			dst = append(dst, 0)
		}
	case h.Layers&LayerUDP != 0:
		u := &h.UDP
		dst = be.AppendUint16(dst, u.SrcPort)
		dst = be.AppendUint16(dst, u.DstPort)
		dst = be.AppendUint16(dst, u.Length)
		dst = be.AppendUint16(dst, u.Checksum)
		if h.Layers&LayerIKE != 0 {
			dst = append(dst, 0, 0, 0, 0)
		} else if h.Layers&LayerESP != 0 {
			dst = be.AppendUint32(dst, h.ESP.SPI)
			dst = be.AppendUint32(dst, h.ESP.Seq)
		}
	case h.Layers&(LayerICMPv4|LayerICMPv6) != 0:
		c := &h.ICMP
		dst = append(dst, c.Type, c.Code)
		dst = be.AppendUint16(dst, c.Checksum)
		dst = be.AppendUint32(dst, c.Rest)
	case h.Layers&LayerESP != 0:
		dst = be.AppendUint32(dst, h.ESP.SPI)
		dst = be.AppendUint32(dst, h.ESP.Seq)
	}
	dst = append(dst, h.Payload...)
	l4end := len(dst)
	dst = append(dst, h.Pad...)
	total := len(dst) - start
	pkt := dst[start:]
	if fix&FixLengths != 0 {
		if v6 {
			if total-40 > 0xffff {
				return dst[:start], encErr("ipv6", "payload length", OpGreater, total-40, 0xffff)
			}
			be.PutUint16(pkt[4:], uint16(total-40))
		} else {
			if total > 0xffff {
				return dst[:start], encErr("ipv4", "total length", OpGreater, total, 0xffff)
			}
			be.PutUint16(pkt[2:], uint16(total))
		}
		if h.Layers&LayerUDP != 0 && !h.IsFragment() {
			be.PutUint16(pkt[ts-start+4:], uint16(l4end-ts))
		}
	}
	if fix&FixChecksums != 0 {
		if !v6 {
			hl := int(pkt[0]&0xf) * 4
			pkt[10], pkt[11] = 0, 0
			be.PutUint16(pkt[10:], Checksum(pkt[:hl], 0))
		}
		if !h.IsFragment() {
			h.fixTransportChecksum(pkt[:l4end-start], ts-start)
		}
	}
	return dst, nil
}

// fixTransportChecksum computes the transport checksum of the serialised
// packet pkt whose transport header starts at ts.
func (h *Headers) fixTransportChecksum(pkt []byte, ts int) {
	l4 := pkt[ts:]
	var off int
	var sum uint32
	src, dst := h.Src(), h.finalDst()
	switch {
	case h.Layers&LayerTCP != 0:
		off = 16
		sum = PseudoSum(src, dst, ProtoTCP, len(l4))
	case h.Layers&LayerUDP != 0:
		off = 6
		sum = PseudoSum(src, dst, ProtoUDP, len(l4))
	case h.Layers&LayerICMPv6 != 0:
		off = 2
		sum = PseudoSum(src, dst, ProtoICMPv6, len(l4))
	case h.Layers&LayerICMPv4 != 0:
		off = 2
	default:
		return
	}
	l4[off], l4[off+1] = 0, 0
	cs := Checksum(l4, sum)
	if cs == 0 && h.Layers&LayerUDP != 0 {
		cs = 0xffff // 0 means "no checksum" in UDP
	}
	be.PutUint16(l4[off:], cs)
}

// finalDst is the destination the transport pseudo-header uses: for IPv6
// with a routing header not yet at its end, the last address of the route.
func (h *Headers) finalDst() netip.Addr {
	if h.Layers&LayerIPv6 == 0 {
		return h.IPv4.Dst
	}
	for i := 0; i < int(h.NumExt); i++ {
		x := &h.Ext[i]
		if x.Proto != ProtoRouting || len(x.Data) < 8 || x.Data[3] == 0 {
			continue
		}
		switch x.Data[2] {
		case 0, 2: // addresses follow a 4-byte reserved word, last is final
			if n := (len(x.Data) - 8) / 16; n > 0 {
				return netip.AddrFrom16([16]byte(x.Data[8+16*(n-1):]))
			}
		case 4: // SRH: segment list[0] is the final segment
			if len(x.Data) >= 24 {
				return netip.AddrFrom16([16]byte(x.Data[8:24]))
			}
		}
	}
	return h.IPv6.Dst
}

func append16(dst []byte, a netip.Addr) []byte {
	b := a.As16()
	return append(dst, b[:]...)
}

func addrLen(a, b netip.Addr, want int) int {
	if a.BitLen()/8 != want {
		return a.BitLen() / 8
	}
	return b.BitLen() / 8
}

// AppendOptions appends TCP options built from the parsed fields (Opts,
// MSS, WScale, TSVal, TSEcr, SACK) in the order and layout Linux writes them
// (tcp_options_write): MSS, SACK-permitted+timestamps, window scale, SACK
// blocks, NOP-padded to 4-byte words. Set the result as t.Options.
func (t *TCP) AppendOptions(dst []byte) []byte {
	if t.Opts&OptMSS != 0 {
		dst = append(dst, 2, 4)
		dst = be.AppendUint16(dst, t.MSS)
	}
	switch {
	case t.Opts&OptTimestamp != 0:
		if t.Opts&OptSACKPermitted != 0 {
			dst = append(dst, 4, 2, 8, 10)
		} else {
			dst = append(dst, 1, 1, 8, 10)
		}
		dst = be.AppendUint32(dst, t.TSVal)
		dst = be.AppendUint32(dst, t.TSEcr)
	case t.Opts&OptSACKPermitted != 0:
		dst = append(dst, 1, 1, 4, 2)
	}
	if t.Opts&OptWScale != 0 {
		dst = append(dst, 1, 3, 3, t.WScale)
	}
	if t.Opts&OptSACK != 0 && len(t.SACK) >= 8 {
		n := len(t.SACK) / 8
		if n > 4 {
			n = 4
		}
		dst = append(dst, 1, 1, 5, byte(2+8*n))
		dst = append(dst, t.SACK[:8*n]...)
	}
	return dst
}

// Linux limits on quoted data in ICMP errors: the whole error fits in 576
// bytes for IPv4 (icmp_send) and in the IPv6 minimum MTU of 1280 bytes
// (icmp6_send).
const (
	ICMPQuoteMax   = 576 - 20 - 8
	ICMPv6QuoteMax = 1280 - 40 - 8
)

// ICMPError describes an ICMP error message for AppendICMPError.
type ICMPError struct {
	Src        netip.Addr // the sender of the error (the router or host)
	Type, Code uint8
	Rest       uint32 // MTU, pointer or gateway, by type
	TTL        uint8  // TTL or hop limit; 0 means 64
	ID         uint16 // IPv4 identification
}

// AppendICMPError appends an ICMP (IPv4 orig) or ICMPv6 (IPv6 orig) error
// from e.Src to orig's source, quoting the start of orig (up to
// ICMPQuoteMax / ICMPv6QuoteMax bytes, as Linux does), with all lengths
// and checksums computed. For IPv4 the TOS is orig's TOS bits with
// precedence "internetwork control" (0xc0), as in Linux's icmp_send.
func AppendICMPError(dst []byte, orig []byte, e ICMPError) ([]byte, error) {
	var h Headers
	ttl := e.TTL
	if ttl == 0 {
		ttl = 64
	}
	h.ICMP = ICMP{Type: e.Type, Code: e.Code, Rest: e.Rest}
	switch {
	case len(orig) >= 20 && orig[0]>>4 == 4:
		h.Layers = LayerIPv4 | LayerICMPv4
		h.Proto = ProtoICMP
		h.IPv4 = IPv4{TOS: orig[1]&0x1e | 0xc0, ID: e.ID, TTL: ttl,
			Src: e.Src, Dst: netip.AddrFrom4([4]byte(orig[12:16]))}
		h.Payload = orig[:min(len(orig), ICMPQuoteMax)]
	case len(orig) >= 40 && orig[0]>>4 == 6:
		h.Layers = LayerIPv6 | LayerICMPv6
		h.Proto = ProtoICMPv6
		h.IPv6 = IPv6{HopLimit: ttl, Src: e.Src, Dst: netip.AddrFrom16([16]byte(orig[8:24]))}
		h.Payload = orig[:min(len(orig), ICMPv6QuoteMax)]
	default:
		return dst, encErr("ip", "quoted header bytes", OpLess, len(orig), 20)
	}
	return h.Append(dst, FixAll)
}
