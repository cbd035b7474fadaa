package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/xtables"
)

// natRange turns a NAT target's request into the range nf_nat_setup_info
// gets: SNAT and DNAT as given; MASQUERADE with the address the output
// device would use towards the next hop (nf_nat_masquerade_ipv4:
// inet_select_addr; IPv6: ipv6_dev_get_saddr); REDIRECT with the input
// device's first address, or loopback for locally generated packets
// (nf_nat_redirect_ipv4/ipv6). ok is false when the kernel drops the
// packet (no address to use).
func (h *Host) natRange(s *skb, hook int, req xtables.NATRequest) (xtables.NATRange, bool) {
	r := req.Range
	switch req.Kind {
	case xtables.NATMasquerade:
		a := h.masqueradeSource(s)
		if !a.IsValid() {
			return r, false
		}
		r.Flags |= xtables.NATRangeMapIPs
		r.MinAddr, r.MaxAddr = a, a
	case xtables.NATRedirect:
		var a netip.Addr
		if hook == xtables.HookOutput {
			if s.v6() {
				a = netip.IPv6Loopback()
			} else {
				a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
			}
		} else {
			a = h.firstAddr(s.in, s.v6())
		}
		if !a.IsValid() {
			return r, false
		}
		r.Flags |= xtables.NATRangeMapIPs
		r.MinAddr, r.MaxAddr = a, a
	}
	return r, true
}

func (h *Host) masqueradeSource(s *skb) netip.Addr {
	l := h.link(s.out)
	if l == nil {
		return netip.Addr{}
	}
	if s.v6() {
		_, src, err := h.Net.Lookup(s.pkt.Dst(), netip.Addr{}, "", s.out, s.mark)
		if err != nil {
			return netip.Addr{}
		}
		return src
	}
	// inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE): the primary
	// address whose subnet holds the next hop, else the first primary one.
	var first netip.Addr
	for _, a := range h.Net.Addrs {
		if a.Dev != l.Index || !a.Prefix.Addr().Is4() || h.Net.Secondary(a) || a.Scope > host.ScopeUniverse {
			continue
		}
		if a.Prefix.Contains(s.nexthop) {
			return a.Prefix.Addr()
		}
		if !first.IsValid() {
			first = a.Prefix.Addr()
		}
	}
	return first
}

// firstAddr is the first address of a device (IPv4: the first primary,
// in_dev->ifa_list; IPv6: the first global one, as nf_nat_redirect_ipv6
// takes it from the device's address list).
func (h *Host) firstAddr(dev string, v6 bool) netip.Addr {
	l := h.link(dev)
	if l == nil {
		return netip.Addr{}
	}
	for _, a := range h.Net.Addrs {
		if a.Dev != l.Index || a.Prefix.Addr().Is6() != v6 {
			continue
		}
		if v6 && a.Prefix.Addr().IsLinkLocalUnicast() {
			continue
		}
		if !v6 && h.Net.Secondary(a) {
			continue
		}
		return a.Prefix.Addr()
	}
	return netip.Addr{}
}
