//go:build linux

package main

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// Builders of trigger packets. All lengths and checksums are computed
// (packet.FixAll) unless a case breaks them on purpose.

// The addresses of the three namespaces (see topo.go).
const (
	c4, h4, h4b, s4, bc4 = "10.0.1.2", "10.0.1.1", "10.0.2.1", "10.0.2.2", "10.0.1.255"
	c6, h6, h6b, s6      = "fd00:1::2", "fd00:1::1", "fd00:2::1", "fd00:2::2"
)

type mod func(h *packet.Headers)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func build(h packet.Headers, mods []mod) []byte {
	for _, m := range mods {
		m(&h)
	}
	b, err := h.Append(nil, packet.FixAll)
	if err != nil {
		panic(err)
	}
	return b
}

func ip(proto uint8, src, dst string) packet.Headers {
	s, d := addr(src), addr(dst)
	if s.Is4() {
		return packet.Headers{Layers: packet.LayerIPv4, Proto: proto,
			IPv4: packet.IPv4{TTL: 64, ID: 0x1c46, Src: s, Dst: d}}
	}
	return packet.Headers{Layers: packet.LayerIPv6, Proto: proto,
		IPv6: packet.IPv6{HopLimit: 64, FlowLabel: 0x2f1a3, Src: s, Dst: d}}
}

func udp(src, dst string, sport, dport uint16, payload []byte, mods ...mod) []byte {
	h := ip(packet.ProtoUDP, src, dst)
	h.Layers |= packet.LayerUDP
	h.UDP = packet.UDP{SrcPort: sport, DstPort: dport}
	h.Payload = payload
	return build(h, mods)
}

func tcp(src, dst string, sport, dport uint16, flags uint8, seq, ack uint32, payload []byte, mods ...mod) []byte {
	h := ip(packet.ProtoTCP, src, dst)
	h.Layers |= packet.LayerTCP
	h.TCP = packet.TCP{SrcPort: sport, DstPort: dport, Seq: seq, Ack: ack, Flags: flags, Window: 64240}
	if flags&packet.TCPSyn != 0 {
		h.TCP.Opts = packet.OptMSS | packet.OptSACKPermitted | packet.OptTimestamp | packet.OptWScale
		h.TCP.MSS, h.TCP.WScale, h.TCP.TSVal = 1460, 7, 0x01020304
		h.TCP.Options = h.TCP.AppendOptions(nil)
	}
	h.Payload = payload
	return build(h, mods)
}

func icmp(src, dst string, typ, code uint8, rest uint32, payload []byte, mods ...mod) []byte {
	a := addr(src)
	var h packet.Headers
	if a.Is4() {
		h = ip(packet.ProtoICMP, src, dst)
		h.Layers |= packet.LayerICMPv4
	} else {
		h = ip(packet.ProtoICMPv6, src, dst)
		h.Layers |= packet.LayerICMPv6
	}
	h.ICMP = packet.ICMP{Type: typ, Code: code, Rest: rest}
	h.Payload = payload
	return build(h, mods)
}

func raw(proto uint8, src, dst string, payload []byte, mods ...mod) []byte {
	h := ip(proto, src, dst)
	h.Payload = payload
	return build(h, mods)
}

func tos(v uint8) mod {
	return func(h *packet.Headers) { h.IPv4.TOS = v; h.IPv6.TrafficClass = v }
}

func ttl(v uint8) mod {
	return func(h *packet.Headers) { h.IPv4.TTL = v; h.IPv6.HopLimit = v }
}

func df(h *packet.Headers) { h.IPv4.Flags |= packet.IPv4DF }

func ipid(v uint16) mod { return func(h *packet.Headers) { h.IPv4.ID = v } }

// ext adds IPv6 extension headers (hop-by-hop and destination options of
// 8 bytes with PadN) in the order given.
func ext(protos ...uint8) mod {
	return func(h *packet.Headers) {
		for _, p := range protos {
			h.Ext[h.NumExt] = packet.Ext{Proto: p, Data: []byte{0, 0, 1, 4, 0, 0, 0, 0}}
			h.NumExt++
		}
	}
}

// pattern is n bytes of a recognisable pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// l4off is where the transport header of the IP packet b starts.
func l4off(b []byte) int {
	var p packet.Packet
	if err := p.Decode(b); err != nil {
		panic(err)
	}
	return len(p.Data) - len(p.Payload) - len(p.Transport)
}

// badsum spoils the transport checksum at offset at of the header.
func badsum(b []byte, at int) []byte {
	b[l4off(b)+at] ^= 0x5a
	return b
}

// zerosum sets a UDP checksum to 0 (none).
func zerosum(b []byte) []byte {
	o := l4off(b)
	b[o+6], b[o+7] = 0, 0
	return b
}

// span is a fragment's data [start, end) in a datagram's payload.
type span struct{ start, end int }

// frag4 cuts the IPv4 packet b into fragments carrying the given spans of
// its payload (overlaps allowed), MF on all that do not reach the end.
func frag4(b []byte, spans ...span) [][]byte {
	hl := int(b[0]&0xf) * 4
	data := b[hl:]
	var out [][]byte
	for _, s := range spans {
		f := append(append([]byte(nil), b[:hl]...), data[s.start:s.end]...)
		w := binary.BigEndian.Uint16(b[6:])&0x4000 | uint16(s.start/8)
		if s.end < len(data) {
			w |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], w)
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		f[10], f[11] = 0, 0
		binary.BigEndian.PutUint16(f[10:], packet.Checksum(f[:hl], 0))
		out = append(out, f)
	}
	return out
}

// frag6 cuts the IPv6 packet b (no extension headers) into fragments with
// identification id carrying the given spans of its payload.
func frag6(b []byte, id uint32, spans ...span) [][]byte {
	data := b[40:]
	var out [][]byte
	for _, s := range spans {
		f := append([]byte(nil), b[:40]...)
		f[6] = packet.ProtoFragment
		w := uint16(s.start)
		if s.end < len(data) {
			w |= 1
		}
		f = append(f, b[6], 0, byte(w>>8), byte(w))
		f = binary.BigEndian.AppendUint32(f, id)
		f = append(f, data[s.start:s.end]...)
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}
