package mangle

import (
	"encoding/binary"

	"github.com/iptwin/iptwin/packet"
)

// In-place header rewrites of the mangle targets, with the checksum
// updates the kernel makes (the packet package has setters for addresses,
// ports and TTL only). They change the packet's bytes and the decoded
// fields that mirror them.

var be = binary.BigEndian

// setIPv4DSField is ipv4_change_dsfield: tos = (tos & mask) | value, with
// the kernel's own incremental update of the header checksum.
func setIPv4DSField(h *packet.Headers, mask, value uint8) {
	if len(h.Net) < 20 {
		return
	}
	tos := h.Net[1]
	ds := tos&mask | value
	check := uint32(be.Uint16(h.Net[10:]))
	check += uint32(tos)
	if (check+1)>>16 != 0 {
		check = (check + 1) & 0xffff
	}
	check -= uint32(ds)
	check += check >> 16 // carry
	be.PutUint16(h.Net[10:], uint16(check))
	h.Net[1] = ds
	h.IPv4.TOS, h.IPv4.Checksum = ds, uint16(check)
}

// setIPv6DSField is ipv6_change_dsfield: the traffic class bits kept by
// mask, value added (no checksum in IPv6).
func setIPv6DSField(h *packet.Headers, mask, value uint8) {
	if len(h.Net) < 2 {
		return
	}
	w := be.Uint16(h.Net)
	w = w&(uint16(mask)<<4|0xf00f) | uint16(value)<<4
	be.PutUint16(h.Net, w)
	h.IPv6.TrafficClass = uint8(w >> 4)
}

// dsField is ipv4_get_dsfield / ipv6_get_dsfield.
func dsField(h *packet.Headers) uint8 {
	if h.IsIPv4() {
		return h.IPv4.TOS
	}
	return h.IPv6.TrafficClass
}

// transportOffset is where the transport header starts in h.Data: after
// the IPv4 header (ip_hdrlen) or the IPv6 extension headers.
func transportOffset(h *packet.Headers) int {
	if h.IsIPv4() {
		return int(h.IPv4.IHL) * 4
	}
	return len(h.Net)
}

// csumReplace2 is inet_proto_csum_replace2 on a checksum field in b at
// off (csum_replace2: RFC 1624).
func csumReplace2(b []byte, off int, old, new uint16) {
	be.PutUint16(b[off:], packet.Update16(be.Uint16(b[off:]), old, new))
}

// csumReplace4 is inet_proto_csum_replace4.
func csumReplace4(b []byte, off int, old, new uint32) {
	be.PutUint16(b[off:], packet.Update32(be.Uint16(b[off:]), old, new))
}

// tcpOptLen is optlen of xt_TCPMSS and xt_TCPOPTSTRIP: one byte for EOL,
// NOP or a zero length, so that the walk always moves on.
func tcpOptLen(opt []byte, i int) int {
	if opt[i] <= 1 || i+1 >= len(opt) || opt[i+1] == 0 {
		return 1
	}
	return int(opt[i+1])
}
