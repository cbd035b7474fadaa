package icmpgen

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

var be = binary.BigEndian

// appendIPv4 appends a 20-byte IPv4 header (no options) with its
// checksum; total is the whole packet's length.
func appendIPv4(dst []byte, tos uint8, total int, id uint16, df bool, ttl, proto uint8, src, dstAddr netip.Addr) []byte {
	start := len(dst)
	var frag uint16
	if df {
		frag = 0x4000
	}
	dst = append(dst, 0x45, tos)
	dst = be.AppendUint16(dst, uint16(total))
	dst = be.AppendUint16(dst, id)
	dst = be.AppendUint16(dst, frag)
	dst = append(dst, ttl, proto, 0, 0)
	a, b := src.As4(), dstAddr.As4()
	dst = append(dst, a[:]...)
	dst = append(dst, b[:]...)
	be.PutUint16(dst[start+10:], packet.Checksum(dst[start:start+20], 0))
	return dst
}

// appendIPv6 appends a 40-byte IPv6 header.
func appendIPv6(dst []byte, tclass uint8, flow uint32, plen int, next, hlim uint8, src, dstAddr netip.Addr) []byte {
	dst = be.AppendUint32(dst, 6<<28|uint32(tclass)<<20|flow&0xfffff)
	dst = be.AppendUint16(dst, uint16(plen))
	dst = append(dst, next, hlim)
	a, b := src.As16(), dstAddr.As16()
	dst = append(dst, a[:]...)
	return append(dst, b[:]...)
}

// v4Addrs reads the addresses of the IPv4 header at b.
func v4Addrs(b []byte) (src, dst netip.Addr) {
	return netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
}

// v6Addrs reads the addresses of the IPv6 header at b.
func v6Addrs(b []byte) (src, dst netip.Addr) {
	return netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
}

// ipData is the packet's bytes from the IP header to the end its length
// field gives (the skb after ip_rcv / ipv6_rcv trimmed it), or nil.
func ipData(p *packet.Packet) []byte {
	if p == nil {
		return nil
	}
	d := p.Data
	switch {
	case p.IsIPv4() && len(d) >= 20:
		return d
	case p.IsIPv6() && len(d) >= 40:
		return d
	}
	return nil
}

// fixChecksum stores the Internet checksum of b (plus the partial sum
// initial) at b[at:at+2].
func fixChecksum(b []byte, at int, initial uint32) {
	b[at], b[at+1] = 0, 0
	be.PutUint16(b[at:], packet.Checksum(b, initial))
}
