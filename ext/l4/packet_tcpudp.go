package l4

// The packet semantics of tcp and udp, in the two forms a rule can hold
// them (see nft_tcpudp.go):
//
// The xt form (native false: --tcp-option, or flags iptables-nft cannot
// express) runs the kernel's tcp_mt/udp_mt (net/netfilter/xt_tcpudp.c)
// through nft_compat: a later fragment never matches (an IPv4 one at
// offset 1 is dropped: "Dropping evil TCP offset=1 frag."), and a first
// fragment too short for the whole header is dropped ("Dropping evil TCP
// offset=0 tinygram", "Dropping evil UDP tinygram").
//
// The native form is what iptables-nft installs for port and flag
// matches: payload loads from the transport header compared with cmp or
// range expressions. Each load reads exactly the bytes it compares, and
// nft_payload_fast_eval reads them whenever they are in the packet,
// whatever the fragment offset (measured on Linux 6.18: "-p tcp --dport
// 22" matches a later IPv4 fragment whose data has 22 at bytes 2-3).
// When the bytes are not there the rule simply does not match: no hot
// drop, and an inverted comparison does not match either. Two single
// ports of the same inversion are one 32-bit load and one comparison
// (add_nft_tcpudp), so "! --sport 1 ! --dport 2" is "not both".

import "github.com/iptwin/iptwin/xtables"

// tcpOptionFound is tcp_find_option: the option kinds are walked over
// optlen bytes; a length byte of 0 counts as 1. A kind byte at the last
// position reads its length from the byte after the options (from the
// packet, as skb_header_pointer returns a pointer into it).
func tcpOptionFound(in *pktinfo, option uint8, optlen int, inv bool) (found, drop bool) {
	if optlen == 0 {
		return inv, false
	}
	op := in.at(in.thoff+20, optlen)
	if op == nil {
		return false, true
	}
	for i := 0; i < optlen; {
		if op[i] == option {
			return !inv, false
		}
		if op[i] < 2 {
			i++
			continue
		}
		var l byte
		if i+1 < optlen {
			l = op[i+1]
		} else if b := in.at(in.thoff+20+i+1, 1); b != nil {
			l = b[0]
		}
		if l == 0 {
			l = 1
		}
		i += int(l)
	}
	return inv, false
}

// MatchPacket is tcp_mt, or the native payload comparisons.
func (t *TCP) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if t.native {
		return t.matchNative(&in)
	}
	if in.fragoff != 0 {
		// An IPv4 fragment at offset 8 could overwrite the flags of
		// the first one to pass the direction checks.
		if in.fragoff == 1 && st.Family == xtables.IPv4 {
			st.HotDrop = true
		}
		return false
	}
	th := in.header(20)
	if th == nil {
		st.HotDrop = true
		return false
	}
	if !inRange16(t.Spts[0], t.Spts[1], be16(th), t.Inv&tcpInvSrcPt != 0) ||
		!inRange16(t.Dpts[0], t.Dpts[1], be16(th[2:]), t.Inv&tcpInvDstPt != 0) {
		return false
	}
	if (th[13]&t.FlgMask == t.FlgCmp) == (t.Inv&tcpInvFlags != 0) {
		return false
	}
	if t.Option != 0 {
		doff := int(th[12]>>4) * 4
		if doff < 20 {
			st.HotDrop = true
			return false
		}
		found, drop := tcpOptionFound(&in, t.Option, doff-20, t.Inv&tcpInvOption != 0)
		if drop {
			st.HotDrop = true
			return false
		}
		return found
	}
	return true
}

func (t *TCP) matchNative(in *pktinfo) bool {
	if !nativePorts(in, t.Spts, t.Dpts, t.Inv&tcpInvSrcPt != 0, t.Inv&tcpInvDstPt != 0, t.nftWord) {
		return false
	}
	if t.FlgMask != 0 {
		b, ok := in.load(13, 1)
		if !ok || (b[0]&t.FlgMask == t.FlgCmp) == (t.Inv&tcpInvFlags != 0) {
			return false
		}
	}
	return true
}

// nativePorts evaluates the port comparisons add_nft_tcpudp generated
// for the rebuilt ranges: one per range that is not the full one (an
// inverted range is stored as the range it compares), or one 32-bit
// comparison of both ports (word).
func nativePorts(in *pktinfo, sp, dp [2]uint16, invS, invD, word bool) bool {
	full := [2]uint16{0, 0xffff}
	if word {
		b, ok := in.load(0, 4)
		if !ok {
			return false
		}
		eq := be16(b) == sp[0] && be16(b[2:]) == dp[0]
		return eq != invS
	}
	if sp != full || invS {
		b, ok := in.load(0, 2)
		if !ok || !inRange16(sp[0], sp[1], be16(b), invS) {
			return false
		}
	}
	if dp != full || invD {
		b, ok := in.load(2, 2)
		if !ok || !inRange16(dp[0], dp[1], be16(b), invD) {
			return false
		}
	}
	return true
}

// MatchPacket is udp_mt, or the native payload comparisons.
func (u *UDP) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if u.native {
		return nativePorts(&in, u.Spts, u.Dpts, u.Inv&udpInvSrcPt != 0, u.Inv&udpInvDstPt != 0, u.nftWord)
	}
	if in.fragoff != 0 {
		return false
	}
	uh := in.header(8)
	if uh == nil {
		st.HotDrop = true
		return false
	}
	return inRange16(u.Spts[0], u.Spts[1], be16(uh), u.Inv&udpInvSrcPt != 0) &&
		inRange16(u.Dpts[0], u.Dpts[1], be16(uh[2:]), u.Inv&udpInvDstPt != 0)
}
