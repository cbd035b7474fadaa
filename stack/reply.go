package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// icmpKind is an error the stack itself sends.
type icmpKind uint8

const (
	icmpPortUnreach icmpKind = iota
	icmpProtoUnreach
	icmpTimeExceeded
	icmpFragNeeded
)

// replyOptions gathers what icmpgen takes from outside the packet:
// routing (source address, route type, MTU), sysctls (TTL) and the
// host's randomness (IPv4 ID, IPv6 flow label).
func (h *Host) replyOptions(s *skb) icmpgen.Options {
	v6 := s.v6()
	o := icmpgen.Options{
		TTL:           uint8(h.defaultTTL(v6)),
		ID:            uint16(h.random()),
		ChecksumValid: s.local,
		NotHost:       s.hasMAC && s.mac[0]&1 != 0,
	}
	dst := s.pkt.Dst()
	o.RouteType = h.addrType(dst, "")
	o.Local = o.RouteType == xtables.RTNLocal
	if v6 && h.sysctl("net.ipv6.auto_flowlabels") != "0" {
		o.FlowLabel = h.random() & 0xfffff
	}
	rule := icmpgen.SourceRule(v6, o.Local, s.in != "" && !o.Local,
		h.sysctl("net.ipv4.icmp_errors_use_inbound_ifaddr") == "1")
	switch rule {
	case icmpgen.SrcInboundAddr:
		o.Src = h.firstAddr(s.in, false)
	case icmpgen.SrcRoute:
		r, src, err := h.Net.Lookup(s.pkt.Src(), netip.Addr{}, "", "", 0)
		if err == nil {
			o.Src = src
			if l := h.Net.LinkByIndex(r.Dev); l != nil {
				o.MTU = l.MTU
			}
		}
	}
	return o
}

// rateAllowed consults the host's ICMP rate limiter for an error it is
// about to send to dst.
func (h *Host) rateAllowed(s *skb, reply []byte) bool {
	if h.limiter == nil {
		h.limiter = icmpgen.NewLimiter(h.random)
	}
	var p packet.Packet
	if p.Decode(reply) != nil {
		return false
	}
	m := icmpgen.Msg{V6: s.v6(), Type: p.ICMP.Type, Code: p.ICMP.Code, Dst: p.Dst(),
		InLoopback: s.in == "lo" || s.out == "lo", OutLoopback: h.isLocal(p.Dst())}
	if m.V6 {
		m.PrefixLen = 128
		if r, _, err := h.Net.Lookup(p.Dst(), netip.Addr{}, "", "", 0); err == nil {
			m.PrefixLen = r.Dst.Bits()
		}
	}
	return h.limiter.Allow(h.Now, m)
}

// sendICMPError queues the ICMP error the stack sends about s.
func (h *Host) sendICMPError(s *skb, k icmpKind) {
	o := h.replyOptions(s)
	r := h.newSkb(s.fam)
	var ok bool
	switch k {
	case icmpPortUnreach:
		r.buf, ok = icmpgen.PortUnreachable(r.buf[:0], &s.pkt, o)
	case icmpProtoUnreach:
		r.buf, ok = icmpgen.ProtoUnreachable(r.buf[:0], &s.pkt, o)
	case icmpTimeExceeded:
		r.buf, ok = icmpgen.TimeExceeded(r.buf[:0], &s.pkt, o)
	case icmpFragNeeded:
		r.buf, ok = icmpgen.TooBig(r.buf[:0], &s.pkt, h.outMTU(s), o)
	}
	if ok && !h.rateAllowed(s, r.buf) {
		ok = false
	}
	r.sock = sockCtl
	attachCt(r, s)
	h.queueReply(r, ok, "icmp error")
}

// sendICMPCode queues a destination unreachable with the given code
// (icmp_send / icmpv6_send from the routing layer).
func (h *Host) sendICMPCode(s *skb, code uint8) {
	o := h.replyOptions(s)
	r := h.newSkb(s.fam)
	typ := uint8(icmpgen.ICMPDestUnreach)
	if s.v6() {
		typ = icmpgen.ICMPv6DestUnreach
	}
	var ok bool
	r.buf, ok = icmpgen.Error(r.buf[:0], &s.pkt, typ, code, 0, o)
	if ok && !h.rateAllowed(s, r.buf) {
		ok = false
	}
	r.sock = sockCtl
	attachCt(r, s)
	h.queueReply(r, ok, "icmp error")
}

// attachCt gives an error or reset the kernel generates about s the
// connection of s (nf_ct_attach, from icmp_glue_bits and nf_send_reset):
// RELATED in the other direction, so that NAT translates the packet it
// quotes even before the connection is confirmed.
func attachCt(r, s *skb) {
	if s.ct.conn == nil {
		return
	}
	r.ct.conn, r.ct.info, r.ct.reply, r.ct.borrowed = s.ct.conn, xtables.CtRelated, !s.ct.reply, true
}

// queueReply queues a built reply for local output (or recycles it).
func (h *Host) queueReply(r *skb, ok bool, origin string) {
	if !ok || r.redecode() != nil {
		h.freeSkb(r)
		return
	}
	r.local = true
	h.enqueue(r, origin)
}

func (h *Host) outMTU(s *skb) int {
	if m := h.xfrmBundleMTU(s); m > 0 {
		return m
	}
	if l := h.link(s.out); l != nil {
		return h.pathMTU(s.pkt.Dst(), l.MTU)
	}
	return 1500
}

func (h *Host) defaultTTL(v6 bool) int {
	if v6 {
		return h.sysctlInt("net.ipv6.conf.all.hop_limit", 64)
	}
	return h.sysctlInt("net.ipv4.ip_default_ttl", 64)
}

// sendReset is tcp_v4_send_reset / tcp_v6_send_reset for a segment to a
// closed port.
func (h *Host) sendReset(s *skb) {
	r := h.newSkb(s.fam)
	var ok bool
	r.buf, ok = icmpgen.StackReset(r.buf[:0], &s.pkt, h.replyOptions(s))
	r.sock = sockCtl
	h.queueReply(r, ok, "tcp reset")
}

// sendEchoReply is icmp_echo / icmpv6_echo_reply.
func (h *Host) sendEchoReply(s *skb) {
	r := h.newSkb(s.fam)
	var ok bool
	r.buf, ok = icmpgen.EchoReply(r.buf[:0], &s.pkt, h.replyOptions(s))
	if ok && !s.v6() && !h.rateAllowed(s, r.buf) {
		ok = false
	}
	r.sock = sockCtl
	h.queueReply(r, ok, "echo reply")
}

// reject is the REJECT target: nf_send_reset / nf_send_unreach; the
// reply goes out through OUTPUT.
func (h *Host) reject(s *skb, st *xtables.PacketState, t xtables.RejectType) {
	r := h.newSkb(s.fam)
	o := h.replyOptions(s)
	var ok bool
	r.buf, ok = icmpgen.Reject(r.buf[:0], &s.pkt, t, o)
	if ok && t != xtables.RejectTCPReset && !h.rateAllowed(s, r.buf) {
		ok = false
	}
	attachCt(r, s)
	if t != xtables.RejectTCPReset {
		r.sock = sockCtl // icmp_send's socket; nf_send_reset has none
	}
	origin := "reject"
	if t == xtables.RejectTCPReset {
		origin = "reject tcp-reset"
	}
	h.queueReply(r, ok, origin)
}

// sendSynAck answers a SYN to a listening socket (tcp_v4_send_synack),
// with the options Linux offers when the SYN had them.
func (h *Host) sendSynAck(s *skb, sk *Socket, iss uint32) {
	p := &s.pkt
	var rh packet.Headers
	h.replyIP(&rh, s, packet.ProtoTCP, packet.LayerTCP)
	if !s.v6() {
		rh.IPv4.Flags = packet.IPv4DF
	}
	rh.TCP = packet.TCP{SrcPort: p.TCP.DstPort, DstPort: p.TCP.SrcPort, Seq: iss,
		Ack: p.TCP.Seq + 1, Flags: packet.TCPSyn | packet.TCPAck}
	mss := h.tcpMSS(s)
	rh.TCP.Window = uint16(tcpInitialWindow(mss, p.TCP.Opts&packet.OptTimestamp != 0))
	// tcp_options_write's order: MSS; SACK-permitted with timestamps,
	// or NOP NOP before either alone; NOP and the window scale (Linux
	// 6.x offers 10 with the default tcp_rmem).
	var opts [24]byte
	o := opts[:0]
	o = append(o, 2, 4, byte(mss>>8), byte(mss))
	sack := p.TCP.Opts&packet.OptSACKPermitted != 0
	if p.TCP.Opts&packet.OptTimestamp != 0 {
		if sack {
			o = append(o, 4, 2)
		} else {
			o = append(o, 1, 1)
		}
		ts := h.random()
		o = append(o, 8, 10, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts),
			byte(p.TCP.TSVal>>24), byte(p.TCP.TSVal>>16), byte(p.TCP.TSVal>>8), byte(p.TCP.TSVal))
	} else if sack {
		o = append(o, 1, 1, 4, 2)
	}
	if p.TCP.Opts&packet.OptWScale != 0 {
		o = append(o, 1, 3, 3, 10)
	}
	rh.TCP.Options = o
	h.queueBuilt(&rh, s.fam, "syn-ack", sockRequest, sk)
}

// replyIP fills the IP header of a reply to s: swapped addresses, the
// default TTL.
func (h *Host) replyIP(rh *packet.Headers, s *skb, proto uint8, l4 packet.Layer) {
	p := &s.pkt
	rh.Proto = proto
	if s.v6() {
		rh.Layers = packet.LayerIPv6 | l4
		rh.IPv6 = packet.IPv6{HopLimit: uint8(h.defaultTTL(true)), Src: p.Dst(), Dst: p.Src()}
		if h.sysctl("net.ipv6.auto_flowlabels") != "0" {
			// An automatic flow label: a hash of the flow with a
			// per-boot key in the kernel, random here.
			rh.IPv6.FlowLabel = h.random() & 0xfffff
		}
	} else {
		rh.Layers = packet.LayerIPv4 | l4
		rh.IPv4 = packet.IPv4{IHL: 5, TTL: uint8(h.defaultTTL(false)), Src: p.Dst(), Dst: p.Src()}
	}
}

// queueBuilt encodes a reply and queues it for local output.
func (h *Host) queueBuilt(rh *packet.Headers, fam xtables.Family, origin string, sock sockKind, owner *Socket) {
	r := h.newSkb(fam)
	r.sock = sock
	if owner != nil {
		r.uid, r.gid = owner.UID, owner.GID
	}
	var err error
	r.buf, err = rh.Append(r.buf[:0], packet.FixLengths|packet.FixChecksums)
	h.queueReply(r, err == nil, origin)
}

// fragmentOut is ip_fragment / ip6_fragment on output.
func (h *Host) fragmentOut(s *skb, l *host.Link, mtu int) Result {
	var frags [][]byte
	var err error
	switch {
	case s.fragMax > 0 && s.v6(), s.v6() && s.local:
		// A reassembled datagram leaves in fragments again; a local
		// IPv6 packet is fragmented at its source (ip6_fragment, with an
		// identification from ipv6_select_ident's keyed hash: random here).
		_, frags, err = packet.FragmentIPv6(nil, frags, s.buf, mtu, h.random())
	case s.fragMax > 0:
		_, frags, err = packet.FragmentIPv4(nil, frags, s.buf, mtu)
	case s.v6() || s.pkt.IPv4.Flags&packet.IPv4DF != 0:
		if !s.local {
			h.sendICMPError(s, icmpFragNeeded)
		}
		return dropped("packet too big")
	default:
		_, frags, err = packet.FragmentIPv4(nil, frags, s.buf, mtu)
	}
	if err != nil {
		return dropped("cannot fragment")
	}
	for _, f := range frags {
		if !h.emit(s, l, f) {
			return Result{Fate: FateDropped, Dev: l.Name, Reason: "neighbour unresolved"}
		}
	}
	return Result{Fate: FateSent, Dev: l.Name}
}

// tcpMSS is the MSS the host advertises on the device a segment came in
// by: its MTU less the IP and TCP headers.
func (h *Host) tcpMSS(s *skb) int {
	mtu := 1500
	if l := h.link(s.in); l != nil {
		mtu = l.MTU
	}
	if s.v6() {
		return mtu - 60
	}
	return mtu - 40
}

// tcpInitialWindow is tcp_select_initial_window's result here: 64 KiB
// rounded down to whole segments, which carry 12 bytes of timestamp
// option each when timestamps are on (measured: 65160 = 45 × 1448).
func tcpInitialWindow(mss int, ts bool) uint32 {
	if ts {
		mss -= 12
	}
	return uint32(65535 / mss * mss)
}
