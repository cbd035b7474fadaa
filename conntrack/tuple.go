package conntrack

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Tuple is one direction of a connection (struct nf_conntrack_tuple):
// addresses, protocol and the protocol's part. TCP, UDP and UDP-Lite keep
// their ports; ICMP and ICMPv6 keep the identifier in SrcPort and
// type<<8|code in DstPort, as the kernel's tuple union does; other
// protocols are tracked by addresses alone (ports 0).
type Tuple = xtables.Tuple

// Directions of a connection (enum ip_conntrack_dir).
const (
	Original = 0
	Reply    = 1
)

// key is a Tuple in the form the table hashes and compares: fixed-size
// addresses, the family, and the zone, 40 bytes without pointers.
type key struct {
	src, dst     [16]byte
	sport, dport uint16
	proto        uint8
	v6           bool
	zone         uint16
}

func makeKey(t Tuple, zone uint16) key {
	return key{src: t.Src.As16(), dst: t.Dst.As16(), sport: t.SrcPort, dport: t.DstPort,
		proto: t.Proto, v6: t.Src.Is6() && !t.Src.Is4In6(), zone: zone}
}

func (k *key) addr(b *[16]byte) netip.Addr {
	if k.v6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte(b[12:16]))
}

// tuple is the key's Tuple (without the zone).
func (k *key) tuple() Tuple {
	return Tuple{Src: k.addr(&k.src), Dst: k.addr(&k.dst), Proto: k.proto,
		SrcPort: k.sport, DstPort: k.dport}
}

// hash mixes the key into 32 bits with the table's seed (the kernel uses
// siphash with a boot-time random key: positions differ from the
// kernel's, the distribution does not).
func (k *key) hash(seed uint64) uint32 {
	le := binary.LittleEndian
	w := uint64(k.sport) | uint64(k.dport)<<16 | uint64(k.proto)<<32 | uint64(k.zone)<<40
	if k.v6 {
		w |= 1 << 56
	}
	h := mix(le.Uint64(k.src[:8])^seed, le.Uint64(k.src[8:])^0xa0761d6478bd642f) ^
		mix(le.Uint64(k.dst[:8])^0xe7037ed1a0b428db, le.Uint64(k.dst[8:])^0x8ebc6af09c88c6e3) ^
		mix(w^0x589965cc75374cc3, seed^0x1d8e4e27c47d124f)
	return uint32(mix(h, 0xa0761d6478bd642f) >> 32)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// invertICMP is the invmap of nf_conntrack_proto_icmp.c: the type a reply
// carries, plus one (0: the type has no reply and starts no connection).
var invertICMP = [...]uint8{
	packet.ICMPEcho: packet.ICMPEchoReply + 1, packet.ICMPEchoReply: packet.ICMPEcho + 1,
	13: 14 + 1, 14: 13 + 1, // timestamp, timestamp reply
	15: 16 + 1, 16: 15 + 1, // information request, reply
	17: 18 + 1, 18: 17 + 1, // address mask request, reply
}

// invertICMPv6 is the invmap of nf_conntrack_proto_icmpv6.c, from type 128.
var invertICMPv6 = [...]uint8{
	packet.ICMPv6EchoRequest - 128: packet.ICMPv6EchoReply + 1,
	packet.ICMPv6EchoReply - 128:   packet.ICMPv6EchoRequest + 1,
	139 - 128:                      140 + 1, // node information query, reply
	140 - 128:                      139 + 1,
}

// Invert is nf_ct_invert_tuple: the tuple of the other direction. ok is
// false for ICMP types without a reply (which start no connection).
func Invert(t Tuple) (Tuple, bool) {
	r := Tuple{Src: t.Dst, Dst: t.Src, Proto: t.Proto, SrcPort: t.DstPort, DstPort: t.SrcPort}
	switch t.Proto {
	case packet.ProtoICMP:
		typ := t.DstPort >> 8
		if int(typ) >= len(invertICMP) || invertICMP[typ] == 0 {
			return Tuple{}, false
		}
		r.SrcPort, r.DstPort = t.SrcPort, uint16(invertICMP[typ]-1)<<8|t.DstPort&0xff
	case packet.ProtoICMPv6:
		typ := int(t.DstPort>>8) - 128
		if typ < 0 || typ >= len(invertICMPv6) || invertICMPv6[typ] == 0 {
			return Tuple{}, false
		}
		r.SrcPort, r.DstPort = t.SrcPort, uint16(invertICMPv6[typ]-1)<<8|t.DstPort&0xff
	}
	return r, true
}

// ICMPTuple builds the protocol part of an ICMP or ICMPv6 tuple.
func ICMPTuple(typ, code uint8, id uint16) (srcPort, dstPort uint16) {
	return id, uint16(typ)<<8 | uint16(code)
}

// l4 is where a packet's transport header starts and which protocol it
// is, as get_l4proto finds them; ok is false when conntrack cannot look
// at the packet (a later fragment, a broken header chain).
type l4 struct {
	data  []byte // the IP packet (skb->data .. skb->len)
	off   int    // dataoff
	proto uint8
	v6    bool
}

// getL4 is ipv4_get_l4proto / ipv6_get_l4proto over an IP packet's bytes
// (the family from its version).
func getL4(data []byte) (l4, bool) {
	if len(data) < 1 {
		return l4{}, false
	}
	return getL4Family(data, data[0]>>4 == 6)
}

// getL4Family is get_l4proto for the hook's family: a quoted packet is
// read as the error's family whatever its version field says.
func getL4Family(data []byte, v6 bool) (l4, bool) {
	if !v6 {
		if len(data) < 20 {
			return l4{}, false
		}
		// Conntrack defragments; fragments seen here (quoted inside
		// ICMP errors, IP_NODEFRAG) cannot be tracked.
		if binary.BigEndian.Uint16(data[6:])&0x1fff != 0 {
			return l4{}, false
		}
		off := int(data[0]&0xf) * 4
		if off > len(data) {
			return l4{}, false
		}
		return l4{data: data, off: off, proto: data[9]}, true
	}
	if len(data) < 40 {
		return l4{}, false
	}
	off, proto, ok := skipExtHeaders(data)
	if !ok {
		return l4{}, false
	}
	// The last header may claim to run past the packet: nothing of the
	// transport header can be read then.
	return l4{data: data, off: min(off, len(data)), proto: proto, v6: true}, true
}

// skipExtHeaders is ipv6_skip_exthdr from the IPv6 header: the offset and
// number of the upper-layer header. A fragment header with a non-zero
// offset (or an unreadable chain, or "no next header") fails, as in
// ipv6_get_l4proto.
func skipExtHeaders(data []byte) (int, uint8, bool) {
	next := data[6]
	off := 40
	for {
		switch next {
		case packet.ProtoHopByHop, packet.ProtoRouting, packet.ProtoDstOpts, packet.ProtoAH, packet.ProtoFragment:
		case packet.ProtoNoNext:
			return 0, 0, false
		default:
			return off, next, true
		}
		// ipv6_skip_exthdr reads the two bytes of struct ipv6_opt_hdr
		// (and a fragment header's offset word) of each header.
		if off+2 > len(data) {
			return 0, 0, false
		}
		h := data[off:]
		var n int
		switch next {
		case packet.ProtoFragment:
			if off+4 > len(data) {
				return 0, 0, false
			}
			if binary.BigEndian.Uint16(h[2:])&^7 != 0 {
				return 0, 0, false
			}
			n = 8
		case packet.ProtoAH:
			n = (int(h[1]) + 2) << 2
		default:
			n = (int(h[1]) + 1) << 3
		}
		next = h[0]
		off += n
	}
}

// tuple is nf_ct_get_tuple: the packet's original-direction tuple. ok is
// false when the protocol part cannot be read (too short a header).
func (l *l4) tuple() (Tuple, bool) {
	var t Tuple
	d := l.data
	if l.v6 {
		t.Src = netip.AddrFrom16([16]byte(d[8:24]))
		t.Dst = netip.AddrFrom16([16]byte(d[24:40]))
	} else {
		t.Src = netip.AddrFrom4([4]byte(d[12:16]))
		t.Dst = netip.AddrFrom4([4]byte(d[16:20]))
	}
	t.Proto = l.proto
	b := d[l.off:]
	switch l.proto {
	case packet.ProtoICMP, packet.ProtoICMPv6:
		// icmp_pkt_to_tuple reads a whole struct icmphdr (8 bytes).
		if len(b) < 8 {
			return t, false
		}
		t.SrcPort, t.DstPort = ICMPTuple(b[0], b[1], binary.BigEndian.Uint16(b[4:]))
	case packet.ProtoTCP, packet.ProtoUDP, protoUDPLite, protoSCTP:
		if len(b) < 4 {
			return t, false
		}
		t.SrcPort, t.DstPort = binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	case protoGRE:
		// gre_pkt_to_tuple: only PPTP (version 1, PPP) has keys; the
		// call id is the destination key (the source key comes from
		// the PPTP helper's keymap, not modelled: 0).
		if len(b) < 4 || b[1]&7 != 1 {
			return t, true
		}
		if len(b) < 8 {
			return t, true
		}
		if binary.BigEndian.Uint16(b[2:]) != 0x880b {
			return t, false
		}
		t.DstPort = binary.BigEndian.Uint16(b[6:])
	}
	return t, true
}

// Protocols with a tuple of ports besides TCP and UDP.
const (
	protoUDPLite = 136
	protoSCTP    = 132
)

// HasPorts reports whether the protocol's tuple carries ports (the
// protocols NAT can remap the ports of).
func HasPorts(proto uint8) bool {
	switch proto {
	case packet.ProtoTCP, packet.ProtoUDP, protoUDPLite, protoSCTP:
		return true
	}
	return false
}
