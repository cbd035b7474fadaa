package sim

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The neighbour layer (ARP for IPv4, NDP for IPv6) as a Linux host runs
// it with the default sysctls, kept simple:
//
//   - A packet to a next hop with no entry is queued (up to
//     unres_qlen_bytes, 212992 bytes, oldest dropped first) and a
//     broadcast ARP request or a multicast neighbour solicitation goes
//     out at once, then again every retrans_time (1 s): mcast_solicit = 3
//     probes in all (__neigh_event_send, neigh_timer_handler).
//   - The answer resolves the entry and the queue leaves, in order.
//   - Without an answer, 3 s after the first probe, the entry fails and
//     every queued packet is answered with an ICMP host unreachable
//     (IPv6: address unreachable) from the host itself, as
//     arp_error_report / ndisc_error_report do; a later packet starts
//     again.
//   - A request for one of the host's addresses creates an entry for
//     its sender (arp_process, ndisc_recv_ns); arp_ignore 0 answers for
//     any local address, 1 and more only for those of the receiving
//     interface.
//   - Entries, once resolved, stay (no aging, probes or gratuitous ARP).
//
// ARP never meets iptables (arptables is another table family), so ARP
// frames go to the wire directly. Neighbour solicitations and
// advertisements are ICMPv6: the receiving host runs them through
// PREROUTING and INPUT like any packet (an INPUT policy of DROP without
// an ICMPv6 rule breaks IPv6 as it does on Linux), and acts on them only
// when they are delivered. The sender's OUTPUT and POSTROUTING are not
// run for them here (the stack has no way yet to send a packet on a
// chosen interface).

const (
	neighRetrans     = int64(time.Second)
	neighProbes      = 3
	neighUnresQBytes = 212992
)

type neighState uint8

const (
	neighIncomplete neighState = iota + 1
	neighReachable
	neighFailed
)

type neighKey struct {
	ifc  *iface
	addr netip.Addr
}

type neighEntry struct {
	key    neighKey
	state  neighState
	mac    [6]byte
	id     uint32
	queue  [][]byte
	qbytes int
	probes int
	tm     *timer
}

// The MAC address a host's Neigh callback gives for an unresolved next
// hop: a multicast address no interface has (topology MACs are unicast),
// holding the entry's id, so that the frame the host then emits is
// recognised and queued.
func sentinelMAC(id uint32) [6]byte {
	return [6]byte{0x07, 0x6e, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

func sentinelID(m []byte) (uint32, bool) {
	if m[0] != 0x07 || m[1] != 0x6e {
		return 0, false
	}
	return binary.BigEndian.Uint32(m[2:6]), true
}

// neighLookup is a host's Neigh callback.
func (n *Network) neighLookup(sh *simHost, dev string, addr netip.Addr) ([6]byte, bool) {
	ifc := sh.ifBy[dev]
	if ifc == nil {
		return [6]byte{}, false
	}
	k := neighKey{ifc, addr}
	e := sh.neigh[k]
	if e != nil && e.state == neighReachable {
		return e.mac, true
	}
	if e == nil {
		n.nextNeighID++
		e = &neighEntry{key: k, id: n.nextNeighID}
		sh.neigh[k] = e
		n.neighByID[e.id] = e
	}
	if e.state != neighIncomplete {
		e.state, e.probes = neighIncomplete, 0
	}
	return sentinelMAC(e.id), true
}

// neighQueue keeps a frame for an unresolved neighbour and starts the
// resolution with the first one.
func (n *Network) neighQueue(ifc *iface, id uint32, frame []byte) {
	e := n.neighByID[id]
	if e == nil || e.key.ifc != ifc {
		return
	}
	if e.state == neighReachable {
		f := append([]byte(nil), frame...)
		copy(f[0:6], e.mac[:])
		n.wire(ifc, f)
		return
	}
	e.queue = append(e.queue, append([]byte(nil), frame...))
	e.qbytes += len(frame)
	for e.qbytes > neighUnresQBytes && len(e.queue) > 1 {
		e.qbytes -= len(e.queue[0])
		e.queue = e.queue[1:]
	}
	if e.probes == 0 {
		n.resolving++
		e.tm = &timer{}
		n.solicit(e, frame)
	}
}

// solicit sends one probe and schedules the next (or the failure).
func (n *Network) solicit(e *neighEntry, frame []byte) {
	e.probes++
	ifc := e.key.ifc
	if e.key.addr.Is4() {
		m := arpMsg{op: arpRequest, sha: ifc.mac, spa: arpSource(ifc, e.key.addr, frame), tpa: e.key.addr}
		n.wire(ifc, appendARPFrame(nil, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ifc.mac, &m))
	} else {
		src := nsSource(ifc, frame)
		if ns, ok := buildNS(ifc.mac, src, e.key.addr); ok {
			n.wire(ifc, ns)
		}
	}
	tm := e.tm
	n.after(neighRetrans, tm, func() {
		if e.state != neighIncomplete || e.tm != tm {
			return
		}
		if e.probes < neighProbes {
			var first []byte
			if len(e.queue) > 0 {
				first = e.queue[0]
			}
			n.solicit(e, first)
			return
		}
		n.neighFail(e)
	})
}

// neighFail: nobody answered; the queued packets are lost, each reported
// to its sender.
func (n *Network) neighFail(e *neighEntry) {
	e.state = neighFailed
	e.tm.dead = true
	n.resolving--
	q := e.queue
	e.queue, e.qbytes, e.probes = nil, 0, 0
	sh := e.key.ifc.host
	for _, f := range q {
		n.linkFailure(sh, f[14:])
	}
}

// neighResolved: an answer came; the queue leaves.
func (n *Network) neighResolved(sh *simHost, ifc *iface, addr netip.Addr, mac [6]byte, create bool) {
	k := neighKey{ifc, addr}
	e := sh.neigh[k]
	if e == nil {
		if !create {
			return
		}
		n.nextNeighID++
		e = &neighEntry{key: k, id: n.nextNeighID}
		sh.neigh[k] = e
		n.neighByID[e.id] = e
	}
	wasPending := e.state == neighIncomplete && e.probes > 0
	e.state, e.mac = neighReachable, mac
	if wasPending {
		e.tm.dead = true
		n.resolving--
	}
	q := e.queue
	e.queue, e.qbytes, e.probes = nil, 0, 0
	for _, f := range q {
		copy(f[0:6], mac[:])
		n.wire(ifc, f)
	}
}

// arpSource is arp_solicit's sender address (arp_announce 0): the queued
// packet's source when it is one of the host's addresses, else the
// interface's address on the target's subnet, else its first one.
func arpSource(ifc *iface, target netip.Addr, frame []byte) netip.Addr {
	sh := ifc.host
	if len(frame) >= 14+20 && frame[14]>>4 == 4 {
		src := netip.AddrFrom4([4]byte(frame[14+12 : 14+16]))
		if sh.h.AddrType(src) == xtables.RTNLocal {
			return src
		}
	}
	return ifaceAddr4(sh, ifc.name, target)
}

func ifaceAddr4(sh *simHost, dev string, target netip.Addr) netip.Addr {
	l := sh.h.Net.LinkByName(dev)
	var first netip.Addr
	for _, a := range sh.h.Net.Addrs {
		if l == nil || a.Dev != l.Index || !a.Prefix.Addr().Is4() || sh.h.Net.Secondary(a) {
			continue
		}
		if a.Prefix.Contains(target) {
			return a.Prefix.Addr()
		}
		if !first.IsValid() {
			first = a.Prefix.Addr()
		}
	}
	if first.IsValid() {
		return first
	}
	for _, a := range sh.h.Net.Addrs {
		if a.Prefix.Addr().Is4() && !a.Prefix.Addr().IsLoopback() {
			return a.Prefix.Addr()
		}
	}
	return netip.IPv4Unspecified()
}

// arpInput is arp_process for a frame arriving on ifc.
func (n *Network) arpInput(ifc *iface, frame []byte) {
	sh := ifc.host
	if l := sh.h.Net.LinkByName(ifc.name); l == nil || !l.Up {
		return
	}
	m, ok := parseARP(frame[14:])
	if !ok || m.spa.IsMulticast() || m.tpa.IsMulticast() {
		return
	}
	switch m.op {
	case arpRequest:
		if !n.arpAnswers(sh, ifc, m.tpa) {
			// Not for us: a reply or request from a known neighbour
			// refreshes its entry, nothing is created.
			n.neighResolved(sh, ifc, m.spa, m.sha, false)
			return
		}
		if !m.spa.IsUnspecified() {
			n.neighResolved(sh, ifc, m.spa, m.sha, true)
		}
		r := arpMsg{op: arpReply, sha: ifc.mac, spa: m.tpa, tha: m.sha, tpa: m.spa}
		n.wire(ifc, appendARPFrame(nil, m.sha, ifc.mac, &r))
	case arpReply:
		n.neighResolved(sh, ifc, m.spa, m.sha, false)
	}
}

// arpAnswers: the host answers a request for target on ifc.
func (n *Network) arpAnswers(sh *simHost, ifc *iface, target netip.Addr) bool {
	if sh.h.AddrType(target) != xtables.RTNLocal || target.IsLoopback() {
		return false
	}
	ignore := sh.h.Net.Sysctl["net.ipv4.conf.all.arp_ignore"]
	if v := sh.h.Net.Sysctl["net.ipv4.conf."+ifc.name+".arp_ignore"]; v > ignore {
		ignore = v
	}
	if ignore == "" || ignore == "0" {
		return true
	}
	l := sh.h.Net.LinkByName(ifc.name)
	for _, a := range sh.h.Net.Addrs {
		if l != nil && a.Dev == l.Index && a.Prefix.Addr() == target {
			return true
		}
	}
	return false
}

// nsSource is ndisc_solicit's source: the queued packet's source when it
// is an address of the interface, else the interface's link-local
// address, else any of its addresses.
func nsSource(ifc *iface, frame []byte) netip.Addr {
	sh := ifc.host
	l := sh.h.Net.LinkByName(ifc.name)
	if l == nil {
		return netip.Addr{}
	}
	var src netip.Addr
	if len(frame) >= 14+40 && frame[14]>>4 == 6 {
		src = netip.AddrFrom16([16]byte(frame[14+8 : 14+24]))
	}
	var ll, any netip.Addr
	for _, a := range sh.h.Net.Addrs {
		if a.Dev != l.Index || !a.Prefix.Addr().Is6() {
			continue
		}
		if a.Prefix.Addr() == src {
			return src
		}
		if a.Prefix.Addr().IsLinkLocalUnicast() && !ll.IsValid() {
			ll = a.Prefix.Addr()
		}
		if !any.IsValid() {
			any = a.Prefix.Addr()
		}
	}
	if ll.IsValid() {
		return ll
	}
	return any
}

// solicitedNode is the solicited-node multicast group of an address
// (RFC 4291 2.7.1).
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// buildNS is a neighbour solicitation frame (RFC 4861 4.3) with the
// source link-layer address option.
func buildNS(mac [6]byte, src, target netip.Addr) ([]byte, bool) {
	if !src.IsValid() {
		return nil, false
	}
	dst := solicitedNode(target)
	payload := make([]byte, 0, 24)
	t := target.As16()
	payload = append(payload, t[:]...)
	if !src.IsUnspecified() {
		payload = append(payload, 1, 1)
		payload = append(payload, mac[:]...)
	}
	return ndFrame(mac, multicastMAC(dst), src, dst, 135, 0, payload)
}

// buildNA is a neighbour advertisement frame (RFC 4861 4.4) with the
// target link-layer address option.
func buildNA(mac, dmac [6]byte, src, dst, target netip.Addr, router, solicited bool) ([]byte, bool) {
	var flags uint32 = 1 << 29 // override
	if router {
		flags |= 1 << 31
	}
	if solicited {
		flags |= 1 << 30
	}
	t := target.As16()
	payload := append(t[:], 2, 1)
	payload = append(payload, mac[:]...)
	return ndFrame(mac, dmac, src, dst, 136, flags, payload)
}

func ndFrame(smac, dmac [6]byte, src, dst netip.Addr, typ uint8, rest uint32, payload []byte) ([]byte, bool) {
	var h packet.Headers
	h.Layers = packet.LayerIPv6 | packet.LayerICMPv6
	h.Proto = packet.ProtoICMPv6
	h.IPv6 = packet.IPv6{HopLimit: 255, Src: src, Dst: dst}
	h.ICMP = packet.ICMP{Type: typ, Rest: rest}
	h.Payload = payload
	f := make([]byte, 14, 14+40+8+len(payload))
	copy(f[0:6], dmac[:])
	copy(f[6:12], smac[:])
	binary.BigEndian.PutUint16(f[12:], packet.EtherTypeIPv6)
	f, err := h.Append(f, packet.FixAll)
	return f, err == nil
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

// ndInput acts on a neighbour solicitation or advertisement delivered to
// the host (after its INPUT chain).
func (n *Network) ndInput(sh *simHost, in string, p *packet.Packet) {
	ifc := sh.ifBy[in]
	if ifc == nil || len(p.Payload) < 16 || p.IPv6.HopLimit != 255 || p.ICMP.Code != 0 {
		return
	}
	target := netip.AddrFrom16([16]byte(p.Payload[:16]))
	opt, hasOpt := ndOption(p.Payload[16:], map[uint8]uint8{135: 1, 136: 2}[p.ICMP.Type])
	switch p.ICMP.Type {
	case 135: // ndisc_recv_ns
		l := sh.h.Net.LinkByName(in)
		mine := false
		for _, a := range sh.h.Net.Addrs {
			if l != nil && a.Dev == l.Index && a.Prefix.Addr() == target {
				mine = true
				break
			}
		}
		if !mine {
			return
		}
		src := p.IPv6.Src
		dst, dmac := src, opt
		solicited := true
		if src.IsUnspecified() {
			dst = netip.MustParseAddr("ff02::1")
			dmac, solicited = multicastMAC(dst), false
		} else {
			if !hasOpt {
				return
			}
			n.neighResolved(sh, ifc, src, opt, true)
		}
		router := sh.h.Net.Sysctl["net.ipv6.conf."+in+".forwarding"] == "1"
		if na, ok := buildNA(ifc.mac, dmac, target, dst, target, router, solicited); ok {
			n.wire(ifc, na)
		}
	case 136: // ndisc_recv_na
		if hasOpt {
			n.neighResolved(sh, ifc, target, opt, false)
		}
	}
}

// ndOption finds a link-layer address option of the given type.
func ndOption(b []byte, typ uint8) ([6]byte, bool) {
	for len(b) >= 8 {
		l := int(b[1]) * 8
		if l == 0 || l > len(b) {
			break
		}
		if b[0] == typ && l >= 8 {
			return [6]byte(b[2:8]), true
		}
		b = b[l:]
	}
	return [6]byte{}, false
}

// linkFailure answers a packet lost for want of a neighbour with an ICMP
// host unreachable to its source, sent by the host (ipv4_link_failure,
// ndisc_error_report), so that ping prints "Destination Host
// Unreachable".
func (n *Network) linkFailure(sh *simHost, ip []byte) {
	var p packet.Packet
	if err := p.Decode(ip); err != nil && p.Layers&(packet.LayerIPv4|packet.LayerIPv6) == 0 {
		return
	}
	v6 := p.IsIPv6()
	o := icmpgen.Options{ChecksumValid: true, ID: sh.rnd.u16()}
	if r, src, err := sh.h.Net.Lookup(p.Src(), netip.Addr{}, "", "", 0); err == nil {
		o.Src = src
		if r.Type == host.RTLocal {
			o.Src = p.Src()
		}
		if l := sh.h.Net.LinkByIndex(r.Dev); l != nil {
			o.MTU = l.MTU
		}
	}
	o.TTL = sh.defaultTTL(p.Src(), "")
	typ, code := uint8(icmpgen.ICMPDestUnreach), uint8(icmpgen.ICMPHostUnreach)
	if v6 {
		typ, code = icmpgen.ICMPv6DestUnreach, icmpgen.ICMPv6AddrUnreach
	}
	msg, ok := icmpgen.Error(nil, &p, typ, code, 0, o)
	if !ok {
		return
	}
	sh.h.Now = n.now
	sh.h.Send(msg, nil)
}

func atoi(s string) (int, bool) {
	v := 0
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
