package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Receive hands the host a frame (from its Ethernet header) arriving on
// dev, runs it and everything it causes, and returns its fate. An error
// means the frame could not be taken at all (unknown device, not IP).
func (h *Host) Receive(dev string, frame []byte) (Result, error) {
	l := h.link(dev)
	if l == nil {
		return Result{}, fmt.Errorf("no device %q", dev)
	}
	if len(frame) < 14 {
		return Result{}, errPacket{errors.New("frame shorter than an Ethernet header")}
	}
	var fam xtables.Family
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case packet.EtherTypeIPv4:
		fam = xtables.IPv4
	case packet.EtherTypeIPv6:
		fam = xtables.IPv6
	default:
		return Result{}, errPacket{fmt.Errorf("ethertype 0x%04x is not IP", binary.BigEndian.Uint16(frame[12:14]))}
	}
	h.expireFragments()
	s := h.newSkb(fam)
	s.in = dev
	copy(s.mac[:], frame[:14])
	s.hasMAC = true
	if err := s.setBytes(frame[14:]); err != nil && !s.ipDecoded() {
		// ip_rcv_core refuses a bad IP header; a bad transport header
		// is left for the hooks and the protocols to see.
		h.freeSkb(s)
		return Result{}, errPacket{err}
	}
	res := h.receive(s)
	h.release(s)
	h.release(s)
	h.freeSkb(s)
	h.drain()
	return res, nil
}

// Send hands the host an IP packet that a local socket sends (a raw
// socket: the header is as given). sock is the sending socket's owner
// (nil: none, as for a packet the kernel makes itself).
func (h *Host) Send(ip []byte, sock *Socket) (Result, error) {
	if len(ip) == 0 {
		return Result{}, errPacket{errors.New("empty packet")}
	}
	fam := xtables.IPv4
	if ip[0]>>4 == 6 {
		fam = xtables.IPv6
	}
	h.expireFragments()
	s := h.newSkb(fam)
	s.local = true
	if sock != nil {
		s.sock, s.uid, s.gid = sockFull, sock.UID, sock.GID
		s.xs.bypass = sock.XfrmBypass
	}
	if err := s.setBytes(ip); err != nil && !s.ipDecoded() {
		// ip_rcv_core refuses a bad IP header; a bad transport header
		// is left for the hooks and the protocols to see.
		h.freeSkb(s)
		return Result{}, errPacket{err}
	}
	if fam == xtables.IPv4 && s.pkt.IPv4.ID == 0 && len(s.buf) >= 20 {
		// raw_send_hdrinc: an IPv4 header with ID 0 gets one chosen by
		// the kernel (ip_select_ident), and its checksum again.
		id := uint16(h.random())
		binary.BigEndian.PutUint16(s.buf[4:], id)
		s.buf[10], s.buf[11] = 0, 0
		hl := int(s.buf[0]&0xf) * 4
		binary.BigEndian.PutUint16(s.buf[10:], packet.Checksum(s.buf[:min(hl, len(s.buf))], 0))
		s.redecode()
	}
	res := h.output(s)
	switch {
	case res.Fate == FateDropped && res.Decision.Chain != nil,
		res.Fate == FateDropped && (res.Hook == xtables.HookOutput || res.Hook == xtables.HookPostrouting) && res.Table != "":
		// ip_local_out's NF_DROP comes back to sendmsg as -EPERM.
		res.SendErr = "operation not permitted"
	case res.Fate == FateDropped && res.routeErr != nil:
		res.SendErr = sendErrno(res.routeErr)
	}
	if s.xs.sendErr != "" && res.Fate == FateDropped {
		res.SendErr = s.xs.sendErr // xfrm's errno (EREMOTE, EPERM, EMSGSIZE)
	}
	h.release(s)
	h.freeSkb(s)
	h.drain()
	return res, nil
}

// drain handles the packets generated meanwhile, in order.
func (h *Host) drain() {
	// Packets handled here may queue more; the queue is read by index
	// and reset at the end so that its array is reused.
	for i := 0; i < len(h.queue); i++ {
		s := h.queue[i]
		h.queue[i] = nil
		if h.Obs != nil {
			h.Obs.Begin(s.origin, s.in, &s.pkt)
		}
		var res Result
		if s.in != "" {
			res = h.receive(s)
		} else {
			res = h.output(s)
		}
		if h.Obs != nil {
			h.Obs.End(res)
		}
		h.release(s)
		h.freeSkb(s)
	}
	h.queue = h.queue[:0]
}

// sendNow sends a packet the host generated at once, while the packet
// that caused it waits (icmp_send from ip_forward: a redirect leaves
// before the packet it is about, and sees its connection as it is then).
func (h *Host) sendNow(r *skb, origin string) {
	r.origin = origin
	if h.Obs != nil {
		h.Obs.Begin(origin, "", &r.pkt)
	}
	res := h.output(r)
	if h.Obs != nil {
		h.Obs.End(res)
	}
	h.release(r)
	h.freeSkb(r)
}

// enqueue schedules a packet the host generated (or looped back).
func (h *Host) enqueue(s *skb, origin string) {
	s.origin = origin
	h.queue = append(h.queue, s)
}

func dropped(reason string) Result { return Result{Fate: FateDropped, Reason: reason} }

func hookResult(v verdict, hook int) Result {
	r := Result{Table: v.table, Hook: hook, Decision: v.decision, Reason: v.reason}
	switch v.code {
	case xtables.VerdictCodeStolen:
		r.Fate = FateStolen
	default:
		r.Fate = FateDropped
	}
	return r
}

// receive is ip_rcv / ipv6_rcv and what follows.
func (h *Host) receive(s *skb) Result {
	l := h.link(s.in)
	if l == nil || !l.Up {
		return dropped("device down")
	}
	// pkt_type: a frame for another station is dropped by ip_rcv.
	if s.hasMAC && !h.macForUs(l, s.mac[:6]) {
		return dropped("frame for another host (PACKET_OTHERHOST)")
	}
	if s.v6() && h.conf[s.in].disableIPv6 {
		return dropped("IPv6 disabled on " + s.in)
	}
	if s.fam == xtables.IPv4 {
		if ok, _ := s.pkt.ChecksumsOK(); !ok {
			return dropped("bad IPv4 header checksum")
		}
	}
	if v := h.hook(s, xtables.HookPrerouting); v.code != xtables.VerdictCodeAccept {
		return hookResult(v, xtables.HookPrerouting)
	}
	return h.routeInput(s)
}

// macForUs: the frame is for this interface, a broadcast or a multicast.
func (h *Host) macForUs(l *host.Link, dst []byte) bool {
	if dst[0]&1 != 0 {
		return true
	}
	mac, ok := parseMAC(l.MAC)
	return !ok || [6]byte(dst) == mac
}

// routeInput is ip_route_input / ip6_route_input: local delivery or
// forwarding.
func (h *Host) routeInput(s *skb) Result {
	dst := s.pkt.Dst()
	if dst.IsMulticast() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		// Multicast, and the limited broadcast, which
		// ip_route_input_slow takes to brd_input before any look-up.
		return h.localIn(s)
	}
	r, _, err := h.Net.Lookup(dst, s.pkt.Src(), s.in, "", s.mark)
	if h.Obs != nil {
		h.Obs.Route(s.pkt.Dst(), r, err)
	}
	if err != nil {
		return h.noRoute(s, err)
	}
	switch r.Type {
	case host.RTLocal, host.RTBroadcast:
		return h.localIn(s)
	}
	if !h.forwarding(s) {
		// ip_route_input_slow: forwarding disabled on the input device
		// gives -EHOSTUNREACH, and ip_error drops it silently.
		return dropped("forwarding disabled")
	}
	return h.forward(s, r)
}

// noRoute is ip_error / ip6_pkt_drop for a packet that arrived and has
// no route: with forwarding on (IPv4) or always (IPv6, whose null route
// answers) an ICMP destination unreachable, whose code says why.
func (h *Host) noRoute(s *skb, err error) Result {
	res := dropped("no route: " + err.Error())
	if errors.Is(err, host.ErrInval) { // blackhole
		return res
	}
	if !s.v6() && !h.forwarding(s) {
		return res
	}
	code := uint8(0) // net unreachable / no route
	switch {
	case errors.Is(err, host.ErrHostUnreach):
		code = 1 // ICMP_HOST_UNREACH / ICMPV6_ADM_PROHIBITED is for prohibit
		if s.v6() {
			code = 3 // ICMPV6_ADDR_UNREACH
		}
	case errors.Is(err, host.ErrPerm):
		code = 13 // ICMP_PKT_FILTERED
		if s.v6() {
			code = 1 // ICMPV6_ADM_PROHIBITED
		}
	}
	h.sendICMPCode(s, code)
	return res
}

func (h *Host) forwarding(s *skb) bool {
	if s.v6() {
		return h.fwd6
	}
	return h.conf[s.in].forwarding
}

// forward is ip_forward / ip6_forward.
func (h *Host) forward(s *skb, r *host.Route) Result {
	out := h.Net.LinkByIndex(r.Dev)
	if out == nil {
		return dropped("route without device")
	}
	if res, ok := h.xfrmPolicyFwd(s, out); !ok {
		return res
	}
	if s.v6() {
		if s.pkt.IPv6.HopLimit <= 1 {
			h.sendICMPError(s, icmpTimeExceeded)
			return dropped("hop limit exceeded")
		}
	} else if s.pkt.IPv4.TTL <= 1 {
		h.sendICMPError(s, icmpTimeExceeded)
		return dropped("TTL exceeded")
	}
	s.out = out.Name
	s.nexthop = nexthop(r, s.pkt.Dst())
	if res, ok := h.xfrmRouteForward(s, &out); !ok {
		return res
	}
	if s.v6() && s.in == out.Name && !s.decap {
		h.redirect6(s, out, r)
	}
	if h.exceedsMTU(s, h.forwardMTU(s, out)) {
		h.sendICMPError(s, icmpFragNeeded)
		return dropped("packet too big")
	}
	s.nexthop = nexthop(r, s.pkt.Dst())
	if s.v6() {
		s.pkt.SetTTL(s.pkt.IPv6.HopLimit - 1)
	} else {
		s.pkt.SetTTL(s.pkt.IPv4.TTL - 1)
		if s.in == out.Name && !s.decap {
			h.redirect4(s, out, r)
		}
	}
	if v := h.hook(s, xtables.HookForward); v.code != xtables.VerdictCodeAccept {
		return hookResult(v, xtables.HookForward)
	}
	res := h.postRouting(s)
	if res.Fate == FateSent {
		res.Fate = FateForwarded
	}
	return res
}

// exceedsMTU is ip_exceeds_mtu / ip6_pkt_too_big: too big for the
// output link and not to be fragmented (IPv4 with DF, IPv6 always); a
// reassembled datagram counts by its largest fragment, since it leaves
// in fragments again (ignore_df).
func (h *Host) exceedsMTU(s *skb, mtu int) bool {
	if len(s.buf) <= mtu || !s.v6() && s.pkt.IPv4.Flags&packet.IPv4DF == 0 {
		return false
	}
	if s.fragMax > 0 {
		return s.fragMax > mtu
	}
	return true
}

func nexthop(r *host.Route, dst netip.Addr) netip.Addr {
	if r.Gw.IsValid() {
		return r.Gw
	}
	return dst
}

// localIn is ip_local_deliver: the IP layer's reassembly, INPUT, then the
// protocol.
func (h *Host) localIn(s *skb) Result {
	if !s.v6() {
		if v, ok := h.localReassemble(s); !ok {
			return hookResult(v, -1)
		}
	}
	if v := h.hook(s, xtables.HookInput); v.code != xtables.VerdictCodeAccept {
		return hookResult(v, xtables.HookInput)
	}
	if s.v6() {
		if v, ok := h.localReassemble(s); !ok {
			return hookResult(v, -1)
		}
	}
	return h.deliver(s)
}

// output is __ip_local_out for a locally generated packet: route, OUTPUT,
// re-route, POSTROUTING.
func (h *Host) output(s *skb) Result {
	r, _, err := h.Net.Lookup(s.pkt.Dst(), s.pkt.Src(), "", s.out, s.mark)
	if h.Obs != nil {
		h.Obs.Route(s.pkt.Dst(), r, err)
	}
	if err != nil {
		res := dropped("no route: " + err.Error())
		res.routeErr = err
		return res
	}
	h.setOutRoute(s, r)
	if res, ok := h.xfrmRouteOutput(s); !ok {
		return res
	}
	dst, mark := s.pkt.Dst(), s.mark
	if v := h.hook(s, xtables.HookOutput); v.code != xtables.VerdictCodeAccept {
		return hookResult(v, xtables.HookOutput)
	}
	if s.pkt.Dst() != dst || s.mark != mark {
		// ip_route_me_harder: the destination or mark changed in OUTPUT.
		r, _, err = h.Net.Lookup(s.pkt.Dst(), s.pkt.Src(), "", "", s.mark)
		if h.Obs != nil {
			h.Obs.Route(s.pkt.Dst(), r, err)
		}
		if err != nil {
			return dropped("no route after re-routing: " + err.Error())
		}
		h.setOutRoute(s, r)
		if res, ok := h.xfrmRerouted(s); !ok {
			return res
		}
	}
	return h.dstOutput(s)
}

func (h *Host) setOutRoute(s *skb, r *host.Route) {
	if r.Type == host.RTLocal {
		s.out = "lo"
	} else if l := h.Net.LinkByIndex(r.Dev); l != nil {
		s.out = l.Name
	}
	s.nexthop = nexthop(r, s.pkt.Dst())
}

// postRouting is ip_output: POSTROUTING, then fragmentation and the
// neighbour layer.
func (h *Host) postRouting(s *skb) Result {
	if v := h.hook(s, xtables.HookPostrouting); v.code != xtables.VerdictCodeAccept {
		return hookResult(v, xtables.HookPostrouting)
	}
	if res, done := h.xfrmOutput(s); done {
		return res
	}
	return h.transmit(s)
}

// transmit sends the packet out of s.out: over lo back into this host,
// or as Ethernet frames (fragmented to the MTU where allowed).
func (h *Host) transmit(s *skb) Result {
	l := h.link(s.out)
	if l == nil || !l.Up {
		return dropped("device " + s.out + " down")
	}
	if l.Kind == host.Loopback {
		c := h.newSkb(s.fam)
		c.in = "lo"
		// lo's link-layer header: zero addresses and the ethertype, as
		// LOG prints it (MAC=00:...:08:00).
		c.mac = [14]byte{12: 0x08}
		if s.v6() {
			c.mac[12], c.mac[13] = 0x86, 0xdd
		}
		c.hasMAC = true
		c.mark = s.mark
		c.ct = s.ct
		c.trace = s.trace // loopback_xmit keeps nf_trace
		if err := c.setBytes(s.buf); err != nil {
			h.freeSkb(c)
			return dropped("undecodable looped packet")
		}
		h.enqueue(c, "loopback")
		return Result{Fate: FateSent, Dev: "lo"}
	}
	mtu := h.pathMTU(s.pkt.Dst(), l.MTU)
	if s.fragMax > 0 && s.fragMax < mtu {
		// A reassembled datagram leaves in fragments no larger than
		// those it came in (IPCB(skb)->frag_max_size).
		mtu = s.fragMax
	}
	if len(s.buf) > mtu {
		return h.fragmentOut(s, l, mtu)
	}
	if !h.emit(s, l, s.buf) {
		return Result{Fate: FateDropped, Dev: l.Name, Reason: "neighbour unresolved"}
	}
	return Result{Fate: FateSent, Dev: l.Name}
}

// emit frames one IP packet for the link and hands it to Emit; false
// when the next hop's MAC address is unknown.
func (h *Host) emit(s *skb, l *host.Link, ip []byte) bool {
	buf := h.txbuf[:0]
	dmac := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if !s.nexthop.IsMulticast() && !h.isBroadcast(s.nexthop) {
		var ok bool
		if dmac, ok = h.resolve(l.Name, s.nexthop); !ok {
			if h.Obs != nil {
				h.Obs.Unresolved(l.Name, s.nexthop)
			}
			return false
		}
	} else if s.nexthop.IsMulticast() {
		dmac = multicastMAC(s.nexthop)
	}
	smac, _ := parseMAC(l.MAC)
	buf = append(buf, dmac[:]...)
	buf = append(buf, smac[:]...)
	et := uint16(packet.EtherTypeIPv4)
	if s.v6() {
		et = packet.EtherTypeIPv6
	}
	buf = binary.BigEndian.AppendUint16(buf, et)
	buf = append(buf, ip...)
	h.txbuf = buf
	if h.Obs != nil {
		h.Obs.Emit(l.Name, buf)
	}
	if h.Emit != nil {
		h.Emit(l.Name, buf)
	}
	return true
}

func (h *Host) isBroadcast(a netip.Addr) bool {
	return a.Is4() && h.addrType(a, "") == 3 // RTN_BROADCAST
}

// multicastMAC maps a multicast group to its Ethernet address (RFC 1112,
// RFC 2464).
func multicastMAC(a netip.Addr) [6]byte {
	b := a.As16()
	if a.Is4() {
		return [6]byte{0x01, 0x00, 0x5e, b[13] & 0x7f, b[14], b[15]}
	}
	return [6]byte{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

// parseMAC parses "aa:bb:cc:dd:ee:ff".
func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	if len(s) != 17 {
		return m, false
	}
	for i := 0; i < 6; i++ {
		hi, ok1 := unhex(s[i*3])
		lo, ok2 := unhex(s[i*3+1])
		if !ok1 || !ok2 || i < 5 && s[i*3+2] != ':' {
			return m, false
		}
		m[i] = hi<<4 | lo
	}
	return m, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// sendErrno is the error a local sender gets for a route look-up that
// failed (fib_props: unreachable routes give EHOSTUNREACH, prohibit
// EACCES, blackhole EINVAL; no route at all ENETUNREACH), in strerror's
// words as Go prints them.
func sendErrno(err error) string {
	switch {
	case errors.Is(err, host.ErrHostUnreach):
		return "no route to host"
	case errors.Is(err, host.ErrPerm):
		return "permission denied"
	case errors.Is(err, host.ErrInval):
		return "invalid argument"
	}
	return "network is unreachable"
}
