package nflog

// IP protocol numbers the logger names.
const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoESP     = 50
	protoAH      = 51
	protoICMPv6  = 58
	protoUDPLite = 136
)

// dumpTCP is nf_log_dump_tcp_header. stop reports that the kernel
// returns from the packet dump right after (no UID or MARK part).
func dumpTCP(b []byte, s skb, fragment bool, off int, flags uint8) (_ []byte, stop bool) {
	b = append(b, "PROTO=TCP "...)
	if fragment {
		return b, false
	}
	th := s.at(off, 20)
	if th == nil {
		return appendIncomplete(b, s.rest(off)), true
	}
	b = append(b, "SPT="...)
	b = appendUint(b, uint32(be.Uint16(th)))
	b = append(b, " DPT="...)
	b = appendUint(b, uint32(be.Uint16(th[2:])))
	b = append(b, ' ')
	if flags&FlagTCPSeq != 0 {
		b = append(b, "SEQ="...)
		b = appendUint(b, be.Uint32(th[4:]))
		b = append(b, " ACK="...)
		b = appendUint(b, be.Uint32(th[8:]))
		b = append(b, ' ')
	}
	b = append(b, "WINDOW="...)
	b = appendUint(b, uint32(be.Uint16(th[14:])))
	// TCP_RESERVED_BITS is the three bits below the data offset (the
	// fourth, AE, is a flag since Linux 6.3), printed shifted by 22.
	b = append(b, " RES=0x"...)
	b = appendHex2(b, (th[12]&0x0e)<<2, hexLower)
	b = append(b, ' ')
	if th[12]&0x01 != 0 {
		b = append(b, "AE "...)
	}
	for _, f := range tcpFlags {
		if th[13]&f.bit != 0 {
			b = append(b, f.name...)
		}
	}
	b = append(b, "URGP="...)
	b = appendUint(b, uint32(be.Uint16(th[18:])))
	b = append(b, ' ')
	if hl := int(th[12]>>4) * 4; flags&FlagTCPOpt != 0 && hl > 20 {
		op := s.at(off+20, hl-20)
		if op == nil {
			return append(b, "OPT (TRUNCATED)"...), true
		}
		b = append(b, "OPT ("...)
		b = appendHexBytes(b, op)
		b = append(b, ") "...)
	}
	return b, false
}

// tcpFlags in the order nf_log_dump_tcp_header prints them.
var tcpFlags = [...]struct {
	bit  byte
	name string
}{
	{0x80, "CWR "}, {0x40, "ECE "}, {0x20, "URG "}, {0x10, "ACK "},
	{0x08, "PSH "}, {0x04, "RST "}, {0x02, "SYN "}, {0x01, "FIN "},
}

// dumpUDP is nf_log_dump_udp_header (UDP and UDP-Lite).
func dumpUDP(b []byte, s skb, proto uint8, fragment bool, off int) (_ []byte, stop bool) {
	if proto == protoUDP {
		b = append(b, "PROTO=UDP "...)
	} else {
		b = append(b, "PROTO=UDPLITE "...)
	}
	if fragment {
		return b, false
	}
	uh := s.at(off, 8)
	if uh == nil {
		return appendIncomplete(b, s.rest(off)), true
	}
	b = append(b, "SPT="...)
	b = appendUint(b, uint32(be.Uint16(uh)))
	b = append(b, " DPT="...)
	b = appendUint(b, uint32(be.Uint16(uh[2:])))
	b = append(b, " LEN="...)
	b = appendUint(b, uint32(be.Uint16(uh[4:])))
	return append(b, ' '), false
}

// appendIncomplete is "INCOMPLETE [%u bytes] ".
func appendIncomplete(b []byte, n uint32) []byte {
	b = append(b, "INCOMPLETE ["...)
	b = appendUint(b, n)
	return append(b, " bytes] "...)
}

// appendSPI is "SPI=0x%x " (AH and ESP).
func appendSPI(b []byte, spi uint32) []byte {
	b = append(b, "SPI=0x"...)
	b = appendHexU32(b, spi)
	return append(b, ' ')
}
