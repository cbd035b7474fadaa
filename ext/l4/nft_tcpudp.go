package l4

import "github.com/iptwin/iptwin/xtables"

// The nf_tables round trip of tcp and udp (iptables 1.8.9 nft.c
// add_nft_tcp/add_nft_udp/add_nft_tcpudp and nft-shared.c's parsers): port
// and flag checks become payload comparisons, and the parser folds every
// such comparison of a rule into one match.

// rebuildRange is expr_gen_range_cmp16 followed by the parser's reading
// of what it generated.
func rebuildRange(ports *[2]uint16, inv *bool, r [2]uint16, invert bool) {
	lo, hi := r[0], r[1]
	switch {
	case lo == hi: // cmp eq/neq
		ports[0], ports[1] = lo, lo
		*inv = *inv || invert
	case lo == 0 && hi < 0xffff: // cmp lte, or gt when inverted
		if invert {
			ports[0] = hi + 1
		} else {
			ports[1] = hi
		}
	default: // range eq/neq
		ports[0], ports[1] = lo, hi
		*inv = *inv || invert
	}
}

// rebuildPorts applies add_nft_tcpudp's comparisons to acc's ports and
// says whether any comparison was made, and whether it was the one 32-bit
// comparison of both ports (word), which the packet path must evaluate as
// one (inverted, it is "not both").
func rebuildPorts(sp, dp *[2]uint16, invS, invD *bool, spts, dpts [2]uint16, is, id bool) (emitted, word bool) {
	if spts[0] != 0 && spts[0] == spts[1] && dpts[0] != 0 && dpts[0] == dpts[1] && is == id {
		*sp, *dp = spts, dpts // one 32-bit comparison of both ports
		*invS, *invD = *invS || is, *invD || is
		return true, true
	}
	if spts[0] != 0 || spts[1] < 0xffff {
		rebuildRange(sp, invS, spts, is)
		emitted = true
	}
	if dpts[0] != 0 || dpts[1] < 0xffff {
		rebuildRange(dp, invD, dpts, id)
		emitted = true
	}
	return emitted, false
}

func (t *TCP) allZero() bool {
	return t.Spts == [2]uint16{0, 0xffff} && t.Dpts == [2]uint16{0, 0xffff} &&
		t.Option == 0 && t.FlgMask == 0 && t.FlgCmp == 0 && t.Inv == 0
}

// NFTNative: an option check, an inverted option or a bare -m tcp keep the
// xt match.
func (t *TCP) NFTNative(ctx *xtables.Context) (bool, error) {
	if t.Inv&^(tcpInvSrcPt|tcpInvDstPt|tcpInvFlags) != 0 || t.Option != 0 || t.allZero() {
		return false, nil
	}
	if ctx.Header == nil || ctx.Header.Proto != 6 {
		return false, xtables.Errorf("TCP match requires '-p tcp'")
	}
	return true, nil
}

func (t *TCP) NFTRebuild(acc xtables.MatchInfo) (xtables.MatchInfo, bool) {
	var out TCP
	if a, ok := acc.(*TCP); ok {
		out = *a
	} else {
		out = TCP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}}
	}
	emitted := false
	if t.FlgMask != 0 {
		out.FlgMask, out.FlgCmp = t.FlgMask, t.FlgCmp
		if t.Inv&tcpInvFlags != 0 {
			out.Inv |= tcpInvFlags
		}
		emitted = true
	}
	invS, invD := out.Inv&tcpInvSrcPt != 0, out.Inv&tcpInvDstPt != 0
	if e, word := rebuildPorts(&out.Spts, &out.Dpts, &invS, &invD, t.Spts, t.Dpts, t.Inv&tcpInvSrcPt != 0, t.Inv&tcpInvDstPt != 0); e {
		emitted, out.nftWord = true, word
	}
	if invS {
		out.Inv |= tcpInvSrcPt
	}
	if invD {
		out.Inv |= tcpInvDstPt
	}
	if !emitted {
		return acc, true
	}
	out.seen, out.native = 0, true
	return &out, true
}

func (u *UDP) allZero() bool {
	return u.Spts == [2]uint16{0, 0xffff} && u.Dpts == [2]uint16{0, 0xffff} && u.Inv == 0
}

// NFTNative: unknown invert flags or a bare -m udp keep the xt match.
func (u *UDP) NFTNative(ctx *xtables.Context) (bool, error) {
	if u.Inv&^udpInvMask != 0 || u.allZero() {
		return false, nil
	}
	if ctx.Header == nil || ctx.Header.Proto != 17 {
		return false, xtables.Errorf("UDP match requires '-p udp'")
	}
	return true, nil
}

func (u *UDP) NFTRebuild(acc xtables.MatchInfo) (xtables.MatchInfo, bool) {
	var out UDP
	if a, ok := acc.(*UDP); ok {
		out = *a
	} else {
		out = UDP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}}
	}
	invS, invD := out.Inv&udpInvSrcPt != 0, out.Inv&udpInvDstPt != 0
	e, word := rebuildPorts(&out.Spts, &out.Dpts, &invS, &invD, u.Spts, u.Dpts, u.Inv&udpInvSrcPt != 0, u.Inv&udpInvDstPt != 0)
	if !e {
		return acc, true
	}
	out.nftWord = word
	if invS {
		out.Inv |= udpInvSrcPt
	}
	if invD {
		out.Inv |= udpInvDstPt
	}
	out.native = true
	return &out, true
}
