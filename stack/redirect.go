package stack

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
)

// Redirects: a router forwarding a packet out of the interface it came
// in by tells the sender of a better first hop (RFC 792, RFC 4861 8).

// redirectPeer is the per-sender state of ip_rt_send_redirect's limit
// (inet_peer rate_last, n_redirects) and of IPv6's inet_peer_xrlim_allow.
type redirectPeer struct {
	last int64 // jiffies of the last redirect (or ignored packet)
	n    int
	v6   int64 // jiffies of the last IPv6 redirect (token bucket of 1 s)
}

const (
	hz                  = 250
	ipRtRedirectNumber  = 9
	ipRtRedirectLoad    = hz / 50
	ipRtRedirectSilence = ipRtRedirectLoad << (ipRtRedirectNumber + 1)
)

func (h *Host) jiffies() int64 { return h.Now * hz / 1e9 }

func (h *Host) redirectPeer(a netip.Addr) *redirectPeer {
	if h.redirects == nil {
		h.redirects = map[netip.Addr]*redirectPeer{}
	}
	p := h.redirects[a]
	if p == nil {
		p = &redirectPeer{last: -1 << 40, v6: -1 << 40}
		h.redirects[a] = p
	}
	return p
}

// redirect4 is __mkroute_input's IPSKB_DOREDIRECT decision and
// ip_rt_send_redirect, called after the TTL decrement: the sender and
// the next hop share a subnet of the interface (inet_addr_onlink) and
// send_redirects is on for it (all or the device).
func (h *Host) redirect4(s *skb, out *host.Link, r *host.Route) {
	if !h.conf[out.Name].sendRedirects {
		return
	}
	if !h.onlink(out, s.pkt.Src(), r.Gw) {
		return
	}
	p := h.redirectPeer(s.pkt.Src())
	j := h.jiffies()
	if j > p.last+ipRtRedirectSilence {
		p.n = 0
	}
	if p.n >= ipRtRedirectNumber {
		p.last = j
		return
	}
	if p.n != 0 && j <= p.last+int64(ipRtRedirectLoad<<p.n) {
		return
	}
	p.last = j
	p.n++
	o := h.replyOptions(s)
	r2 := h.newSkb(s.fam)
	var ok bool
	r2.buf, ok = icmpgen.Error(r2.buf[:0], &s.pkt, 5, 1, be32(s.nexthop), o) // ICMP_REDIRECT, ICMP_REDIR_HOST
	r2.sock = sockCtl
	attachCt(r2, s)
	if !ok || r2.redecode() != nil {
		h.freeSkb(r2)
		return
	}
	r2.local = true
	h.sendNow(r2, "icmp redirect")
}

func be32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// onlink is inet_addr_onlink: one address of the device has a subnet
// holding a (and gw, when given).
func (h *Host) onlink(l *host.Link, a, gw netip.Addr) bool {
	for _, ad := range h.Net.Addrs {
		if ad.Dev != l.Index || !ad.Prefix.Addr().Is4() {
			continue
		}
		p := ad.Prefix.Masked()
		if p.Contains(a) && (!gw.IsValid() || p.Contains(gw)) {
			return true
		}
	}
	return false
}

// redirect6 is ip6_forward's redirect (before the hop limit decrement)
// and ndisc_send_redirect: to a link-local gateway, or to the
// destination itself when it is on the link; limited to one per second
// per destination and per source.
func (h *Host) redirect6(s *skb, out *host.Link, r *host.Route) {
	target := s.pkt.Dst()
	if r.Gw.IsValid() {
		target = r.Gw
	}
	if target != s.pkt.Dst() && !target.IsLinkLocalUnicast() {
		return
	}
	src := h.linkLocal(out)
	if !src.IsValid() {
		return
	}
	j := h.jiffies()
	pd := h.redirectPeer(s.pkt.Dst())
	if j < pd.v6+hz {
		return
	}
	pd.v6 = j
	ps := h.redirectPeer(s.pkt.Src())
	if ps != pd {
		if j < ps.v6+hz {
			return
		}
		ps.v6 = j
	}
	// The message: type 137, reserved, target, destination, the target
	// link-layer address option (when the neighbour is known) and the
	// redirected header option with as much of the packet as fits in
	// the IPv6 minimum MTU, in 8-byte units.
	var rh packet.Headers
	rh.Layers = packet.LayerIPv6 | packet.LayerICMPv6
	rh.Proto = packet.ProtoICMPv6
	rh.IPv6 = packet.IPv6{HopLimit: 255, Src: src, Dst: s.pkt.Src()}
	rh.ICMP = packet.ICMP{Type: 137}
	body := make([]byte, 0, 1280)
	t16, d16 := target.As16(), s.pkt.Dst().As16()
	body = append(body, t16[:]...)
	body = append(body, d16[:]...)
	if mac, ok := h.resolve(out.Name, target); ok {
		body = append(body, 2, 1)
		body = append(body, mac[:]...)
	}
	room := 1280 - 40 - 8 - len(body) - 8
	n := min(len(s.buf), room) &^ 7
	body = append(body, 4, byte(n/8+1), 0, 0, 0, 0, 0, 0)
	body = append(body, s.buf[:n]...)
	rh.Payload = body
	r2 := h.newSkb(s.fam)
	r2.sock = sockCtl
	var err error
	r2.buf, err = rh.Append(r2.buf[:0], packet.FixAll)
	if err != nil || r2.redecode() != nil {
		h.freeSkb(r2)
		return
	}
	r2.local = true
	attachCt(r2, s)
	h.sendNow(r2, "ndisc redirect")
}

// linkLocal is the device's link-local address (ipv6_get_lladdr).
func (h *Host) linkLocal(l *host.Link) netip.Addr {
	for _, a := range h.Net.Addrs {
		if a.Dev == l.Index && a.Prefix.Addr().Is6() && a.Prefix.Addr().IsLinkLocalUnicast() {
			return a.Prefix.Addr()
		}
	}
	return netip.Addr{}
}
