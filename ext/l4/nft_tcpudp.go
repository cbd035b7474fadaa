package l4

import "github.com/iptwin/iptwin/xtables"

// iptables-nft turns tcp and udp matches into native payload expressions
// unless they use something it cannot express (add_nft_tcp, add_nft_udp in
// nft.c) and reads them back into a match on listing (nft-shared.c). That
// round trip is not exact; nftPorts reproduces what comes back.

// nftPayloadPath reports whether add_nft_tcpudp is used: the match sets
// something and all of it is expressible.
func nftPayloadPath(spts, dpts [2]uint16, inv, supported uint8, extra bool) bool {
	allZero := spts == [2]uint16{0, 0xffff} && dpts == [2]uint16{0, 0xffff} && inv == 0 && !extra
	return !allZero && inv&^supported == 0
}

// nftPorts returns the port ranges and invert flags as they are parsed
// back from the expressions add_nft_tcpudp generates.
func nftPorts(spts, dpts [2]uint16, sinv, dinv bool) (s, d [2]uint16, si, di bool) {
	if spts[0] != 0 && spts[0] == spts[1] && dpts[0] != 0 && dpts[0] == dpts[1] && sinv == dinv {
		return spts, dpts, sinv, dinv // one 32-bit compare of both ports
	}
	s, si = nftPortSide(spts, sinv)
	d, di = nftPortSide(dpts, dinv)
	return
}

// nftPortSide is expr_gen_range_cmp16 followed by its parse: a full range
// emits nothing (and an inversion of it is lost); "! 0:N" becomes a
// greater-than compare, read back as N+1:65535.
func nftPortSide(r [2]uint16, inv bool) ([2]uint16, bool) {
	full := [2]uint16{0, 0xffff}
	switch {
	case r == full:
		return full, false
	case r[0] == r[1]:
		return r, inv
	case r[0] == 0 && inv:
		lo := uint32(r[1]) + 1
		if lo > 0xffff {
			lo = 0xffff
		}
		return [2]uint16{uint16(lo), 0xffff}, false
	}
	return r, inv
}

// nftCheckProto is the check add_nft_tcp/add_nft_udp make on the payload
// path: the rule's -p (inverted or not) must be the match's protocol.
func nftCheckProto(ctx *xtables.Context, proto uint8, what string) error {
	if ctx.Header != nil && ctx.Header.Proto != proto {
		return xtables.Errorf("%s match requires '-p %s'", what, xtables.ProtoToName(proto, true, nil))
	}
	return nil
}
