package nflog

// IPv4 fragment word bits (IP_CE, IP_DF, IP_MF, IP_OFFSET).
const (
	ipCE     = 0x8000
	ipDF     = 0x4000
	ipMF     = 0x2000
	ipOffset = 0x1fff
)

// dumpIPv4 is dump_ipv4_packet for the IPv4 header at iphoff: 0 for the
// packet itself, past the ICMP header for the packet an error quotes
// (which the kernel prints without recursing further and without the
// UID and MARK parts).
func dumpIPv4(b []byte, s skb, iphoff int, m *Meta) []byte {
	ih := s.at(iphoff, 20)
	if ih == nil {
		return append(b, "TRUNCATED"...)
	}
	b = append(b, "SRC="...)
	b = appendIPv4(b, ih[12:16])
	b = append(b, " DST="...)
	b = appendIPv4(b, ih[16:20])
	b = append(b, " LEN="...)
	b = appendUint(b, uint32(be.Uint16(ih[2:])))
	// IPTOS_TOS_MASK and IPTOS_PREC_MASK: the ECN bits are not shown.
	b = append(b, " TOS=0x"...)
	b = appendHex2(b, ih[1]&0x1e, hexUpper)
	b = append(b, " PREC=0x"...)
	b = appendHex2(b, ih[1]&0xe0, hexUpper)
	b = append(b, " TTL="...)
	b = appendUint(b, uint32(ih[8]))
	b = append(b, " ID="...)
	b = appendUint(b, uint32(be.Uint16(ih[4:])))
	b = append(b, ' ')

	fo := be.Uint16(ih[6:])
	if fo&ipCE != 0 {
		b = append(b, "CE "...)
	}
	if fo&ipDF != 0 {
		b = append(b, "DF "...)
	}
	if fo&ipMF != 0 {
		b = append(b, "MF "...)
	}
	frag := fo & ipOffset
	if frag != 0 {
		// In 8-byte units, as the header holds it.
		b = append(b, "FRAG:"...)
		b = appendUint(b, uint32(frag))
		b = append(b, ' ')
	}
	fragment := frag != 0

	ihl := int(ih[0]&0xf) * 4
	if m.Flags&FlagIPOpt != 0 && ihl > 20 {
		op := s.at(iphoff+20, ihl-20)
		if op == nil {
			return append(b, "TRUNCATED"...)
		}
		b = append(b, "OPT ("...)
		b = appendHexBytes(b, op)
		b = append(b, ") "...)
	}

	l4 := iphoff + ihl
	var stop bool
	switch proto := ih[9]; proto {
	case protoTCP:
		b, stop = dumpTCP(b, s, fragment, l4, m.Flags)
	case protoUDP, protoUDPLite:
		b, stop = dumpUDP(b, s, proto, fragment, l4)
	case protoICMP:
		b = dumpICMP(b, s, fragment, iphoff, l4, m)
	case protoAH:
		// A later fragment of AH prints nothing at all.
		if fragment {
			break
		}
		b = append(b, "PROTO=AH "...)
		ah := s.at(l4, 12)
		if ah == nil {
			b = appendIncomplete(b, s.rest(l4))
			break
		}
		b = appendSPI(b, be.Uint32(ah[4:]))
	case protoESP:
		b = append(b, "PROTO=ESP "...)
		if fragment {
			break
		}
		eh := s.at(l4, 8)
		if eh == nil {
			b = appendIncomplete(b, s.rest(l4))
			break
		}
		b = appendSPI(b, be.Uint32(eh))
	default:
		b = append(b, "PROTO="...)
		b = appendUint(b, uint32(proto))
		b = append(b, ' ')
	}
	if stop || iphoff != 0 {
		return b
	}
	return appendOwner(b, m)
}

// icmpRequiredLen is dump_ipv4_packet's required_len: the bytes a message
// of each type must have from its ICMP header on to be printed.
var icmpRequiredLen = [19]uint32{
	0:  4,      // echo reply
	3:  8 + 20, // destination unreachable
	4:  8 + 20, // source quench
	5:  8 + 20, // redirect
	8:  4,      // echo
	11: 8 + 20, // time exceeded
	12: 8 + 20, // parameter problem
	13: 20,     // timestamp
	14: 20,     // timestamp reply
	17: 12,     // address mask request
	18: 12,     // address mask reply
}

// dumpICMP is the IPPROTO_ICMP case of dump_ipv4_packet; l4 is the
// offset of the ICMP header.
func dumpICMP(b []byte, s skb, fragment bool, iphoff, l4 int, m *Meta) []byte {
	b = append(b, "PROTO=ICMP "...)
	if fragment {
		return b
	}
	ich := s.at(l4, 8)
	if ich == nil {
		return appendIncomplete(b, s.rest(l4))
	}
	typ, code := ich[0], ich[1]
	b = append(b, "TYPE="...)
	b = appendUint(b, uint32(typ))
	b = append(b, " CODE="...)
	b = appendUint(b, uint32(code))
	b = append(b, ' ')
	if int(typ) < len(icmpRequiredLen) && icmpRequiredLen[typ] != 0 && s.rest(l4) < icmpRequiredLen[typ] {
		return appendIncomplete(b, s.rest(l4))
	}
	switch typ {
	case 0, 8: // echo reply, echo
		b = append(b, "ID="...)
		b = appendUint(b, uint32(be.Uint16(ich[4:])))
		b = append(b, " SEQ="...)
		b = appendUint(b, uint32(be.Uint16(ich[6:])))
		b = append(b, ' ')
	case 12: // parameter problem: the pointer, and no quoted packet
		b = append(b, "PARAMETER="...)
		b = appendUint(b, uint32(ich[4]))
		b = append(b, ' ')
	case 5, 3, 4, 11: // redirect, unreachable, source quench, time exceeded
		if typ == 5 {
			b = append(b, "GATEWAY="...)
			b = appendIPv4(b, ich[4:8])
			b = append(b, ' ')
		}
		if iphoff == 0 { // only recurse once
			b = append(b, '[')
			b = dumpIPv4(b, s, l4+8, m)
			b = append(b, "] "...)
		}
		if typ == 3 && code == 4 { // fragmentation needed
			b = append(b, "MTU="...)
			b = appendUint(b, uint32(be.Uint16(ich[6:])))
			b = append(b, ' ')
		}
	}
	return b
}
