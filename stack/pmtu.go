package stack

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// Path MTU exceptions (fib_nh_exception's fnhe_pmtu, rt6_exception): a
// host that receives "fragmentation needed" (ICMP type 3 code 4) or
// "packet too big" (ICMPv6 type 2) about a packet one of its sockets sent
// remembers the smaller MTU for that destination, for
// net.ipv4.route.mtu_expires (600 s). Its next packets there are
// fragmented to it (or refused with EMSGSIZE when they must not be), as
// __ip_rt_update_pmtu and rt6_update_pmtu arrange. Measured in
// namespaces: ping -s 1450 through a 1400-byte link gets "Frag needed
// and DF set (mtu = 1400)" once, then its probes go out in fragments;
// with -M do they fail with "local error: message too long, mtu=1400".

const (
	pmtuExpires = 600e9 // ip_rt_mtu_expires, 10 minutes
	minPMTU4    = 552   // ip_rt_min_pmtu
	minPMTU6    = 1280  // IPV6_MIN_MTU
)

type pmtuEntry struct {
	mtu     int
	expires int64
}

// LearnPMTU is a socket's err handler for a frag-needed / too-big error
// it received (ipv4_sk_update_pmtu, ip6_sk_update_pmtu): p is the ICMP
// error. Whoever owns the socket calls it (the kernel updates nothing
// for an error no socket takes); other errors are ignored.
func (h *Host) LearnPMTU(p *packet.Packet) {
	if p.Layers&packet.LayerInner == 0 || len(p.Transport) < 8 {
		return
	}
	var mtu int
	switch {
	case p.IsIPv4() && p.ICMP.Type == 3 && p.ICMP.Code == 4:
		mtu = int(binary.BigEndian.Uint16(p.Transport[6:8]))
		if mtu < 68 {
			return
		}
		mtu = max(mtu, minPMTU4)
	case p.IsIPv6() && p.ICMP.Type == 2 && p.ICMP.Code == 0:
		mtu = int(binary.BigEndian.Uint32(p.Transport[4:8]))
		mtu = max(mtu, minPMTU6)
	default:
		return
	}
	dst := p.Inner.Dst()
	if !dst.IsValid() {
		return
	}
	if h.pmtu == nil {
		h.pmtu = map[netip.Addr]pmtuEntry{}
	}
	if e, ok := h.pmtu[dst]; ok && e.expires > h.Now && e.mtu <= mtu {
		return // only a smaller MTU replaces a live one
	}
	h.pmtu[dst] = pmtuEntry{mtu: mtu, expires: h.Now + pmtuExpires}
}

// pathMTU is the MTU toward dst on a link of linkMTU: a live learned one
// when it is smaller.
func (h *Host) pathMTU(dst netip.Addr, linkMTU int) int {
	if len(h.pmtu) == 0 {
		return linkMTU
	}
	if e, ok := h.pmtu[dst]; ok {
		if e.expires <= h.Now {
			delete(h.pmtu, dst)
		} else if e.mtu < linkMTU {
			return e.mtu
		}
	}
	return linkMTU
}
