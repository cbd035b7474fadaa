package conntrack

import (
	"github.com/iptwin/iptwin/packet"
	"unsafe"

	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/xtables"
)

// The status bits of a connection are xtables' IPS* constants (enum
// ip_conntrack_status), which the extensions read too.

// tupleHash is one direction of a connection as it sits in the table
// (struct nf_conntrack_tuple_hash).
type tupleHash struct {
	k    key
	hash uint32
	dir  uint8
	next *tupleHash // chain of the table bucket
	// exp is the entry's timeout, kept next to the key so that a lookup
	// reads one node and not the entry too.
	exp int64
}

// conn is nf_ct_tuplehash_to_ctrack: the entry a node belongs to (the
// nodes are the first field of Conn).
func (h *tupleHash) conn() *Conn {
	return (*Conn)(unsafe.Add(unsafe.Pointer(h), -int(h.dir)*int(unsafe.Sizeof(tupleHash{}))))
}

// The nodes must start the entry for conn.
var _ = [1]struct{}{}[unsafe.Offsetof(Conn{}.th)]

// counter is struct nf_conn_counter.
type counter struct{ packets, bytes uint64 }

// Conn is a conntrack entry (struct nf_conn). The Table owns it; a
// pointer stays valid (and shows the entry's last state) after the entry
// is deleted, as the kernel's reference an skb holds.
type Conn struct {
	th      [2]tupleHash
	status  uint32
	mark    uint32
	labels  [2]uint64
	acct    [2]counter
	hasAcct bool
	// timeout is the expiry in jiffies: absolute once confirmed, relative
	// to the confirmation before (as ct->timeout).
	timeout int64
	zone    uint16
	id      uint32
	tcp     tcpConn
	// udpStream is ct->proto.udp.stream_ts (jiffies).
	udpStream int64
	// reply is the direction of the packet being processed (CTINFO2DIR).
	reply bool
	// masqDev is nf_conn_nat.masq_index: the output device of a
	// MASQUERADE mapping (0 when none).
	masqDev int

	t *Table
	// freed: an unconfirmed entry given back (Discard).
	freed bool
	// prev, next link the confirmed entries in confirmation order.
	prev, next *Conn
	// natNext chains the source-NAT index (nf_nat_bysource).
	natNext *Conn
	inBySrc bool
}

// Tuple is the tuple of direction dir (Original or Reply).
func (c *Conn) Tuple(dir int) Tuple { return c.th[dir&1].k.tuple() }

// Zone is the conntrack zone (nf_ct_zone(ct)->id).
func (c *Conn) Zone() uint16 { return c.zone }

// Proto is the transport protocol of the connection.
func (c *Conn) Proto() uint8 { return c.th[0].k.proto }

// IsIPv6 reports whether the connection is IPv6.
func (c *Conn) IsIPv6() bool { return c.th[0].k.v6 }

// Status is the status bit set (IPS* constants).
func (c *Conn) Status() uint32 { return c.status }

// SetStatus sets bits of the status (nf_nat sets IPS_*_NAT and
// IPS_*_NAT_DONE through it).
func (c *Conn) SetStatus(bits uint32) { c.status |= bits }

// Confirmed reports whether the entry is in the table (IPS_CONFIRMED).
func (c *Conn) Confirmed() bool { return c.status&xtables.IPSConfirmed != 0 }

// Reply reports whether the packet being processed travels in the reply
// direction (CTINFO2DIR).
func (c *Conn) Reply() bool { return c.reply }

// SetReply sets the direction of the current packet, for a packet
// attached to the connection outside In (nf_conntrack_attach of REJECT).
func (c *Conn) SetReply(reply bool) { c.reply = reply }

// Mark is the connection mark (ct->mark).
func (c *Conn) Mark() uint32 { return c.mark }

// SetMark sets the connection mark (CONNMARK, CT --mark).
func (c *Conn) SetMark(m uint32) { c.mark = m }

// Labels is the connlabel bit set.
func (c *Conn) Labels() *[2]uint64 { return &c.labels }

// Helper is the name of the conntrack helper: none are modelled.
func (c *Conn) Helper() string { return "" }

// Master is the connection an expected one belongs to: none are.
func (c *Conn) Master() xtables.Conn { return nil }

// ID is the entry's id (ctnetlink's CTA_ID): a sequence number here,
// where the kernel hashes the entry's address.
func (c *Conn) ID() uint32 { return c.id }

// TCPState is the TCP state (TCPNone … TCPSynSent2); TCPNone for other
// protocols.
func (c *Conn) TCPState() uint8 { return c.tcp.state }

// Closed is already_closed of nf_conncount: TCP in TIME_WAIT or CLOSE.
func (c *Conn) Closed() bool {
	return c.Proto() == packet.ProtoTCP && (c.tcp.state == TCPTimeWait || c.tcp.state == TCPClose)
}

// Counters are the packets and bytes of direction dir (0 without
// nf_conntrack_acct).
func (c *Conn) Counters(dir int) (packets, bytes uint64) {
	a := c.acct[dir&1]
	return a.packets, a.bytes
}

// Expires is the time left in seconds as ctnetlink and the conntrack
// match report it (nf_ct_expires / HZ), at the table's current time.
func (c *Conn) Expires() uint32 { return c.expiresAt(c.t.now) }

func (c *Conn) expiresAt(now int64) uint32 {
	if c.status&xtables.IPSConfirmed == 0 {
		return uint32(c.timeout / kern.HZ)
	}
	left := c.timeout - jiffies(now)
	if left < 0 {
		return 0
	}
	return uint32(left / kern.HZ)
}

// expired is nf_ct_is_expired.
func (c *Conn) expired(now int64) bool {
	return c.status&xtables.IPSConfirmed != 0 && c.timeout-jiffies(now) <= 0
}

// MasqDev is the output device index a MASQUERADE mapping was made for
// (0: none).
func (c *Conn) MasqDev() int { return c.masqDev }

// SetMasqDev records the MASQUERADE output device (nf_nat_masquerade
// sets nat->masq_index).
func (c *Conn) SetMasqDev(ifindex int) { c.masqDev = ifindex }

// SetReplyTuple is nf_conntrack_alter_reply: NAT changes the reply tuple
// of an unconfirmed entry so that replies are found. It does nothing once
// the entry is confirmed.
func (c *Conn) SetReplyTuple(t Tuple) {
	if c.status&xtables.IPSConfirmed != 0 {
		return
	}
	c.th[Reply].k = makeKey(t, c.zone)
}

// TCPEnd is the sender's td_end of direction dir (the end of the data
// seen), which NAT compares when it evicts a TIME_WAIT entry.
func (c *Conn) TCPEnd(dir int) uint32 { return c.tcp.seen[dir&1].end }

// jiffies is the kernel's jiffies at host time now (ns).
func jiffies(now int64) int64 { return int64(kern.Jiffies(now)) }

// refresh is __nf_ct_refresh_acct: a new timeout (jiffies from now once
// confirmed) and the packet counted.
func (c *Conn) refresh(now int64, extra int64, bytes int) {
	if c.status&xtables.IPSFixedTimeout == 0 {
		if c.status&xtables.IPSConfirmed != 0 {
			extra += jiffies(now)
		}
		c.setTimeout(extra)
	}
	c.account(bytes)
}

// setTimeout sets ct->timeout (and its copies in the nodes).
func (c *Conn) setTimeout(v int64) {
	c.timeout = v
	c.th[0].exp, c.th[1].exp = v, v
}

// account is nf_ct_acct_update for the current packet's direction.
func (c *Conn) account(bytes int) {
	if !c.hasAcct || bytes == 0 {
		return
	}
	d := 0
	if c.reply {
		d = 1
	}
	c.acct[d].packets++
	c.acct[d].bytes += uint64(bytes)
}

// connSize is the size of a Conn (the memory test reports it).
const connSize = unsafe.Sizeof(Conn{})
