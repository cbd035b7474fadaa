package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/host"
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
	icmpHostUnreach
)

// errorSource is the source address of an ICMP error about s: the
// original destination when it is ours (icmp_send with RTCF_LOCAL,
// icmp6_send with ipv6_chk_addr), otherwise the address routing picks
// towards the original source.
func (h *Host) errorSource(s *skb) netip.Addr {
	if d := s.pkt.Dst(); h.isLocal(d) {
		return d
	}
	_, src, err := h.Net.Lookup(s.pkt.Src(), netip.Addr{}, "", "", 0)
	if err != nil {
		return netip.Addr{}
	}
	return src
}

// sendICMPError queues the ICMP error the stack sends about s.
func (h *Host) sendICMPError(s *skb, k icmpKind) {
	e := packet.ICMPError{Src: h.errorSource(s), TTL: uint8(h.defaultTTL(s.v6()))}
	if !e.Src.IsValid() {
		return
	}
	if s.v6() {
		switch k {
		case icmpPortUnreach:
			e.Type, e.Code = 1, 4
		case icmpProtoUnreach:
			e.Type, e.Code, e.Rest = 4, 1, 6 // pointer to the next header field
		case icmpTimeExceeded:
			e.Type, e.Code = 3, 0
		case icmpFragNeeded:
			e.Type, e.Rest = 2, uint32(h.outMTU(s))
		case icmpHostUnreach:
			e.Type, e.Code = 1, 3
		}
	} else {
		switch k {
		case icmpPortUnreach:
			e.Type, e.Code = 3, 3
		case icmpProtoUnreach:
			e.Type, e.Code = 3, 2
		case icmpTimeExceeded:
			e.Type, e.Code = 11, 0
		case icmpFragNeeded:
			e.Type, e.Code, e.Rest = 3, 4, uint32(h.outMTU(s))
		case icmpHostUnreach:
			e.Type, e.Code = 3, 1
		}
	}
	r := h.newSkb(s.fam)
	var err error
	r.buf, err = packet.AppendICMPError(r.buf[:0], s.buf, e)
	if err != nil || r.redecode() != nil {
		h.freeSkb(r)
		return
	}
	r.local = true
	h.enqueue(r, "icmp error")
}

func (h *Host) outMTU(s *skb) int {
	if l := h.link(s.out); l != nil {
		return l.MTU
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
// closed port: RST|ACK acknowledging the segment (or a bare RST with the
// segment's ack number when it carried ACK).
func (h *Host) sendReset(s *skb) {
	p := &s.pkt
	var rh packet.Headers
	h.replyIP(&rh, s, packet.ProtoTCP, packet.LayerTCP)
	rh.TCP = packet.TCP{SrcPort: p.TCP.DstPort, DstPort: p.TCP.SrcPort, DataOff: 5}
	if p.TCP.Flags&packet.TCPAck != 0 {
		rh.TCP.Seq = p.TCP.Ack
		rh.TCP.Flags = packet.TCPRst
	} else {
		rh.TCP.Ack = p.TCP.Seq + segLen(p)
		rh.TCP.Flags = packet.TCPRst | packet.TCPAck
	}
	h.queueBuilt(&rh, s.fam, "tcp reset")
}

// segLen is the sequence space a segment takes: its data plus SYN and FIN.
func segLen(p *packet.Packet) uint32 {
	n := uint32(len(p.Payload))
	if p.TCP.Flags&packet.TCPSyn != 0 {
		n++
	}
	if p.TCP.Flags&packet.TCPFin != 0 {
		n++
	}
	return n
}

// sendSynAck answers a SYN to a listening socket (tcp_v4_send_synack),
// with the options Linux offers when the SYN had them.
func (h *Host) sendSynAck(s *skb, sk *Socket) {
	p := &s.pkt
	var rh packet.Headers
	h.replyIP(&rh, s, packet.ProtoTCP, packet.LayerTCP)
	if !s.v6() {
		rh.IPv4.Flags = packet.IPv4DF
	}
	rh.TCP = packet.TCP{SrcPort: p.TCP.DstPort, DstPort: p.TCP.SrcPort, Seq: h.random(),
		Ack: p.TCP.Seq + 1, Flags: packet.TCPSyn | packet.TCPAck, Window: 65483}
	mss := 1460
	if s.v6() {
		mss = 1440
	}
	if l := h.link(s.in); l != nil {
		mss = l.MTU - 40
		if s.v6() {
			mss = l.MTU - 60
		}
	}
	var opts [20]byte
	o := opts[:0]
	o = append(o, 2, 4, byte(mss>>8), byte(mss))
	if p.TCP.Opts&packet.OptSACKPermitted != 0 {
		o = append(o, 4, 2)
	}
	if p.TCP.Opts&packet.OptTimestamp != 0 {
		if len(o)%4 != 2 {
			o = append(o, 1, 1)
		}
		ts := h.random()
		o = append(o, 8, 10, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts),
			byte(p.TCP.TSVal>>24), byte(p.TCP.TSVal>>16), byte(p.TCP.TSVal>>8), byte(p.TCP.TSVal))
	} else if len(o) == 6 {
		o = append(o, 1, 1)
	}
	if p.TCP.Opts&packet.OptWScale != 0 {
		o = append(o, 1, 3, 3, 7)
	}
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	rh.TCP.Options = o
	rh.TCP.DataOff = uint8(5 + len(o)/4)
	h.queueBuilt(&rh, s.fam, "syn-ack")
}

// sendEchoReply is icmp_echo / icmpv6_echo_reply: the request's body
// returned from the address it was sent to.
func (h *Host) sendEchoReply(s *skb) {
	p := &s.pkt
	var rh packet.Headers
	if s.v6() {
		h.replyIP(&rh, s, packet.ProtoICMPv6, packet.LayerICMPv6)
		rh.ICMP = packet.ICMP{Type: 129, Rest: p.ICMP.Rest}
	} else {
		h.replyIP(&rh, s, packet.ProtoICMP, packet.LayerICMPv4)
		rh.IPv4.TOS = p.IPv4.TOS
		rh.ICMP = packet.ICMP{Type: 0, Rest: p.ICMP.Rest}
	}
	rh.Payload = p.Payload
	h.queueBuilt(&rh, s.fam, "echo reply")
}

// replyIP fills the IP header of a reply to s: swapped addresses, the
// default TTL.
func (h *Host) replyIP(rh *packet.Headers, s *skb, proto uint8, l4 packet.Layer) {
	p := &s.pkt
	rh.Proto = proto
	if s.v6() {
		rh.Layers = packet.LayerIPv6 | l4
		rh.IPv6 = packet.IPv6{HopLimit: uint8(h.defaultTTL(true)), Src: p.Dst(), Dst: p.Src()}
	} else {
		rh.Layers = packet.LayerIPv4 | l4
		rh.IPv4 = packet.IPv4{IHL: 5, TTL: uint8(h.defaultTTL(false)), Src: p.Dst(), Dst: p.Src()}
	}
}

// queueBuilt encodes a reply and queues it for local output.
func (h *Host) queueBuilt(rh *packet.Headers, fam xtables.Family, origin string) {
	r := h.newSkb(fam)
	var err error
	r.buf, err = rh.Append(r.buf[:0], packet.FixLengths|packet.FixChecksums)
	if err != nil || r.redecode() != nil {
		h.freeSkb(r)
		return
	}
	r.local = true
	h.enqueue(r, origin)
}

// fragmentOut is ip_fragment / ip6_fragment on output.
func (h *Host) fragmentOut(s *skb, l *host.Link) Result {
	if s.v6() || s.pkt.IPv4.Flags&packet.IPv4DF != 0 {
		if !s.local {
			h.sendICMPError(s, icmpFragNeeded)
		}
		return dropped("packet too big for " + l.Name)
	}
	var frags [][]byte
	buf, frags, err := packet.FragmentIPv4(nil, frags, s.buf, l.MTU)
	_ = buf
	if err != nil {
		return dropped("cannot fragment: " + err.Error())
	}
	for _, f := range frags {
		h.emit(s, l, f)
	}
	return Result{Fate: FateSent, Dev: l.Name}
}
