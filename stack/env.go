package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/xtables"
)

// env is the xtables.Env of a host: what targets and matches reach beyond
// the packet. cur is the packet being walked.
type env struct {
	h   *Host
	st  xtables.PacketState
	cur *skb
}

func (e *env) Now() int64     { return e.h.Now }
func (e *env) Random() uint32 { return e.h.random() }

// AddrType is inet_addr_type_dev_table / the IPv6 addrtype lookup: the
// type of the local table's route for addr (local, broadcast), multicast
// by range, otherwise unicast.
func (e *env) AddrType(addr netip.Addr, dev string) int {
	return e.h.addrType(addr, dev)
}

func (h *Host) addrType(addr netip.Addr, dev string) int {
	if addr.Is4() {
		b := addr.As4()
		if b == [4]byte{} || b == [4]byte{255, 255, 255, 255} {
			return xtables.RTNBroadcast
		}
	}
	if addr.IsMulticast() {
		return xtables.RTNMulticast
	}
	if r := h.localRoute(addr, dev); r != nil {
		switch r.Type {
		case host.RTLocal:
			return xtables.RTNLocal
		case host.RTBroadcast:
			return xtables.RTNBroadcast
		}
	}
	if addr.Is6() && addr.IsUnspecified() {
		return xtables.RTNUnspec
	}
	return xtables.RTNUnicast
}

// localRoute is the longest match for addr in the local table (limited
// to dev's routes when dev is given).
func (h *Host) localRoute(addr netip.Addr, dev string) *host.Route {
	var best *host.Route
	devIdx := 0
	if dev != "" {
		if l := h.link(dev); l != nil {
			devIdx = l.Index
		}
	}
	for _, r := range h.Net.Routes {
		if r.Table != host.TableLocal || r.V6 != addr.Is6() || !r.Dst.Contains(addr) {
			continue
		}
		if devIdx != 0 && r.Dev != devIdx && addr.Is6() {
			continue
		}
		if best == nil || r.Dst.Bits() > best.Dst.Bits() {
			best = r
		}
	}
	return best
}

// isLocal reports whether addr is an address of this host.
func (h *Host) isLocal(addr netip.Addr) bool {
	r := h.localRoute(addr, "")
	return r != nil && r.Type == host.RTLocal
}

func (e *env) Log(st *xtables.PacketState, req xtables.LogRequest) {
	e.h.logPacket(e.cur, st, req)
}

func (e *env) Reject(st *xtables.PacketState, t xtables.RejectType) {
	e.h.reject(e.cur, st, t)
}

// AddrType is the route type of an address on this host (xtables.RTN*).
func (h *Host) AddrType(addr netip.Addr) int { return h.addrType(addr, "") }

// Lookup gives the set match and SET target the host's named objects
// (ipsets): one store for both families, as the kernel has one per
// network namespace.
func (e *env) Lookup(kind, name string) (any, bool) {
	for _, rs := range e.h.Rules {
		if rs != nil && rs.Objects != nil {
			return rs.Objects.Lookup(kind, name)
		}
	}
	return nil, false
}

// ReverseRoute is rpfilter's FIB look-up, made as for a packet from lo.
func (e *env) ReverseRoute(dst, src netip.Addr, oif string, mark uint32) (int, string, bool) {
	r, _, err := e.h.Net.Lookup(dst, src, "lo", oif, mark)
	if err != nil || r == nil {
		return 0, "", false
	}
	dev := ""
	if l := e.h.Net.LinkByIndex(r.Dev); l != nil {
		dev = l.Name
	}
	typ := xtables.RTNUnicast
	switch r.Type {
	case host.RTLocal:
		typ = xtables.RTNLocal
	case host.RTBroadcast:
		typ = xtables.RTNBroadcast
	case host.RTMulticast:
		typ = xtables.RTNMulticast
	}
	return typ, dev, true
}
