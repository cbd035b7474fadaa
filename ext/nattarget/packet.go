package nattarget

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The NAT targets ask the packet path for a mapping (st.NAT): the path
// carries out nf_nat_setup_info with it once the target returns — for
// MASQUERADE with the out device's address (nf_nat_masquerade_ipv4/6),
// for REDIRECT with the in device's first address or loopback in OUTPUT
// (nf_nat_redirect_ipv4/6) — and the verdict becomes NF_DROP when no
// mapping can be made. The targets themselves return NF_ACCEPT, as the
// kernel's do.

func (r *Range) natRange() xtables.NATRange {
	return xtables.NATRange{
		Flags:   r.Flags,
		MinAddr: r.MinAddr, MaxAddr: r.MaxAddr,
		MinPort: r.MinProto, MaxPort: r.MaxProto,
		BasePort: r.BaseProto,
	}
}

// TargetPacket is xt_snat_target / xt_dnat_target, masquerade_tg and
// redirect_tg: the request for the connection's mapping.
func (n *NAT) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	r := n.Range.natRange()
	switch n.kind {
	case snatKind:
		st.NAT = xtables.NATRequest{Kind: xtables.NATSource, Range: r}
	case dnatKind:
		st.NAT = xtables.NATRequest{Kind: xtables.NATDestination, Range: r}
	case masqKind:
		// nf_nat_masquerade_ipv4 leaves alone a connection from
		// 0.0.0.0 (a local packet not meant to be masqueraded).
		if st.Ct != nil {
			if src := st.Ct.Tuple(0).Src; src.Is4() && src.IsUnspecified() {
				return xtables.VerdictCodeAccept
			}
		}
		r.Flags |= xtables.NATRangeMapIPs
		r.MinAddr, r.MaxAddr = netip.Addr{}, netip.Addr{}
		st.NAT = xtables.NATRequest{Kind: xtables.NATMasquerade, Range: r}
	case redirectKind:
		r.Flags |= xtables.NATRangeMapIPs
		r.MinAddr, r.MaxAddr = netip.Addr{}, netip.Addr{}
		st.NAT = xtables.NATRequest{Kind: xtables.NATRedirect, Range: r}
	}
	return xtables.VerdictCodeAccept
}

// TargetPacket is netmap_tg4 / netmap_tg6: the address of the packet
// (destination in PREROUTING and OUTPUT, source in POSTROUTING and INPUT)
// keeps its host part and takes the network part of the range; that one
// address is the mapping asked for.
func (n *Netmap) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	dst := st.Hook == xtables.HookPrerouting || st.Hook == xtables.HookOutput
	a := st.Pkt.Src()
	kind := xtables.NATSource
	if dst {
		a, kind = st.Pkt.Dst(), xtables.NATDestination
	}
	lo, hi := n.Range.MinAddr, n.Range.MaxAddr
	var na netip.Addr
	if a.Is4() {
		x, l, h := a.As4(), lo.As4(), hi.As4()
		for i := range x {
			mask := ^(l[i] ^ h[i])
			x[i] = x[i]&^mask | l[i]&mask
		}
		na = netip.AddrFrom4(x)
	} else {
		x, l, h := a.As16(), lo.As16(), hi.As16()
		for i := range x {
			mask := ^(l[i] ^ h[i])
			x[i] = x[i]&^mask | l[i]&mask
		}
		na = netip.AddrFrom16(x)
	}
	r := n.Range.natRange()
	r.Flags |= xtables.NATRangeMapIPs
	r.MinAddr, r.MaxAddr = na, na
	st.NAT = xtables.NATRequest{Kind: kind, Range: r}
	return xtables.VerdictCodeAccept
}

// ICMPv6Sender is how NPT reports an address it cannot map (icmpv6_send
// of a parameter problem pointing at the address field); a host without
// it only drops.
type ICMPv6Sender interface {
	ParamProblem(st *xtables.PacketState, code uint8, pointer uint32)
}

const csumMangled0 = 0xffff // CSUM_MANGLED_0

// onesAdd is csum_add over 16-bit words folded (end-around carry).
func onesAdd(a, b uint32) uint32 {
	s := a + b
	s = s&0xffff + s>>16
	return s&0xffff + s>>16
}

// adjustment is what ip6t_npt_checkentry computes: the difference of the
// prefixes' sums, which keeps a mapped address's sum (so every checksum
// over it) unchanged.
func (n *NPT) adjustment() uint16 {
	s, d := n.SrcPfx.As16(), n.DstPfx.As16()
	var ss, ds uint32
	for i := 0; i < 16; i += 2 {
		ss = onesAdd(ss, uint32(binary.BigEndian.Uint16(s[i:])))
		ds = onesAdd(ds, uint32(binary.BigEndian.Uint16(d[i:])))
	}
	// ~csum_fold(csum_sub(src, dst)) = the folded src + ~dst.
	return uint16(onesAdd(ss, uint32(^uint16(ds))))
}

// mapPfx is ip6t_npt_map_pfx: the address takes the destination prefix
// and one 16-bit word (the 4th for prefixes up to /48, else the first of
// words 5..8 that is not 0xffff) absorbs the adjustment.
func (n *NPT) mapPfx(a *[16]byte) bool {
	pfxLen := int(max(n.SrcPfxLen, n.DstPfxLen))
	dp := n.DstPfx.As16()
	for i := 0; i < pfxLen; i += 32 {
		var mask uint32
		if pfxLen-i < 32 {
			mask = 1<<(32-(pfxLen-i)) - 1
		}
		idx := i / 32 * 4
		w := binary.BigEndian.Uint32(a[idx:])
		w = w&mask | ^mask&binary.BigEndian.Uint32(dp[idx:])
		binary.BigEndian.PutUint32(a[idx:], w)
	}
	idx := 3
	if pfxLen > 48 {
		for idx = 4; idx < 8; idx++ {
			if binary.BigEndian.Uint16(a[2*idx:]) != csumMangled0 {
				break
			}
		}
		if idx == 8 {
			return false
		}
	}
	sum := uint16(onesAdd(uint32(binary.BigEndian.Uint16(a[2*idx:])), uint32(n.adjustment())))
	if sum == csumMangled0 {
		sum = 0
	}
	binary.BigEndian.PutUint16(a[2*idx:], sum)
	return true
}

// TargetPacket is ip6t_snpt_tg / ip6t_dnpt_tg: the source (SNPT) or
// destination (DNPT) prefix translated without changing any checksum,
// and the other address of the packet an ICMPv6 error quotes; an address
// that cannot be mapped drops the packet with a parameter problem.
func (n *NPT) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	p := st.Pkt
	if !p.IsIPv6() || len(p.Net) < 40 {
		return xtables.VerdictCodeDrop
	}
	src := n.kind == snptKind
	at := 24 // destination address field
	if src {
		at = 8
	}
	a := [16]byte(p.Net[at : at+16])
	if !n.mapPfx(&a) {
		if s, ok := st.Env.(ICMPv6Sender); ok {
			s.ParamProblem(st, 0, uint32(at))
		}
		return xtables.VerdictCodeDrop
	}
	copy(p.Net[at:], a[:])
	if src {
		p.IPv6.Src = netip.AddrFrom16(a)
	} else {
		p.IPv6.Dst = netip.AddrFrom16(a)
	}
	// icmpv6_bounced_ipv6hdr: the quoted packet was sent the other way.
	if p.IPv6.NextHeader == packet.ProtoICMPv6 && p.ICMP.Type < 128 && len(p.Payload) >= 40 {
		qat := 8
		if src {
			qat = 24
		}
		q := [16]byte(p.Payload[qat : qat+16])
		if !n.mapPfx(&q) {
			return xtables.VerdictCodeDrop
		}
		copy(p.Payload[qat:], q[:])
		if p.Inner.IsIPv6() {
			if src {
				p.Inner.IPv6.Dst = netip.AddrFrom16(q)
			} else {
				p.Inner.IPv6.Src = netip.AddrFrom16(q)
			}
		}
	}
	return xtables.VerdictCodeContinue
}
