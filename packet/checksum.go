package packet

import "net/netip"

// Sum adds b as big-endian 16-bit words (a final odd byte padded with a
// zero) to the partial ones' complement sum initial and returns the new
// partial sum. Checksums are built from partial sums: Checksum(b, Sum(x, 0))
// covers x then b when len(x) is even.
func Sum(b []byte, initial uint32) uint32 {
	s := uint64(initial)
	for len(b) >= 8 {
		w := be.Uint64(b)
		s += w>>32 + w&0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		s += uint64(be.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(be.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return fold32(s)
}

func fold32(s uint64) uint32 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	return uint32(s)
}

func fold16(s uint32) uint16 {
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// Checksum is the Internet checksum (RFC 1071) of b added to the partial
// sum initial (e.g. a pseudo-header from PseudoSum): the complement of the
// folded ones' complement sum. A packet whose checksum field is included
// verifies when Checksum returns 0.
func Checksum(b []byte, initial uint32) uint16 {
	return ^fold16(Sum(b, initial))
}

// PseudoSum is the partial sum of the TCP/UDP/ICMPv6 pseudo-header
// (RFC 793/768 for IPv4, RFC 8200 section 8.1 for IPv6): both addresses,
// the protocol and the upper-layer length.
func PseudoSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	s := uint64(proto) + uint64(uint32(length)>>16) + uint64(length&0xffff)
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		s += uint64(be.Uint16(a[:])) + uint64(be.Uint16(a[2:])) + uint64(be.Uint16(b[:])) + uint64(be.Uint16(b[2:]))
	} else {
		a, b := src.As16(), dst.As16()
		s += uint64(Sum(a[:], 0)) + uint64(Sum(b[:], 0))
	}
	return fold32(s)
}

// Update16 returns checksum cs updated for a 16-bit word of the covered data
// changing from old to new, by RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
func Update16(cs, old, new uint16) uint16 {
	s := uint32(^cs) + uint32(^old) + uint32(new)
	return ^fold16(s)
}

// Update32 is Update16 for a 32-bit value (two adjacent words).
func Update32(cs uint16, old, new uint32) uint16 {
	s := uint32(^cs) + uint32(^uint16(old>>16)) + uint32(^uint16(old)) + uint32(uint16(new>>16)) + uint32(uint16(new))
	return ^fold16(s)
}

// UpdateAddr is Update16 for an address (4 or 16 bytes) changing from old
// to new; both must be of the same family.
func UpdateAddr(cs uint16, old, new netip.Addr) uint16 {
	if old.Is4() {
		a, b := old.As4(), new.As4()
		return Update32(cs, be.Uint32(a[:]), be.Uint32(b[:]))
	}
	a, b := old.As16(), new.As16()
	s := uint32(^cs)
	for i := 0; i < 16; i += 2 {
		s += uint32(^be.Uint16(a[i:])) + uint32(be.Uint16(b[i:]))
	}
	return ^fold16(s)
}

// ChecksumsOK verifies the IPv4 header checksum (ip is true for IPv6) and
// the transport checksum of TCP, UDP (an IPv4 UDP checksum of 0 means none
// and verifies), ICMP and ICMPv6. The transport checksum of a fragment or
// a truncated packet cannot be verified and is reported as true.
func (h *Headers) ChecksumsOK() (ip, transport bool) {
	ip, transport = true, true
	if h.Layers&LayerIPv4 != 0 {
		ip = len(h.Net) >= 20 && Checksum(h.Net[:int(h.IPv4.IHL)*4], 0) == 0
	}
	if h.IsFragment() || h.Truncated || len(h.Transport) == 0 {
		return ip, transport
	}
	l4 := h.Data[len(h.Net):]
	src, dst := h.Src(), h.finalDst()
	switch {
	case h.Layers&LayerTCP != 0:
		transport = Checksum(l4, PseudoSum(src, dst, ProtoTCP, len(l4))) == 0
	case h.Layers&LayerUDP != 0:
		if h.UDP.Checksum == 0 && h.Layers&LayerIPv4 != 0 {
			return ip, true
		}
		l4 = l4[:min(len(l4), int(h.UDP.Length))]
		transport = Checksum(l4, PseudoSum(src, dst, ProtoUDP, len(l4))) == 0
	case h.Layers&LayerICMPv6 != 0:
		transport = Checksum(l4, PseudoSum(src, dst, ProtoICMPv6, len(l4))) == 0
	case h.Layers&LayerICMPv4 != 0:
		transport = Checksum(l4, 0) == 0
	}
	return ip, transport
}
