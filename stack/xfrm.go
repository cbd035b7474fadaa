package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/ext/ctmatch"
	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// IPsec on the packet path, output side (package xfrm's doc gives the
// kernel's call points; xfrm_input.go has the input side).
//
// The bundle is chosen with the route, on the flow as the packet is
// then (xfrm_lookup_route in ip_route_output_flow for a local packet,
// xfrm4_route_forward in ip_forward after the TTL check for a forwarded
// one): it is what `-m policy --dir out` sees in OUTPUT, FORWARD and
// POSTROUTING, its MTU is the route's, and its path route's device is
// the packet's output device (-o). When NAT changes the connection's
// source (POSTROUTING, nf_nat_ipv4_out) or ports (OUTPUT,
// nf_nat_ipv4_local_fn), or OUTPUT changed the destination or mark
// (ip_route_me_harder), the policy is looked up again on the rewritten
// packet (nf_xfrm_me_harder): seed 000's MASQUERADE makes a LAN packet's
// source an address no policy covers, and it leaves in clear. After
// POSTROUTING a packet with a bundle goes through its states
// (xfrm_output); after each tunnel-mode state the new ESP packet goes
// round LOCAL_OUT (OUTPUT) and POSTROUTING with a fresh conntrack entry
// (xfrm_output_resume), marked as transformed so that nothing looks it
// up again.
//
// Without a state for a required template (ACQUIRE; net.core.
// xfrm_larval_drop is 1) a forwarded packet is dropped in ip_forward
// before FORWARD; a local one gets a blackhole route: OUTPUT sees it
// (leaving by lo), then it is discarded and the sender is told nothing
// (measured). A block policy refuses the route: the sender gets EPERM.

// xfrmState is the host's scratch space for IPsec (the per-packet path
// allocates nothing once it has grown).
type xfrmState struct {
	buf, buf2 []byte // encapsulation results, used in turn
	frag      []byte // a local packet's fragments before encapsulation
	frags     [][]byte
	sas       [xfrm.MaxDepth]ctmatch.XfrmState // the policy match's view
	src       xfrm.SourceFunc
}

// lookupNoRoute is an xfrm_lookup outcome beyond xfrm.Verdict's: the
// bundle's path has no route (XfrmOutBundleGenError).
const lookupNoRoute xfrm.Verdict = 100

// wallSeconds is the host's wall clock as the xfrm add and use times
// read it (get_seconds()).
func (h *Host) wallSeconds() int64 { return (h.WallBase + h.Now) / 1e9 }

// xfrmSource picks the source of a tunnel template that has none, as
// routing would (xfrm4_get_saddr).
func (h *Host) xfrmSource(dst netip.Addr, oif int) (netip.Addr, bool) {
	oifName := ""
	if l := h.Net.LinkByIndex(oif); l != nil {
		oifName = l.Name
	}
	_, src, err := h.Net.Lookup(dst, netip.Addr{}, "", oifName, 0)
	return src, err == nil && src.IsValid()
}

func isLoopback(l *host.Link) bool { return l.Kind == host.Loopback }

// noXfrm is DST_NOXFRM on a route out of dev: IPv4's disable_xfrm
// (set on lo, so local IPv4 traffic is never transformed); IPv6 has no
// such setting, and its local traffic meets the policies (measured).
func (h *Host) noXfrm(s *skb, dev string) bool { return !s.v6() && h.conf[dev].xfrm.noXfrm }

// xfrmLookup is xfrm_lookup for s on the plain route out of base: the
// packet's bundle (s.xs.dst; s.out becomes the bundle's device) or why
// there is none. A socket with a bypass policy, a route out of a device
// with disable_xfrm (DST_NOXFRM) and a host without out policies skip
// the database (nopol), where only a default block policy refuses, and
// never on the loopback.
func (h *Host) xfrmLookup(s *skb, base string) xfrm.Verdict {
	x := &s.xs
	x.dst.N, x.next, x.mtu, x.routeDev, x.tunDev = 0, 0, 0, base, base
	x.tunHop = s.nexthop
	db := h.Xfrm
	if db == nil || x.bypass {
		return xfrm.Pass
	}
	_, nout, _ := db.Count()
	if nout == 0 && !db.DefaultBlock[xfrm.DirOut] {
		return xfrm.Pass
	}
	l := h.link(base)
	loop := l != nil && isLoopback(l)
	if nout == 0 || h.noXfrm(s, base) {
		if db.DefaultBlock[xfrm.DirOut] && !loop {
			return xfrm.Blocked
		}
		return xfrm.Pass
	}
	var fl xfrm.Flow
	if !fl.FromPacket(s.buf, false) {
		return xfrm.Pass
	}
	if l != nil {
		fl.Oif = l.Index
	}
	fl.Mark, fl.Loopback = s.mark, loop
	if h.xfrm.src == nil {
		h.xfrm.src = h.xfrmSource
	}
	v := db.OutputPolicy(&fl, h.wallSeconds(), h.xfrm.src, &x.dst)
	if v == xfrm.NoState && h.Acquire != nil {
		if larval := db.Acquire(&x.dst, &fl, h.wallSeconds()); larval != nil {
			h.Acquire(larval)
		}
	}
	if v != xfrm.Transform {
		x.dst.N = 0
		return v
	}
	if !h.bundleRoute(s, l) {
		x.dst.N = 0
		db.Inc(xfrm.MIBOutBundleGenError)
		return lookupNoRoute
	}
	s.out = x.tunDev
	if h.Obs != nil {
		h.Obs.Note("xfrm", h.bundleText(s))
	}
	return xfrm.Transform
}

// bundleRoute is xfrm_bundle_create's routing: the route to the last
// tunnel-mode state's end (xfrm_dst_lookup, with the inner route's
// device as flowi_oif: when nothing is routed by that device the
// destination is taken as on-link there, as __ip_route_output_key does),
// which the ESP packet takes, and the bundle's MTU (xfrm_init_pmtu).
func (h *Host) bundleRoute(s *skb, base *host.Link) bool {
	x := &s.xs
	var tun *xfrm.State
	for i := x.dst.N - 1; i >= 0; i-- {
		if x.dst.SAs[i].Mode != xfrm.ModeTransport {
			tun = x.dst.SAs[i]
			break
		}
	}
	path := base
	if tun != nil {
		oif := ""
		if base != nil {
			oif = base.Name
		}
		r, _, err := h.Net.Lookup(tun.Dst, tun.Src, "", oif, tun.OutputMark(s.mark))
		switch {
		case err == nil && r.Type == host.RTLocal:
			path, x.tunHop = h.link("lo"), tun.Dst
		case err == nil:
			path, x.tunHop = h.Net.LinkByIndex(r.Dev), nexthop(r, tun.Dst)
		case base != nil:
			x.tunHop = tun.Dst
		default:
			return false
		}
	}
	if path == nil {
		return false
	}
	x.tunDev = path.Name
	x.mtu = x.dst.MTU(path.MTU)
	if base != nil && base.MTU < x.mtu {
		x.mtu = base.MTU
	}
	return true
}

// bundleText describes a packet's bundle for the trace.
func (h *Host) bundleText(s *skb) string {
	b := []byte("bundle:")
	for i := s.xs.next; i < s.xs.dst.N; i++ {
		sa := s.xs.dst.SAs[i]
		b = append(b, " esp spi 0x"...)
		b = appendHex32(b, sa.SPI)
		b = append(b, ' ')
		b = append(b, sa.Mode.String()...)
		if sa.Mode != xfrm.ModeTransport {
			b = append(b, ' ')
			b = sa.Src.AppendTo(b)
			b = append(b, '>')
			b = sa.Dst.AppendTo(b)
		}
	}
	b = append(b, " dev "...)
	b = append(b, s.xs.tunDev...)
	b = append(b, " mtu "...)
	b = appendInt(b, s.xs.mtu)
	return string(b)
}

func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for i := 28; i >= 0; i -= 4 {
		b = append(b, digits[v>>uint(i)&0xf])
	}
	return b
}

func appendInt(b []byte, v int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// xfrmRefused is the fate of a packet whose look-up gave no route: the
// reason and, for a local sender, its errno. again says the look-up is
// one made again after NAT or rerouting (flags 0: a missing state is
// -EREMOTE there, not a blackhole).
func (h *Host) xfrmRefused(s *skb, v xfrm.Verdict, again bool) Result {
	var res Result
	switch v {
	case xfrm.Blocked:
		res = dropped("IPsec policy blocks it (XfrmOutPolBlock)")
		s.xs.sendErr = "operation not permitted"
	case xfrm.NoState:
		res = dropped("no IPsec SA for the policy yet: ACQUIRE, dropped (XfrmOutNoStates)")
		if again {
			s.xs.sendErr = "object is remote"
		}
	default:
		res = dropped("IPsec bundle without a route (XfrmOutBundleGenError)")
		s.xs.sendErr = "network is unreachable"
	}
	if s.local {
		res.SendErr = s.xs.sendErr
	}
	if h.Obs != nil {
		h.Obs.Note("xfrm", res.Reason)
	}
	return res
}

// xfrmRouteOutput is xfrm_lookup_route in ip_route_output_flow, for a
// local packet whose route is s.out: ok false means no route (the sender
// gets res.SendErr). A missing state makes the route a blackhole.
func (h *Host) xfrmRouteOutput(s *skb) (Result, bool) {
	if h.Xfrm == nil || s.xs.transformed {
		return Result{}, true
	}
	switch v := h.xfrmLookup(s, s.out); v {
	case xfrm.Pass, xfrm.Transform:
		return Result{}, true
	case xfrm.NoState:
		// -EREMOTE: make_blackhole (ipv4_blackhole_route, on lo)
		s.out, s.xs.blackhole = "lo", true
		if h.Obs != nil {
			h.Obs.Note("xfrm", "no IPsec SA yet (ACQUIRE): blackhole route")
		}
		return Result{}, true
	default:
		return h.xfrmRefused(s, v, false), false
	}
}

// xfrmRerouted is the xfrm part of ip_route_me_harder, after OUTPUT
// changed the destination or the mark and s.out is the new plain route.
func (h *Host) xfrmRerouted(s *skb) (Result, bool) {
	s.xs.blackhole = false
	if s.xs.transformed {
		// the new route replaces the bundle's child: nothing is left
		// to apply (IPSKB_XFRM_TRANSFORMED skips the look-up)
		s.xs.dst.N, s.xs.next = 0, 0
		return Result{}, true
	}
	if h.Xfrm == nil {
		return Result{}, true
	}
	switch v := h.xfrmLookup(s, s.out); v {
	case xfrm.Pass, xfrm.Transform:
		return Result{}, true
	default:
		return h.xfrmRefused(s, v, true), false
	}
}

// dstOutput is dst_output after LOCAL_OUT: a blackhole route discards
// the packet (dst_discard_out; the sender sees success), any other goes
// on to POSTROUTING.
func (h *Host) dstOutput(s *skb) Result {
	if s.xs.blackhole {
		return Result{Fate: FateDropped, Dev: "lo", Reason: "no IPsec SA yet (ACQUIRE): blackhole route"}
	}
	return h.postRouting(s)
}

// xfrmRouteForward is xfrm4_route_forward / xfrm6_route_forward in
// ip_forward: the bundle of a forwarded packet (out becomes its device),
// or the drop (no state, block). A route out of a device with
// disable_xfrm is not looked up at all.
func (h *Host) xfrmRouteForward(s *skb, out **host.Link) (Result, bool) {
	db := h.Xfrm
	if db == nil {
		return Result{}, true
	}
	if _, nout, _ := db.Count(); nout == 0 && !db.DefaultBlock[xfrm.DirOut] || h.noXfrm(s, s.out) {
		return Result{}, true
	}
	switch v := h.xfrmLookup(s, s.out); v {
	case xfrm.Pass:
		return Result{}, true
	case xfrm.Transform:
		if l := h.link(s.out); l != nil {
			*out = l
		}
		return Result{}, true
	default:
		return h.xfrmRefused(s, v, false), false
	}
}

// forwardMTU is the MTU ip_forward compares with: the bundle's, or the
// output device's.
func (h *Host) forwardMTU(s *skb, out *host.Link) int {
	if s.xs.hasBundle() && s.xs.mtu > 0 {
		return s.xs.mtu
	}
	return h.pathMTU(s.pkt.Dst(), out.MTU)
}

// xfrmNATHarder is the xfrm half of nf_nat_ipv4_out / nf_nat_ipv6_out
// (POSTROUTING) and nf_nat_ipv4_local_fn (OUTPUT): when the connection's
// NAT changed the packet's source (or, except for ICMP, its source port;
// in OUTPUT its destination port, a destination address change being
// ip_route_me_harder's), the policy is looked up again on the rewritten
// packet (nf_xfrm_me_harder), from the plain route under any bundle.
func (h *Host) xfrmNATHarder(s *skb, hook int) (verdict, bool) {
	c := s.ct.conn
	if h.Xfrm == nil || c == nil || s.xs.transformed || s.xs.blackhole {
		return verdict{}, true
	}
	dir := 0
	if s.ct.reply {
		dir = 1
	}
	t, o := c.Tuple(dir), c.Tuple(1-dir)
	icmp := t.Proto == packet.ProtoICMP && !s.v6() || t.Proto == packet.ProtoICMPv6 && s.v6()
	switch hook {
	case xtables.HookPostrouting:
		if t.Src == o.Dst && (icmp || t.SrcPort == o.DstPort) {
			return verdict{}, true
		}
	case xtables.HookOutput:
		if t.Dst != o.Src || icmp || t.DstPort == o.SrcPort {
			return verdict{}, true
		}
	default:
		return verdict{}, true
	}
	base := s.out
	if s.xs.hasBundle() {
		base = s.xs.routeDev
	}
	switch v := h.xfrmLookup(s, base); v {
	case xfrm.Pass, xfrm.Transform:
		if h.Obs != nil && v == xfrm.Pass {
			h.Obs.Note("xfrm", "looked up again after NAT: no IPsec")
		}
		return verdict{}, true
	default:
		res := h.xfrmRefused(s, v, true)
		return verdict{code: xtables.VerdictCodeDrop, reason: res.Reason}, false
	}
}

// xfrmOutput is xfrm4_output / xfrm6_output after POSTROUTING for a
// packet with a bundle (done false: none, the packet is transmitted).
// A local packet longer than the bundle's MTU was cut by its socket to
// that MTU (ip_append_data's fragsize is the route's MTU; IPv6 always,
// IPv4 without DF) and each fragment is transformed; a DF packet that
// is too big is refused (xfrm4_tunnel_check_size: ICMP fragmentation
// needed with the bundle's MTU, or EMSGSIZE for a local sender).
func (h *Host) xfrmOutput(s *skb) (res Result, done bool) {
	x := &s.xs
	if !x.hasBundle() {
		return Result{}, false
	}
	if x.next == 0 && !x.transformed && x.mtu > 0 && len(s.buf) > x.mtu && x.tunnel() {
		df := s.v6() || s.pkt.IPv4.Flags&packet.IPv4DF != 0
		switch {
		case s.local && (s.v6() || !df):
			return h.xfrmFragments(s), true
		case df:
			if s.local {
				x.sendErr = "message too long"
				res := dropped("too big for the IPsec bundle's MTU")
				res.SendErr = x.sendErr
				return res, true
			}
			h.sendICMPError(s, icmpFragNeeded)
			return dropped("too big for the IPsec bundle's MTU"), true
		}
	}
	return h.xfrmTransform(s, s.buf), true
}

// tunnel reports whether a tunnel-mode state is still to be applied.
func (x *xfrmSkb) tunnel() bool {
	for i := x.next; i < x.dst.N; i++ {
		if x.dst.SAs[i].Mode != xfrm.ModeTransport {
			return true
		}
	}
	return false
}

// xfrmFragments fragments a local packet to the bundle's MTU and
// transforms each fragment.
func (h *Host) xfrmFragments(s *skb) Result {
	hx := &h.xfrm
	var err error
	if s.v6() {
		hx.frag, hx.frags, err = packet.FragmentIPv6(hx.frag[:0], hx.frags[:0], s.buf, s.xs.mtu, h.random())
	} else {
		hx.frag, hx.frags, err = packet.FragmentIPv4(hx.frag[:0], hx.frags[:0], s.buf, s.xs.mtu)
	}
	if err != nil {
		return dropped("cannot fragment")
	}
	var res Result
	for i := 0; i < len(hx.frags); i++ {
		if res = h.xfrmTransform(s, hx.frags[i]); res.Fate == FateDropped {
			break
		}
	}
	return res
}

// xfrmTransform is xfrm_output_one from s's next state up to and
// including the next tunnel-mode one, then xfrm_output_resume: the new
// packet goes round LOCAL_OUT and, through postRouting, POSTROUTING and
// the bundle's remaining states or the wire.
func (h *Host) xfrmTransform(s *skb, inner []byte) Result {
	x, hx, db := &s.xs, &h.xfrm, h.Xfrm
	bufs := [2]*[]byte{&hx.buf, &hx.buf2}
	k, i, mark := 0, x.next, s.mark
	for i < x.dst.N {
		sa := x.dst.SAs[i]
		p := xfrm.EncapParams{TTL: uint8(h.defaultTTL(sa.Family == xfrm.Inet6)), ID: uint16(h.random()),
			IgnoreDF: s.local, Now: h.wallSeconds()}
		out, err := sa.Encapsulate((*bufs[k])[:0], inner, &p)
		if err != nil {
			db.CountOutError(err)
			return dropped("IPsec: " + err.Error())
		}
		*bufs[k] = out
		inner, k = out, k^1
		mark = sa.OutputMark(mark)
		i++
		if sa.Mode != xfrm.ModeTransport {
			break
		}
	}
	fam := xtables.IPv4
	if len(inner) > 0 && inner[0]>>4 == 6 {
		fam = xtables.IPv6
	}
	e := h.newSkb(fam)
	if err := e.setBytes(inner); err != nil {
		h.freeSkb(e)
		return dropped("IPsec: undecodable ESP packet")
	}
	e.local, e.mark = true, mark
	e.sock, e.uid, e.gid = s.sock, s.uid, s.gid
	e.xs.dst, e.xs.next, e.xs.mtu = x.dst, i, x.mtu
	e.xs.routeDev, e.xs.tunDev, e.xs.tunHop = x.tunDev, x.tunDev, x.tunHop
	e.xs.transformed = true
	if h.Obs != nil {
		h.Obs.Note("xfrm", "encapsulated: "+e.pkt.String())
	}
	res := h.xfrmLocalOut(e)
	if e.xs.sendErr != "" {
		x.sendErr = e.xs.sendErr
	}
	h.release(e)
	h.freeSkb(e)
	return res
}

// xfrmLocalOut is the rest of xfrm_output_resume for a transformed
// packet: LOCAL_OUT on the bundle's child route (no route look-up; a
// change of destination or mark in OUTPUT routes it again, plainly),
// then POSTROUTING and the remaining states or the wire.
func (h *Host) xfrmLocalOut(e *skb) Result {
	e.out, e.nexthop = e.xs.tunDev, e.xs.tunHop
	dst, mark := e.pkt.Dst(), e.mark
	if v := h.hook(e, xtables.HookOutput); v.code != xtables.VerdictCodeAccept {
		return hookResult(v, xtables.HookOutput)
	}
	if e.pkt.Dst() != dst || e.mark != mark {
		r, _, err := h.Net.Lookup(e.pkt.Dst(), e.pkt.Src(), "", "", e.mark)
		if h.Obs != nil {
			h.Obs.Route(e.pkt.Dst(), r, err)
		}
		if err != nil {
			return dropped("no route after re-routing: " + err.Error())
		}
		h.setOutRoute(e, r)
		e.xs.dst.N, e.xs.next = 0, 0
	}
	return h.postRouting(e)
}

// xfrmBundleMTU is the MTU of the packet's route when it has a bundle
// (dst_mtu(skb_dst(skb)) for TCPMSS and ICMP fragmentation needed), or 0.
func (h *Host) xfrmBundleMTU(s *skb) int {
	if s == nil || !s.xs.hasBundle() {
		return 0
	}
	return s.xs.mtu
}

// RouteMTU is the MTU of the route a local socket's packet ip would take
// out of oif (any when empty): dst_mtu of its route, the IPsec bundle's
// when a policy transforms the packet, else the output device's; 0 when
// there is no route. ping reads it to set DF (IP_PMTUDISC_WANT) and to
// refuse a -M do packet that is too big ("message too long, mtu=1438").
// The look-up counts and acquires as the socket layer's does.
func (h *Host) RouteMTU(ip []byte, oif string, sock *Socket) int {
	if len(ip) == 0 {
		return 0
	}
	fam := xtables.IPv4
	if ip[0]>>4 == 6 {
		fam = xtables.IPv6
	}
	s := h.newSkb(fam)
	defer h.freeSkb(s)
	if err := s.setBytes(ip); err != nil && !s.ipDecoded() {
		return 0
	}
	s.local = true
	if sock != nil {
		s.xs.bypass = sock.XfrmBypass
	}
	r, _, err := h.Net.Lookup(s.pkt.Dst(), s.pkt.Src(), "", oif, 0)
	if err != nil {
		return 0
	}
	h.setOutRoute(s, r)
	if h.Xfrm != nil && h.xfrmLookup(s, s.out) == xfrm.Transform {
		return s.xs.mtu
	}
	if l := h.link(s.out); l != nil {
		return h.pathMTU(s.pkt.Dst(), l.MTU)
	}
	return 0
}
