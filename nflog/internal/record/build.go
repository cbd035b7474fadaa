package main

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// Packet builders for the recorded cases. They lay out headers byte by
// byte so that cases can hold what a stack would never send (truncated
// headers, odd lengths, reserved bits); checksums are computed where a
// reply from the kernel depends on them.

var be = binary.BigEndian

// ip4 is an IPv4 header to build.
type ip4 struct {
	tos     uint8
	id      uint16
	fl      uint16 // ipCE|ipDF|ipMF
	frag    uint16 // offset in 8-byte units
	ttl     uint8
	proto   uint8
	src     string
	dst     string
	opts    []byte // a multiple of 4 bytes
	totLen  int    // 0: the real length
	noL4Sum bool   // leave the transport checksum alone
}

const (
	ipCE = 0x8000
	ipDF = 0x4000
	ipMF = 0x2000
)

// build returns the packet: header, options, payload. The transport
// checksum (TCP, UDP, ICMP) is filled in for unfragmented packets.
func (h ip4) build(payload []byte) []byte {
	hl := 20 + len(h.opts)
	b := make([]byte, hl, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	b[1] = h.tos
	tot := hl + len(payload)
	if h.totLen != 0 {
		tot = h.totLen
	}
	be.PutUint16(b[2:], uint16(tot))
	be.PutUint16(b[4:], h.id)
	be.PutUint16(b[6:], h.fl|h.frag)
	ttl := h.ttl
	if ttl == 0 {
		ttl = 64
	}
	b[8] = ttl
	b[9] = h.proto
	src, dst := netip.MustParseAddr(h.src), netip.MustParseAddr(h.dst)
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	copy(b[20:], h.opts)
	be.PutUint16(b[10:], packet.Checksum(b[:hl], 0))
	b = append(b, payload...)
	if !h.noL4Sum && h.frag == 0 && h.fl&ipMF == 0 {
		fixL4(b[hl:], src, dst, h.proto, false)
	}
	return b
}

// ip6 is an IPv6 header to build; payload is everything after it
// (extension headers included).
type ip6 struct {
	tc      uint8
	flow    uint32
	hlim    uint8
	next    uint8
	src     string
	dst     string
	plen    int // 0: the real length
	l4off   int // where the transport header starts in the payload
	noL4Sum bool
}

func (h ip6) build(payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	be.PutUint32(b, 6<<28|uint32(h.tc)<<20|h.flow&0xfffff)
	plen := len(payload)
	if h.plen != 0 {
		plen = h.plen
	}
	be.PutUint16(b[4:], uint16(plen))
	b[6] = h.next
	hlim := h.hlim
	if hlim == 0 {
		hlim = 64
	}
	b[7] = hlim
	src, dst := netip.MustParseAddr(h.src), netip.MustParseAddr(h.dst)
	s16, d16 := src.As16(), dst.As16()
	copy(b[8:], s16[:])
	copy(b[24:], d16[:])
	b = append(b, payload...)
	if !h.noL4Sum && h.l4off >= 0 && 40+h.l4off <= len(b) {
		proto := h.next
		if h.l4off > 0 {
			proto = lastNext(payload, h.next, h.l4off)
		}
		fixL4(b[40+h.l4off:], src, dst, proto, true)
	}
	return b
}

// lastNext finds the next-header value naming the header at l4off by
// walking the extension headers in payload.
func lastNext(payload []byte, next uint8, l4off int) uint8 {
	off := 0
	for off < l4off && off+2 <= len(payload) {
		n := payload[off]
		switch next {
		case 44:
			off += 8
		case 51:
			off += (int(payload[off+1]) + 2) * 4
		default:
			off += (int(payload[off+1]) + 1) * 8
		}
		next = n
	}
	return next
}

// fixL4 fills the checksum of the transport segment seg.
func fixL4(seg []byte, src, dst netip.Addr, proto uint8, v6 bool) {
	var at int
	pseudo := true
	switch proto {
	case 6:
		at = 16
	case 17, 136:
		at = 6
	case 1:
		at, pseudo = 2, false
	case 58:
		at = 2
	default:
		return
	}
	if len(seg) < at+2 {
		return
	}
	seg[at], seg[at+1] = 0, 0
	var init uint32
	if pseudo {
		init = packet.PseudoSum(src, dst, proto, len(seg))
	}
	cs := packet.Checksum(seg, init)
	if cs == 0 && proto == 17 {
		cs = 0xffff
	}
	be.PutUint16(seg[at:], cs)
}

// tcp is a TCP header to build.
type tcp struct {
	sp, dp   uint16
	seq, ack uint32
	doff     uint8 // 0: from the options
	res      uint8 // the low nibble of byte 12 (three reserved bits and AE)
	flags    uint8
	win      uint16
	urg      uint16
	opts     []byte // a multiple of 4 bytes
}

const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
	urg = 0x20
	ece = 0x40
	cwr = 0x80
)

func (t tcp) build(data []byte) []byte {
	b := make([]byte, 20, 20+len(t.opts)+len(data))
	be.PutUint16(b, t.sp)
	be.PutUint16(b[2:], t.dp)
	be.PutUint32(b[4:], t.seq)
	be.PutUint32(b[8:], t.ack)
	doff := t.doff
	if doff == 0 {
		doff = uint8(5 + len(t.opts)/4)
	}
	b[12] = doff<<4 | t.res&0xf
	b[13] = t.flags
	be.PutUint16(b[14:], t.win)
	be.PutUint16(b[18:], t.urg)
	b = append(b, t.opts...)
	return append(b, data...)
}

// synOpts are the options of a Linux SYN: MSS, SACK permitted,
// timestamps, NOP, window scale.
func synOpts(mss uint16, tsval uint32, ws uint8) []byte {
	o := []byte{2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, ws}
	be.PutUint16(o[2:], mss)
	be.PutUint32(o[8:], tsval)
	return o
}

func udp(sp, dp uint16, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	be.PutUint16(b, sp)
	be.PutUint16(b[2:], dp)
	be.PutUint16(b[4:], uint16(8+len(data)))
	return append(b, data...)
}

// icmp is an ICMP or ICMPv6 message: type, code, the 32-bit rest word and
// the body.
func icmp(typ, code uint8, rest uint32, body []byte) []byte {
	b := make([]byte, 8, 8+len(body))
	b[0], b[1] = typ, code
	be.PutUint32(b[4:], rest)
	return append(b, body...)
}

func echo(id, seq uint16) uint32 { return uint32(id)<<16 | uint32(seq) }

// fill returns n bytes of a recognisable pattern.
func fill(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// ext6 is an IPv6 options-type extension header (hop-by-hop, routing,
// destination options) of 8*(hdrlen+1) bytes; body fills it after the
// first two bytes (padded with zeros).
func ext6(next uint8, hdrlen uint8, body []byte) []byte {
	n := (int(hdrlen) + 1) * 8
	b := make([]byte, n)
	b[0], b[1] = next, hdrlen
	copy(b[2:], body)
	return b
}

// frag6 is an IPv6 fragment header; off is in bytes (a multiple of 8).
func frag6(next uint8, off uint16, more bool, id uint32) []byte {
	b := make([]byte, 8)
	b[0] = next
	fo := off &^ 7
	if more {
		fo |= 1
	}
	be.PutUint16(b[2:], fo)
	be.PutUint32(b[4:], id)
	return b
}

// ah is an AH header with a 12-byte ICV (hdrlen 4: 24 bytes).
func ah(next uint8, spi, seq uint32) []byte {
	b := make([]byte, 24)
	b[0], b[1] = next, 4
	be.PutUint32(b[4:], spi)
	be.PutUint32(b[8:], seq)
	copy(b[12:], fill(12))
	return b
}

// esp is an ESP header and an opaque body.
func esp(spi, seq uint32, n int) []byte {
	b := make([]byte, 8, 8+n)
	be.PutUint32(b, spi)
	be.PutUint32(b[4:], seq)
	return append(b, fill(n)...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func mac(s string) []byte {
	var b []byte
	for i := 0; i+1 < len(s); i += 3 {
		var v byte
		for _, c := range s[i : i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				v |= byte(c - 'a' + 10)
			}
		}
		b = append(b, v)
	}
	return b
}
