package iphdr

import "github.com/iptwin/iptwin/xtables"

// Walking the IPv6 extension header chain over the packet bytes, as the
// kernel's matches do (net/ipv6/exthdrs_core.c). The matches read the
// bytes, not the decoder's view, so that a packet the decoder would
// describe differently (a truncated chain, a later fragment) is seen as
// the kernel sees it.

// IPv6 next-header values of the extension headers.
const (
	nexthdrHop      = 0
	nexthdrRouting  = 43
	nexthdrFragment = 44
	nexthdrESP      = 50
	nexthdrAuth     = 51
	nexthdrNone     = 59
	nexthdrDest     = 60
)

// FindErr says why IPv6FindHdr found nothing.
type FindErr uint8

const (
	FindOK       FindErr = iota
	FindNoEnt            // -ENOENT: the header is not in the chain
	FindBadMsg           // -EBADMSG: the chain runs past the packet
	FindNotFound         // not an IPv6 packet
)

// isIPv6ExtHdr is ipv6_ext_hdr.
func isIPv6ExtHdr(nh uint8) bool {
	switch nh {
	case nexthdrHop, nexthdrRouting, nexthdrFragment, nexthdrAuth, nexthdrNone, nexthdrDest:
		return true
	}
	return false
}

// IPv6FindHdr is ipv6_find_hdr over an IPv6 packet (pkt starts at the
// IPv6 header and ends where skb->len does). With target >= 0 it finds
// that header and returns its offset; with target < 0 it returns the
// upper-layer protocol and its offset (the transport header offset), or
// for a later fragment the fragment's next header with offset 0 and the
// fragment offset in bytes (the kernel leaves *offset untouched then).
// stopAtAuth is IP6_FH_F_AUTH: stop at an AH header when target < 0, as
// nf_tables does when it sets the packet's transport offset.
func IPv6FindHdr(pkt []byte, target int, stopAtAuth bool) (proto int, offset int, fragoff int, err FindErr) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return -1, 0, 0, FindNotFound
	}
	start := 40
	nexthdr := pkt[6]
	for {
		found := int(nexthdr) == target
		if !isIPv6ExtHdr(nexthdr) || nexthdr == nexthdrNone {
			if target < 0 || found {
				return int(nexthdr), start, 0, FindOK
			}
			return -1, 0, 0, FindNoEnt
		}
		if start+2 > len(pkt) {
			return -1, 0, 0, FindBadMsg
		}
		var hdrlen int
		switch nexthdr {
		case nexthdrRouting:
			// The routing header's first four bytes are read (for the
			// segments-left check of IP6_FH_F_SKIP_RH, unused here).
			if start+4 > len(pkt) {
				return -1, 0, 0, FindBadMsg
			}
			hdrlen = (int(pkt[start+1]) + 1) * 8
		case nexthdrFragment:
			if start+4 > len(pkt) {
				return -1, 0, 0, FindBadMsg
			}
			off := (int(pkt[start+2])<<8 | int(pkt[start+3])) &^ 7
			if off != 0 {
				nh := pkt[start]
				if target < 0 && (!isIPv6ExtHdr(nh) || nh == nexthdrNone) {
					return int(nh), 0, off, FindOK
				}
				if !found {
					return -1, 0, 0, FindNoEnt
				}
				return int(nexthdr), start, off, FindOK
			}
			hdrlen = 8
		case nexthdrAuth:
			if stopAtAuth && target < 0 {
				return int(nexthdr), start, 0, FindOK
			}
			hdrlen = (int(pkt[start+1]) + 2) << 2
		default:
			hdrlen = (int(pkt[start+1]) + 1) * 8
		}
		if found {
			return int(nexthdr), start, 0, FindOK
		}
		nexthdr = pkt[start]
		start += hdrlen
	}
}

// TransportOffset is the transport header offset nf_tables gives the xt
// matches (par->thoff, from nft_set_pktinfo_ipv4/ipv6): the IPv4 header
// length; for IPv6 where ipv6_find_hdr(-1, IP6_FH_F_AUTH) stops, 0 for a
// later fragment or a chain it cannot walk.
func TransportOffset(f xtables.Family, pkt []byte) int {
	if f == xtables.IPv6 {
		_, off, _, _ := IPv6FindHdr(pkt, -1, true)
		return off
	}
	if len(pkt) < 1 {
		return 0
	}
	return int(pkt[0]&0xf) * 4
}
