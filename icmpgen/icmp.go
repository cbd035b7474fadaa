package icmpgen

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Quote limits of ICMP errors: an IPv4 error fits in 576 bytes (RFC 1812
// 4.3.2.3, __icmp_send), an ICMPv6 error in the IPv6 minimum MTU of 1280
// (RFC 4443 2.4(c), icmp6_send).
const (
	icmpMaxLen   = 576
	icmpv6MaxLen = 1280
)

// icmpIsError is icmp_pointers[type].error: the IPv4 ICMP types that are
// error messages.
func icmpIsError(t uint8) bool {
	switch t {
	case 3, 4, 5, 11, 12:
		return true
	}
	return false
}

// nrICMPTypes is NR_ICMP_TYPES: types above it count as errors when
// deciding whether a packet may be answered with one.
const nrICMPTypes = 18

// Error appends the ICMP (IPv4) or ICMPv6 (IPv6) error of the given type
// and code about orig as icmp_send / icmpv6_send build it, or reports
// false where they send nothing. info is the 32-bit word after the
// checksum (next-hop MTU, pointer), in host order.
func Error(dst []byte, orig *packet.Packet, typ, code uint8, info uint32, o Options) ([]byte, bool) {
	b := ipData(orig)
	switch {
	case b == nil:
		return dst, false
	case orig.IsIPv6():
		return error6(dst, b, typ, code, info, &o)
	}
	return error4(dst, b, typ, code, info, &o)
}

// error4 is __icmp_send.
func error4(dst, b []byte, typ, code uint8, info uint32, o *Options) ([]byte, bool) {
	if o.NotHost || o.RouteType == xtables.RTNBroadcast || o.RouteType == xtables.RTNMulticast {
		return dst, false
	}
	if be.Uint16(b[6:])&0x1fff != 0 {
		return dst, false // only the first fragment is answered
	}
	ihl := int(b[0]&0xf) * 4
	if icmpIsError(typ) && b[9] == packet.ProtoICMP {
		// No error about an error (or an unknown type, assumed one).
		if ihl >= len(b) {
			return dst, false
		}
		if t := b[ihl]; t > nrICMPTypes || icmpIsError(t) {
			return dst, false
		}
	}
	osrc, odst := v4Addrs(b)
	src := o.Src
	if o.Local {
		src = odst
	}
	if !src.Is4() || src.IsUnspecified() {
		src = inaddrDummy
	}
	tos := b[1]
	if icmpIsError(typ) {
		tos = tos&0x1e | 0xc0 // RT_TOS | IPTOS_PREC_INTERNETCONTROL
	}
	room := icmpMaxLen
	if o.MTU > 0 && o.MTU < room {
		room = o.MTU
	}
	room -= 20 + 8
	if room <= 20 {
		return dst, false
	}
	n := min(len(b), room)
	return appendICMP4(dst, tos, typ, code, info, b[:n], src, osrc, o), true
}

// appendICMP4 appends an IPv4 ICMP message (header words and body) as the
// ICMP socket sends it: no DF (IP_PMTUDISC_DONT), identification from o.
func appendICMP4(dst []byte, tos, typ, code uint8, rest uint32, body []byte, src, to netip.Addr, o *Options) []byte {
	dst = appendIPv4(dst, tos, 28+len(body), o.ID, false, o.ttl(), packet.ProtoICMP, src, to)
	start := len(dst)
	dst = append(dst, typ, code, 0, 0)
	dst = be.AppendUint32(dst, rest)
	dst = append(dst, body...)
	fixChecksum(dst[start:], 2, 0)
	return dst
}

// error6 is icmp6_send.
func error6(dst, b []byte, typ, code uint8, info uint32, o *Options) ([]byte, bool) {
	osrc, odst := v6Addrs(b)
	src := netip.Addr{}
	if o.Local {
		src = odst
	}
	if ipv6AddrType(b[24:40])&addrMulticast != 0 || o.NotHost {
		// Only "packet too big" and "unrecognized option" with the
		// option's type saying so may answer a multicast (RFC 4443 2.4(e)).
		if typ != ICMPv6PacketTooBig && !(typ == ICMPv6ParamProblem && code == ICMPv6UnkOption && optUnrec(b, info)) {
			return dst, false
		}
		src = netip.Addr{}
	}
	if t := ipv6AddrType(b[8:24]); t == addrAny || t&addrMulticast != 0 {
		return dst, false
	}
	if ineligible6(b) {
		return dst, false
	}
	if !src.IsValid() {
		src = o.Src
	}
	if !src.Is6() || src.Is4In6() {
		return dst, false // no source address: ip6_dst_lookup fails
	}
	n := min(len(b), icmpv6MaxLen-40-8)
	return appendICMP6(dst, 0, typ, code, info, b[:n], src, osrc, o), true
}

// appendICMP6 appends an ICMPv6 message from the ICMPv6 socket.
func appendICMP6(dst []byte, tclass, typ, code uint8, rest uint32, body []byte, src, to netip.Addr, o *Options) []byte {
	dst = appendIPv6(dst, tclass, o.FlowLabel, 8+len(body), packet.ProtoICMPv6, o.ttl(), src, to)
	start := len(dst)
	dst = append(dst, typ, code, 0, 0)
	dst = be.AppendUint32(dst, rest)
	dst = append(dst, body...)
	fixChecksum(dst[start:], 2, packet.PseudoSum(src, to, packet.ProtoICMPv6, len(dst)-start))
	return dst
}

// optUnrec is opt_unrec: the option at offset off says "send an ICMP
// error even to a multicast" (its type's top bits are 10).
func optUnrec(b []byte, off uint32) bool {
	if int(off) >= len(b) {
		return true
	}
	return b[off]&0xc0 == 0x80
}

// ineligible6 is is_ineligible: never answer an ICMPv6 error, nor a packet
// cut inside its ICMPv6 header (unless a fragment).
func ineligible6(b []byte) bool {
	off, next, fo := skipExthdr(b)
	if off < 0 || next != packet.ProtoICMPv6 {
		return false
	}
	if off >= len(b) {
		return fo == 0
	}
	return b[off]&0x80 == 0
}
