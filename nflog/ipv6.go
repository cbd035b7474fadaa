package nflog

// IPv6 extension header numbers dump_ipv6_packet walks (nf_ip6_ext_hdr;
// NEXTHDR_NONE ends the walk and is printed as PROTO=59).
const (
	nexthdrHop      = 0
	nexthdrRouting  = 43
	nexthdrFragment = 44
	nexthdrNone     = 59
	nexthdrDest     = 60
)

func isIPv6Ext(h uint8) bool {
	switch h {
	case nexthdrHop, nexthdrRouting, nexthdrFragment, protoESP, protoAH, nexthdrNone, nexthdrDest:
		return true
	}
	return false
}

// dumpIPv6 is dump_ipv6_packet for the IPv6 header at off; recurse is
// set for the packet itself and clear for the packet an ICMPv6 error
// quotes.
func dumpIPv6(b []byte, s skb, off int, recurse bool, m *Meta) []byte {
	ih := s.at(off, 40)
	if ih == nil {
		return append(b, "TRUNCATED"...)
	}
	ipopt := m.Flags&FlagIPOpt != 0
	w := be.Uint32(ih)
	b = append(b, "SRC="...)
	b = appendIPv6(b, ih[8:24])
	b = append(b, " DST="...)
	b = appendIPv6(b, ih[24:40])
	b = append(b, " LEN="...)
	b = appendUint(b, uint32(be.Uint16(ih[4:]))+40)
	b = append(b, " TC="...)
	b = appendUint(b, (w&0x0ff00000)>>20)
	b = append(b, " HOPLIMIT="...)
	b = appendUint(b, uint32(ih[7]))
	b = append(b, " FLOWLBL="...)
	b = appendUint(b, w&0x000fffff)
	b = append(b, ' ')

	fragment := false
	ptr := off + 40
	cur := ih[6]
	for cur != nexthdrNone && isIPv6Ext(cur) {
		hp := s.at(ptr, 2)
		if hp == nil {
			return append(b, "TRUNCATED"...)
		}
		if ipopt {
			b = append(b, "OPT ( "...)
		}
		var hdrlen int
		switch cur {
		case nexthdrFragment:
			// Printed with or without --log-ip-options.
			b = append(b, "FRAG:"...)
			fh := s.at(ptr, 8)
			if fh == nil {
				return append(b, "TRUNCATED "...)
			}
			fo := be.Uint16(fh[2:])
			b = appendUint(b, uint32(fo&0xfff8)) // the offset in bytes
			b = append(b, ' ')
			if fo&1 != 0 {
				b = append(b, "INCOMPLETE "...)
			}
			b = append(b, "ID:"...)
			b = appendHex08(b, be.Uint32(fh[4:]))
			b = append(b, ' ')
			if fo&0xfff8 != 0 {
				fragment = true
			}
			hdrlen = 8
		case nexthdrDest, nexthdrRouting, nexthdrHop:
			if fragment {
				if ipopt {
					b = append(b, ')')
				}
				return b
			}
			hdrlen = (int(hp[1]) + 1) * 8 // ipv6_optlen
		case protoAH:
			if ipopt {
				b = append(b, "AH "...)
				if fragment {
					return append(b, ')')
				}
				ah := s.at(ptr, 12)
				if ah == nil {
					b = append(b, "INCOMPLETE ["...)
					b = appendUint(b, s.rest(ptr))
					return append(b, " bytes] )"...)
				}
				b = appendSPI(b, be.Uint32(ah[4:]))
			}
			hdrlen = (int(hp[1]) + 2) * 4 // ipv6_authlen
		case protoESP:
			// The walk ends here, and so does the line: no PROTO, UID or MARK.
			if ipopt {
				b = append(b, "ESP "...)
				if fragment {
					return append(b, ')')
				}
				eh := s.at(ptr, 8)
				if eh == nil {
					b = append(b, "INCOMPLETE ["...)
					b = appendUint(b, s.rest(ptr))
					return append(b, " bytes] )"...)
				}
				b = append(b, "SPI=0x"...)
				b = appendHexU32(b, be.Uint32(eh))
				b = append(b, " )"...)
			}
			return b
		}
		if ipopt {
			b = append(b, ") "...)
		}
		cur = hp[0]
		ptr += hdrlen
	}

	var stop bool
	switch cur {
	case protoTCP:
		b, stop = dumpTCP(b, s, fragment, ptr, m.Flags)
	case protoUDP, protoUDPLite:
		b, stop = dumpUDP(b, s, cur, fragment, ptr)
	case protoICMPv6:
		b, stop = dumpICMPv6(b, s, fragment, ptr, recurse, m)
	default:
		b = append(b, "PROTO="...)
		b = appendUint(b, uint32(cur))
		b = append(b, ' ')
	}
	if stop || !recurse {
		return b
	}
	return appendOwner(b, m)
}

// dumpICMPv6 is the IPPROTO_ICMPV6 case of dump_ipv6_packet.
func dumpICMPv6(b []byte, s skb, fragment bool, ptr int, recurse bool, m *Meta) (_ []byte, stop bool) {
	b = append(b, "PROTO=ICMPv6 "...)
	if fragment {
		return b, false
	}
	ic := s.at(ptr, 8)
	if ic == nil {
		return appendIncomplete(b, s.rest(ptr)), true
	}
	typ := ic[0]
	b = append(b, "TYPE="...)
	b = appendUint(b, uint32(typ))
	b = append(b, " CODE="...)
	b = appendUint(b, uint32(ic[1]))
	b = append(b, ' ')
	switch typ {
	case 128, 129: // echo request, echo reply
		b = append(b, "ID="...)
		b = appendUint(b, uint32(be.Uint16(ic[4:])))
		b = append(b, " SEQ="...)
		b = appendUint(b, uint32(be.Uint16(ic[6:])))
		b = append(b, ' ')
	case 4, 1, 2, 3: // parameter problem, unreachable, too big, time exceeded
		if typ == 4 {
			b = append(b, "POINTER="...)
			b = appendHex08(b, be.Uint32(ic[4:]))
			b = append(b, ' ')
		}
		if recurse {
			b = append(b, '[')
			b = dumpIPv6(b, s, ptr+8, false, m)
			b = append(b, "] "...)
		}
		if typ == 2 {
			b = append(b, "MTU="...)
			b = appendUint(b, be.Uint32(ic[4:]))
			b = append(b, ' ')
		}
	}
	return b, false
}
