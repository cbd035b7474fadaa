package icmpgen

import "github.com/iptwin/iptwin/packet"

// IPv6 address type bits of __ipv6_addr_type (include/net/ipv6.h) that the
// senders test.
const (
	addrAny       = 0x0000
	addrUnicast   = 0x0001
	addrMulticast = 0x0002
	addrLoopback  = 0x0010
	addrLinkLocal = 0x0020
	addrSiteLocal = 0x0040
	addrCompatV4  = 0x0080
	addrMapped    = 0x1000
)

// ipv6AddrType classifies a 16-byte address as __ipv6_addr_type does:
// v4-mapped addresses are not unicast, the unspecified address is none.
func ipv6AddrType(a []byte) int {
	st := be.Uint32(a)
	if st&0xE0000000 != 0 && st&0xE0000000 != 0xE0000000 {
		return addrUnicast
	}
	if st&0xFF000000 == 0xFF000000 {
		return addrMulticast
	}
	if st&0xFFC00000 == 0xFE800000 {
		return addrLinkLocal | addrUnicast
	}
	if st&0xFFC00000 == 0xFEC00000 {
		return addrSiteLocal | addrUnicast
	}
	if st&0xFE000000 == 0xFC000000 {
		return addrUnicast
	}
	w1, w2, w3 := be.Uint32(a[4:]), be.Uint32(a[8:]), be.Uint32(a[12:])
	if st|w1 == 0 {
		if w2 == 0 {
			switch w3 {
			case 0:
				return addrAny
			case 1:
				return addrLoopback | addrUnicast
			}
			return addrCompatV4 | addrUnicast
		}
		if w2 == 0x0000ffff {
			return addrMapped
		}
	}
	return addrUnicast
}

// ipv6ExtHdr is ipv6_ext_hdr: the headers ipv6_skip_exthdr walks over.
func ipv6ExtHdr(nh uint8) bool {
	switch nh {
	case packet.ProtoHopByHop, packet.ProtoRouting, packet.ProtoFragment,
		packet.ProtoAH, packet.ProtoNoNext, packet.ProtoDstOpts:
		return true
	}
	return false
}

// skipExthdr is ipv6_skip_exthdr over the IPv6 packet b from the end of
// its fixed header: the offset and protocol of the first header that is
// not an extension header, and the fragment offset word of a fragment
// header on the way (it stops at a non-first fragment's header, leaving
// next = 44). off is -1 where the kernel fails (truncated chain, no
// next header).
func skipExthdr(b []byte) (off int, next uint8, fragOff uint16) {
	next = b[6]
	off = 40
	for ipv6ExtHdr(next) {
		if next == packet.ProtoNoNext {
			return -1, next, fragOff
		}
		if off+2 > len(b) {
			return -1, next, fragOff
		}
		var n int
		switch next {
		case packet.ProtoFragment:
			if off+4 > len(b) {
				return -1, next, fragOff
			}
			fragOff = be.Uint16(b[off+2:])
			if fragOff&^7 != 0 {
				return off, next, fragOff
			}
			n = 8
		case packet.ProtoAH:
			n = (int(b[off+1]) + 2) << 2
		default:
			n = (int(b[off+1]) + 1) << 3
		}
		next = b[off]
		off += n
	}
	return off, next, fragOff
}
