package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/ext/rate"
	"github.com/iptwin/iptwin/xtables"
)

// Optional Env methods extensions look for (see the interfaces in their
// packages): host-wide rate tables, route MTUs, device groups.

// RateState gives recent, hashlimit and rateest their host-wide tables,
// shared by name as the kernel shares them within a network namespace.
func (e *env) RateState() *rate.Shared {
	if e.h.rate == nil {
		e.h.rate = &rate.Shared{}
	}
	return e.h.rate
}

// RouteMTU is TCPMSS --clamp-mss-to-pmtu's look-up: the MTU of the
// route the packet takes and of the route back to its source.
func (e *env) RouteMTU(st *xtables.PacketState) (out, reverse uint32) {
	h := e.h
	mtu := func(dst netip.Addr) uint32 {
		r, _, err := h.Net.Lookup(dst, netip.Addr{}, "", "", st.Mark)
		if err != nil {
			return 0
		}
		if l := h.Net.LinkByIndex(r.Dev); l != nil {
			return uint32(l.MTU)
		}
		return 0
	}
	out = mtu(st.Pkt.Dst())
	if m := h.xfrmBundleMTU(e.cur); m > 0 {
		out = uint32(m) // dst_mtu of the packet's route: its IPsec bundle
	}
	return out, mtu(st.Pkt.Src())
}

// DevGroup is a device's group (ip link set DEV group N); the twin's
// links are all in the default group 0.
func (e *env) DevGroup(dev string) uint32 { return 0 }
