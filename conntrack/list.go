package conntrack

import (
	"github.com/iptwin/iptwin/xtables"
	"strconv"

	"github.com/iptwin/iptwin/packet"
)

// The conntrack -L listing of conntrack-tools 1.4.7 (libnetfilter_conntrack
// __snprintf_conntrack_default over what ctnetlink dumps).
//
// Order: the kernel dumps in hash-bucket order, which depends on a random
// key chosen at boot, so no order can match it; AppendList prints the
// entries in the order they were confirmed, oldest first. Compare sorted
// lines with the kernel's.
//
// Not printed, as the kernel would not either in the twin's state: helper
// names, secmark/secctx, timestamps (nf_conntrack_timestamp), connlabel
// names (need /etc/xtables/connlabel.conf), directional zones.

var protoNames = map[uint8]string{
	packet.ProtoTCP: "tcp", packet.ProtoUDP: "udp", protoUDPLite: "udplite",
	packet.ProtoICMP: "icmp", packet.ProtoICMPv6: "icmpv6", protoSCTP: "sctp",
	protoGRE: "gre", 33: "dccp",
}

// AppendList appends the table as `conntrack -L` prints it on stdout: one
// line per confirmed, unexpired entry (both families).
func (t *Table) AppendList(b []byte, now int64) []byte {
	t.now = now
	for c := t.first; c != nil; c = c.next {
		if c.expired(now) || c.status&xtables.IPSNATClash != 0 {
			continue
		}
		b = c.AppendEntry(b, now)
		b = append(b, '\n')
	}
	return b
}

// Len is the number of entries AppendList prints.
func (t *Table) Len(now int64) int {
	n := 0
	for c := t.first; c != nil; c = c.next {
		if !c.expired(now) && c.status&xtables.IPSNATClash == 0 {
			n++
		}
	}
	return n
}

// AppendSummary appends the line conntrack prints on stderr after a
// listing of n entries.
func AppendSummary(b []byte, n int) []byte {
	b = append(b, "conntrack v1.4.7 (conntrack-tools): "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, " flow entries have been shown.\n"...)
}

// AppendEntry appends one entry in the conntrack -L format (no newline).
func (c *Conn) AppendEntry(b []byte, now int64) []byte {
	proto := c.th[Original].k.proto
	name := protoNames[proto]
	if name == "" {
		name = "unknown"
	}
	// "%-8s %u "
	b = append(b, name...)
	for i := len(name); i < 8; i++ {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(proto), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(c.expiresAt(now)), 10)
	b = append(b, ' ')
	if proto == packet.ProtoTCP {
		b = append(b, TCPStateName(c.tcp.state)...)
		b = append(b, ' ')
	}
	b = appendTuple(b, &c.th[Original].k)
	if c.hasAcct {
		b = appendCounters(b, c.acct[Original])
	}
	if c.status&xtables.IPSSeenReply == 0 {
		b = append(b, "[UNREPLIED] "...)
	}
	b = appendTuple(b, &c.th[Reply].k)
	if c.hasAcct {
		b = appendCounters(b, c.acct[Reply])
	}
	switch {
	case c.status&xtables.IPSHWOffload != 0:
		b = append(b, "[HW_OFFLOAD] "...)
	case c.status&xtables.IPSOffload != 0:
		b = append(b, "[OFFLOAD] "...)
	case c.status&xtables.IPSAssured != 0:
		b = append(b, "[ASSURED] "...)
	}
	b = append(b, "mark="...)
	b = strconv.AppendUint(b, uint64(c.mark), 10)
	if c.zone != 0 {
		b = append(b, " zone="...)
		b = strconv.AppendUint(b, uint64(c.zone), 10)
	}
	// An entry in the table has one reference (the table's).
	return append(b, " use=1"...)
}

func appendTuple(b []byte, k *key) []byte {
	b = append(b, "src="...)
	b = k.addr(&k.src).AppendTo(b)
	b = append(b, " dst="...)
	b = k.addr(&k.dst).AppendTo(b)
	b = append(b, ' ')
	switch k.proto {
	case packet.ProtoTCP, packet.ProtoUDP, protoUDPLite, protoSCTP, 33:
		b = append(b, "sport="...)
		b = strconv.AppendUint(b, uint64(k.sport), 10)
		b = append(b, " dport="...)
		b = strconv.AppendUint(b, uint64(k.dport), 10)
		b = append(b, ' ')
	case protoGRE:
		b = append(b, "srckey=0x"...)
		b = strconv.AppendUint(b, uint64(k.sport), 16)
		b = append(b, " dstkey=0x"...)
		b = strconv.AppendUint(b, uint64(k.dport), 16)
		b = append(b, ' ')
	case packet.ProtoICMP, packet.ProtoICMPv6:
		b = append(b, "type="...)
		b = strconv.AppendUint(b, uint64(k.dport>>8), 10)
		b = append(b, " code="...)
		b = strconv.AppendUint(b, uint64(k.dport&0xff), 10)
		b = append(b, " id="...)
		b = strconv.AppendUint(b, uint64(k.sport), 10)
		b = append(b, ' ')
	}
	return b
}

func appendCounters(b []byte, a counter) []byte {
	b = append(b, "packets="...)
	b = strconv.AppendUint(b, a.packets, 10)
	b = append(b, " bytes="...)
	b = strconv.AppendUint(b, a.bytes, 10)
	return append(b, ' ')
}
