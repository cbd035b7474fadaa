package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/ext/ctmatch"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// xfrmSkb is what a packet carries of IPsec: its secpath (skb->sp) and
// the xfrm part of its route (skb_dst(skb)->xfrm and its children), with
// the IPCB flags and socket policy the xfrm code reads.
type xfrmSkb struct {
	// sp: the states that decapsulated the packet, outermost first.
	sp xfrm.SecPath
	// dst is the route's bundle (dst.N > 0); next is the first of its
	// states still to apply (an ESP packet between two tunnel-mode
	// states routes by the bundle's child).
	dst  xfrm.Bundle
	next int
	// mtu is the bundle's MTU (xfrm_init_pmtu); routeDev the device of
	// the plain route under it (xdst->route), which a look-up after NAT
	// starts from; tunDev and tunHop where the encapsulated packet goes
	// (the bundle's path route).
	mtu      int
	routeDev string
	tunDev   string
	tunHop   netip.Addr
	// blackhole: the route is ipv4_blackhole_route (larval drop: no SA
	// yet): LOCAL_OUT sees the packet, dst_discard_out drops it.
	blackhole bool
	// transformed is IPSKB_XFRM_TRANSFORMED: an ESP packet made here,
	// never looked up again.
	transformed bool
	// bypass: the sending (or receiving) socket has a per-socket policy
	// that allows without templates (an IKE daemon's sockets).
	bypass bool
	// sendErr is the errno a local sender gets when xfrm drops its
	// packet, in strerror's words.
	sendErr string
}

// hasBundle reports whether states of the route's bundle are still to
// be applied.
func (x *xfrmSkb) hasBundle() bool { return x.next < x.dst.N }

// xfrmConf is what the xfrm code reads of a device's sysctls.
type xfrmConf struct {
	// noXfrm is IN_DEV_ORCONF(dev, NOXFRM): IPv4 routes out of it are
	// DST_NOXFRM (no output policy look-up).
	noXfrm bool
	// noPolicy4 is IN_DEV_ORCONF(dev, NOPOLICY) (IPSKB_NOPOLICY for
	// packets received on it), noPolicy6 the IPv6 disable_policy of the
	// device or all.
	noPolicy4, noPolicy6 bool
}

// xfrmLinkConf reads a device's xfrm sysctls. The loopback starts with
// disable_xfrm and disable_policy set for IPv4 (inetdev_init), which is
// why local IPv4 traffic is never transformed nor checked (measured).
func (h *Host) xfrmLinkConf(dev string) xfrmConf {
	get := func(key, def string) bool {
		v, ok := h.Net.Sysctl[key]
		if !ok {
			v = def
		}
		return v != "" && v != "0"
	}
	lo := "0"
	if l := h.link(dev); l != nil && isLoopback(l) {
		lo = "1"
	}
	return xfrmConf{
		noXfrm:    get("net.ipv4.conf.all.disable_xfrm", "0") || get("net.ipv4.conf."+dev+".disable_xfrm", lo),
		noPolicy4: get("net.ipv4.conf.all.disable_policy", "0") || get("net.ipv4.conf."+dev+".disable_policy", lo),
		noPolicy6: get("net.ipv6.conf.all.disable_policy", "0") || get("net.ipv6.conf."+dev+".disable_policy", "0"),
	}
}

// InputSAs is the policy match's view of skb->sp (ctmatch.IPsecPath).
func (e *env) InputSAs(*xtables.PacketState) ([]ctmatch.XfrmState, bool) {
	s := e.cur
	if s == nil || s.xs.sp.Len == 0 {
		return nil, false
	}
	x := &e.h.xfrm
	out := x.sas[:0]
	for i := 0; i < s.xs.sp.Len; i++ {
		out = append(out, ctmatch.XfrmState(s.xs.sp.SAs[i].Info()))
	}
	return out, true
}

// OutputSAs is the policy match's view of the route's bundle, in the
// order match_policy_out walks it (the first state applied first).
func (e *env) OutputSAs(*xtables.PacketState) ([]ctmatch.XfrmState, bool) {
	s := e.cur
	if s == nil || !s.xs.hasBundle() {
		return nil, false
	}
	x := &e.h.xfrm
	out := x.sas[:0]
	for i := s.xs.next; i < s.xs.dst.N; i++ {
		out = append(out, ctmatch.XfrmState(s.xs.dst.SAs[i].Info()))
	}
	return out, true
}

var _ ctmatch.IPsecPath = (*env)(nil)
