package ctmatch

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// What the packet semantics of these matches need of the host and of a
// conntrack entry beyond xtables.Env and xtables.Conn. The packet path
// provides them by implementing these methods on its Env and Conn types;
// a match whose answer depends on one the host lacks does not match
// (connlimit, socket) rather than guess.

// ConnFinder is nf_conntrack_find_get: the confirmed entry whose tuple in
// either direction is t, in conntrack zone zone, or nil.
type ConnFinder interface {
	FindConn(t xtables.Tuple, zone uint16) xtables.Conn
}

// ConnZone is nf_ct_zone(ct)->id.
type ConnZone interface{ Zone() uint16 }

// ConnMaster is ct->master: the connection an expected one was created
// for (nil when the connection was not expected).
type ConnMaster interface{ Master() xtables.Conn }

// ConnClosed is already_closed of nf_conncount: a TCP connection in
// TIME_WAIT or CLOSE.
type ConnClosed interface{ Closed() bool }

// SocketLookup is what the socket match needs: the local socket a packet
// of PREROUTING/INPUT belongs to (nf_sk_lookup_slow_v4/v6 and the
// TPROXY-style lookup), reported as found, whether it is a listener bound
// to a wildcard address, its IP_TRANSPARENT flag and its mark.
type SocketLookup interface {
	LookupSocket(st *xtables.PacketState) (found, wildcard, transparent bool, mark uint32)
}

// zoneOf is the zone of ct (0 when the host does not say).
func zoneOf(ct xtables.Conn) uint16 {
	if z, ok := ct.(ConnZone); ok {
		return z.Zone()
	}
	return 0
}

// maskedEqual is conntrack_addrcmp and friends: (a ^ b) & mask == 0 for
// addresses of one family (a mask that is not set is all zeros).
func maskedEqual(a, b, mask netip.Addr) bool {
	if !a.IsValid() || !b.IsValid() || a.Is4() != b.Is4() {
		return false
	}
	if !mask.IsValid() {
		return true
	}
	x, y, m := a.As16(), b.As16(), mask.As16()
	for i := range x {
		if (x[i]^y[i])&m[i] != 0 {
			return false
		}
	}
	return true
}

// XfrmState is what the policy match reads of an IPsec SA (struct
// xfrm_state): the SA's outer addresses (props.saddr, id.daddr), its
// protocol (ESP, AH, IPComp), mode (0 transport, 1 tunnel), SPI and reqid.
type XfrmState struct {
	Src, Dst netip.Addr
	Proto    uint8
	Mode     uint8
	SPI      uint32
	Reqid    uint32
}

// IPsecPath is how the host tells the policy match about IPsec (issue 4):
//
//   - InputSAs is skb->sp: the SAs that decapsulated the packet, in the
//     order they were applied (xvec[0] the outermost); ok is false when the
//     packet has no secpath (it did not come out of IPsec).
//   - OutputSAs is the xfrm bundle of the packet's route (skb_dst(skb)->xfrm
//     and its children, the first-applied state first, as match_policy_out
//     walks them); ok is false when the route has no xfrm (no policy
//     applies on output).
//
// A host without IPsec need not implement it: every packet then has no
// secpath and no bundle, which is what --pol none matches.
type IPsecPath interface {
	InputSAs(st *xtables.PacketState) (sas []XfrmState, ok bool)
	OutputSAs(st *xtables.PacketState) (sas []XfrmState, ok bool)
}
