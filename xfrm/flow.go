package xfrm

import (
	"encoding/binary"
	"net/netip"
)

// Flow is what the xfrm lookups know of a packet (struct flowi as
// __xfrm_decode_session fills it): addresses, protocol, the two 16-bit
// "ports" a selector compares (xfrm_flowi_sport/dport: the transport
// ports, ICMP type and code, the halves of a GRE key, an ESP or AH SPI's
// halves), the output interface index, the packet mark and the xfrm
// interface id.
type Flow struct {
	Family       Family
	Src, Dst     netip.Addr
	Proto        uint8
	Sport, Dport uint16
	// Oif is flowi_oif: on output and for the in/fwd checks the index of
	// the device of the packet's route (skb_dst(skb)->dev); on the reverse
	// (ICMP error) decode the input device.
	Oif  int
	Mark uint32
	IfID uint32
	// Loopback says the route's device is the loopback (the default
	// "block" policy never applies there: xfrm_lookup_with_ifid's nopol).
	Loopback bool
}

// FromPacket fills fl from an IP packet the way the flow dissector of
// __xfrm_decode_session reads it: fragments (first or not) give no ports,
// IPv6 extension headers are skipped up to the transport header, and an
// inner IP header (IPIP, IPv6-in-IP) ends the walk. With reverse the
// source and destination (and ports) are swapped (the ICMP error
// decode). Oif, Mark and IfID are left as they are. It returns false for
// a packet too short to have an IP header.
func (fl *Flow) FromPacket(b []byte, reverse bool) bool {
	if len(b) < 1 {
		return false
	}
	var proto uint8
	var rest []byte
	var frag bool
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return false
		}
		hl := int(b[0]&0xf) * 4
		if hl < 20 || hl > len(b) {
			return false
		}
		fl.Family = Inet
		fl.Src = netip.AddrFrom4([4]byte(b[12:16]))
		fl.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		proto = b[9]
		frag = binary.BigEndian.Uint16(b[6:])&0x3fff != 0
		rest = b[hl:]
	case 6:
		if len(b) < 40 {
			return false
		}
		fl.Family = Inet6
		fl.Src = netip.AddrFrom16([16]byte(b[8:24]))
		fl.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		proto = b[6]
		rest = b[40:]
	walk:
		for {
			switch proto {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(rest) < 8 {
					break walk
				}
				n := (int(rest[1]) + 1) * 8
				if n > len(rest) {
					break walk
				}
				proto, rest = rest[0], rest[n:]
			case 44: // fragment: the dissector stops (no PARSE_1ST_FRAG)
				if len(rest) < 8 {
					break walk
				}
				proto, frag = rest[0], true
				break walk
			default:
				break walk
			}
		}
	default:
		return false
	}
	fl.Proto = proto
	var sport, dport uint16
	if !frag {
		sport, dport = flowPorts(proto, rest)
	}
	if reverse {
		fl.Src, fl.Dst = fl.Dst, fl.Src
		if proto != protoICMP && proto != protoICMPv6 && proto != protoGRE {
			sport, dport = dport, sport
		}
	}
	fl.Sport, fl.Dport = sport, dport
	return true
}

// flowPorts reads the selector's "ports" of a transport header
// (__skb_flow_get_ports with proto_ports_offset, the ICMP and GRE keys of
// the dissector).
func flowPorts(proto uint8, t []byte) (sport, dport uint16) {
	switch proto {
	case protoTCP, protoUDP, 33, ProtoESP, 132, 136: // + DCCP, SCTP, UDP-Lite
		if len(t) >= 4 {
			return binary.BigEndian.Uint16(t), binary.BigEndian.Uint16(t[2:])
		}
	case ProtoAH:
		if len(t) >= 8 {
			return binary.BigEndian.Uint16(t[4:]), binary.BigEndian.Uint16(t[6:])
		}
	case protoICMP, protoICMPv6:
		if len(t) >= 2 {
			return uint16(t[0]), uint16(t[1])
		}
	case protoGRE:
		// version 0 with the key flag: the key follows the checksum word
		// when the C flag is set.
		if len(t) >= 4 && t[0]&0x20 != 0 && t[1]&7 == 0 {
			off := 4
			if t[0]&0x80 != 0 {
				off += 4
			}
			if len(t) >= off+4 {
				k := binary.BigEndian.Uint32(t[off:])
				return uint16(k >> 16), uint16(k)
			}
		}
	}
	return 0, 0
}
