package conntrack

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The trackers other than TCP: nf_conntrack_proto_udp.c (UDP, UDP-Lite),
// nf_conntrack_proto_icmp.c, nf_conntrack_proto_icmpv6.c,
// nf_conntrack_proto_gre.c (without the PPTP keymap) and generic_packet
// of nf_conntrack_core.c for every other protocol. There is no ESP
// tracker in Linux 6.x: ESP is generic (addresses and protocol only).

const protoGRE = 47

// checksumHere says whether a tracker verifies checksums at this hook:
// nf_conntrack_checksum, and only in PREROUTING (locally generated
// packets are assumed right).
func (t *Table) checksumHere(hook int) bool {
	return t.cfg.Checksum && hook == xtables.HookPrerouting
}

// addrs are the IP header's source and destination (for pseudo-headers,
// which nf_checksum takes from the header itself, not a routing
// header's final destination).
func (l *l4) addrs() (src, dst netip.Addr) {
	if l.v6 {
		return netip.AddrFrom16([16]byte(l.data[8:24])), netip.AddrFrom16([16]byte(l.data[24:40]))
	}
	return netip.AddrFrom4([4]byte(l.data[12:16])), netip.AddrFrom4([4]byte(l.data[16:20]))
}

// checksumOK is nf_checksum over the transport part (skb->len - dataoff
// bytes): ICMP has no pseudo-header, the others do.
func (l *l4) checksumOK() bool {
	b := l.data[l.off:]
	if l.proto == packet.ProtoICMP && !l.v6 {
		return packet.Checksum(b, 0) == 0
	}
	src, dst := l.addrs()
	return packet.Checksum(b, packet.PseudoSum(src, dst, l.proto, len(b))) == 0
}

// udpPacket is nf_conntrack_udp_packet with udp_error.
func (t *Table) udpPacket(c *Conn, l *l4, hook int, now int64) l4Result {
	b := l.data[l.off:]
	if len(b) < 8 {
		t.invalid = "short packet"
		return l4Invalid
	}
	if n := int(binary.BigEndian.Uint16(b[4:])); n > len(b) || n < 8 {
		t.invalid = "truncated/malformed packet"
		return l4Invalid
	}
	if binary.BigEndian.Uint16(b[6:]) != 0 && t.checksumHere(hook) && !l.checksumOK() {
		t.invalid = "bad checksum"
		return l4Invalid
	}
	if c.status&xtables.IPSConfirmed == 0 {
		c.udpStream = jiffies(now) + 2*kern.HZ
	}
	status := c.status
	if status&xtables.IPSSeenReply == 0 {
		c.refresh(now, int64(t.cfg.UDPTimeout)*kern.HZ, len(l.data))
		return l4Accept
	}
	// Seen both ways: a stream once still active after two seconds.
	extra, stream := int64(t.cfg.UDPTimeout)*kern.HZ, false
	if jiffies(now) > c.udpStream {
		extra, stream = int64(t.cfg.UDPTimeoutStream)*kern.HZ, status&xtables.IPSAssured == 0
	}
	c.refresh(now, extra, len(l.data))
	// Never ASSURED for IPS_NAT_CLASH: they time out soon.
	if status&xtables.IPSNATClash == 0 && stream {
		c.status |= xtables.IPSAssured
	}
	return l4Accept
}

// udpLitePacket is nf_conntrack_udplite_packet with udplite_error.
func (t *Table) udpLitePacket(c *Conn, l *l4, hook int, now int64) l4Result {
	b := l.data[l.off:]
	if len(b) < 8 {
		t.invalid = "short packet"
		return l4Invalid
	}
	cov := int(binary.BigEndian.Uint16(b[4:]))
	if cov == 0 {
		cov = len(b)
	} else if cov < 8 || cov > len(b) {
		t.invalid = "invalid checksum coverage"
		return l4Invalid
	}
	if binary.BigEndian.Uint16(b[6:]) == 0 {
		t.invalid = "checksum missing"
		return l4Invalid
	}
	if t.checksumHere(hook) {
		src, dst := l.addrs()
		if packet.Checksum(b[:cov], packet.PseudoSum(src, dst, l.proto, len(b))) != 0 {
			t.invalid = "bad checksum"
			return l4Invalid
		}
	}
	if c.status&xtables.IPSSeenReply != 0 {
		c.refresh(now, int64(t.cfg.UDPTimeoutStream)*kern.HZ, len(l.data))
		if c.status&xtables.IPSNATClash == 0 {
			c.status |= xtables.IPSAssured
		}
		return l4Accept
	}
	c.refresh(now, int64(t.cfg.UDPTimeout)*kern.HZ, len(l.data))
	return l4Accept
}

// icmpValidNew are the ICMP types that start a connection.
var icmpValidNew = [...]bool{packet.ICMPEcho: true, 13: true, 15: true, 17: true}

// icmpPacket is nf_conntrack_icmp_packet.
func (t *Table) icmpPacket(c *Conn, l *l4, now int64) l4Result {
	if l.v6 {
		t.invalid = "icmp in ipv6"
		return l4Invalid
	}
	typ := c.th[Original].k.dport >> 8
	if int(typ) >= len(icmpValidNew) || !icmpValidNew[typ] {
		t.invalid = "can't create new conn with this type"
		return l4Invalid
	}
	c.refresh(now, int64(t.cfg.ICMPTimeout)*kern.HZ, len(l.data))
	return l4Accept
}

// icmpv6Packet is nf_conntrack_icmpv6_packet.
func (t *Table) icmpv6Packet(c *Conn, l *l4, now int64) l4Result {
	if !l.v6 {
		t.invalid = "icmpv6 in ipv4"
		return l4Invalid
	}
	if c.status&xtables.IPSConfirmed == 0 {
		typ := c.th[Original].k.dport >> 8
		if typ != packet.ICMPv6EchoRequest && typ != 139 {
			t.invalid = "can't create new conn with this type"
			return l4Invalid
		}
	}
	c.refresh(now, int64(t.cfg.ICMPv6Timeout)*kern.HZ, len(l.data))
	return l4Accept
}

// grePacket is nf_conntrack_gre_packet.
func (t *Table) grePacket(c *Conn, l *l4, now int64) l4Result {
	if c.status&xtables.IPSSeenReply != 0 {
		c.refresh(now, int64(t.cfg.GRETimeoutStream)*kern.HZ, len(l.data))
		if c.status&xtables.IPSNATClash == 0 {
			c.status |= xtables.IPSAssured
		}
		return l4Accept
	}
	c.refresh(now, int64(t.cfg.GRETimeout)*kern.HZ, len(l.data))
	return l4Accept
}

// genericPacket is generic_packet.
func (t *Table) genericPacket(c *Conn, l *l4, now int64) l4Result {
	c.refresh(now, int64(t.cfg.GenericTimeout)*kern.HZ, len(l.data))
	return l4Accept
}

// handlePacket is nf_conntrack_handle_packet: the protocol's tracker.
func (t *Table) handlePacket(c *Conn, l *l4, hook int, now int64) l4Result {
	switch c.th[Original].k.proto {
	case packet.ProtoTCP:
		return t.tcpPacket(c, l, hook, now)
	case packet.ProtoUDP:
		return t.udpPacket(c, l, hook, now)
	case protoUDPLite:
		return t.udpLitePacket(c, l, hook, now)
	case packet.ProtoICMP:
		return t.icmpPacket(c, l, now)
	case packet.ProtoICMPv6:
		return t.icmpv6Packet(c, l, now)
	case protoGRE:
		return t.grePacket(c, l, now)
	}
	return t.genericPacket(c, l, now)
}
