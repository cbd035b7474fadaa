package ctmatch

import (
	"net/netip"

	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The connection counting of the connlimit match (net/netfilter/
// nf_conncount.c, as of the 2025/2026 rework that takes the skb and skips
// confirmed, assured connections). Each rule keeps its own counting data
// (struct nf_conncount_data): per key (the masked address and the zone) a
// list of the original tuples of connections seen, which is checked
// against the conntrack table — an entry gone or closed (TCP TIME_WAIT or
// CLOSE) is dropped from the list. The host answers the look-ups
// (ConnFinder); every packet is handled on CPU 0, so an entry not found is
// evicted at once (find_or_evict with conn->cpu == cpu).
//
// The kernel frees a key whose list became empty only when a later
// insertion of another key walks past it in the same rb-tree slot, or in
// the GC worker such a walk schedules; where that happens depends on a
// random hash seed. Here an empty list stays until the rule goes, which is
// what the kernel does when no other key lands in its slot.

const (
	connCountGCMaxCollect = 64 // CONNCOUNT_GC_MAX_COLLECT
	errEEXIST             = 1
	errENOENT             = 2
)

type ccKey [5]uint32

type ccConn struct {
	tuple   xtables.Tuple
	zone    uint16
	jiffies uint32
}

// ccList is struct nf_conncount_list.
type ccList struct {
	conns       []ccConn
	lastGC      uint32
	lastGCCount uint32
}

func (l *ccList) count() uint32 { return uint32(len(l.conns)) }

// connCount is struct nf_conncount_data of one rule.
type connCount struct {
	lists map[ccKey]*ccList
}

// ccPacket is what get_ct_or_tuple_from_skb finds for a packet.
type ccPacket struct {
	ct    xtables.Conn
	tuple xtables.Tuple
	zone  uint16
	ok    bool
}

func ccFromPacket(st *xtables.PacketState, find ConnFinder) ccPacket {
	if st.Ct != nil {
		return ccPacket{ct: st.Ct, tuple: st.Ct.Tuple(0), zone: zoneOf(st.Ct), ok: true}
	}
	t, ok := packetTuple(st)
	if !ok {
		return ccPacket{}
	}
	p := ccPacket{tuple: t, ok: true}
	if c := find.FindConn(t, 0); c != nil {
		p.ct, p.tuple, p.zone = c, c.Tuple(0), zoneOf(c)
	}
	return p
}

// packetTuple is nf_ct_get_tuplepr: the original-direction tuple of the
// packet itself; a later fragment has none.
func packetTuple(st *xtables.PacketState) (xtables.Tuple, bool) {
	p := st.Pkt
	if p == nil || p.IsFragment() && p.FragOffset() != 0 {
		return xtables.Tuple{}, false
	}
	t := xtables.Tuple{Src: p.Src(), Dst: p.Dst(), Proto: p.Proto}
	switch {
	case p.Layers&(packet.LayerTCP|packet.LayerUDP) != 0:
		t.SrcPort, t.DstPort, _ = p.Ports()
	case p.Layers&(packet.LayerICMPv4|packet.LayerICMPv6) != 0:
		t.SrcPort = p.ICMP.ID()
		t.DstPort = uint16(p.ICMP.Type)<<8 | uint16(p.ICMP.Code)
	case p.Proto == packet.ProtoTCP || p.Proto == packet.ProtoUDP ||
		p.Proto == packet.ProtoICMP || p.Proto == packet.ProtoICMPv6:
		return xtables.Tuple{}, false // header cut short
	}
	return t, true
}

func isConfirmed(c xtables.Conn) bool { return c.Status()&xtables.IPSConfirmed != 0 }

func isClosed(c xtables.Conn) bool {
	cl, ok := c.(ConnClosed)
	return ok && cl.Closed()
}

// evict drops conns[i] (conn_free).
func (l *ccList) evict(i int) {
	copy(l.conns[i:], l.conns[i+1:])
	l.conns = l.conns[:len(l.conns)-1]
}

// add is __nf_conncount_add: 0, errEEXIST (a confirmed, assured
// connection: nothing added) or errENOENT (no tuple).
func (l *ccList) add(p *ccPacket, find ConnFinder, j32 uint32) int {
	if !p.ok {
		return errENOENT
	}
	check := false
	if p.ct != nil && isConfirmed(p.ct) {
		if p.ct.Status()&xtables.IPSAssured != 0 {
			return errEEXIST
		}
		check = true
	}
	if check || j32 != l.lastGC || l.count()-l.lastGCCount >= connCountGCMaxCollect {
		collect := 0
		for i := 0; i < len(l.conns); {
			if collect > connCountGCMaxCollect {
				break
			}
			c := &l.conns[i]
			found := find.FindConn(c.tuple, c.zone)
			if found == nil {
				l.evict(i)
				collect++
				continue
			}
			if c.tuple == p.tuple && zoneOf(found) == p.zone {
				return 0 // already counted
			}
			if isClosed(found) {
				l.evict(i)
				collect++
				continue
			}
			i++
		}
		l.lastGC, l.lastGCCount = j32, l.count()
	}
	l.conns = append(l.conns, ccConn{tuple: p.tuple, zone: p.zone, jiffies: j32})
	return 0
}

// gc is __nf_conncount_gc_list: drop the gone and closed connections,
// at most once a jiffy.
func (l *ccList) gc(find ConnFinder, j32 uint32) {
	if j32 == l.lastGC {
		return
	}
	collected := 0
	for i := 0; i < len(l.conns); {
		found := find.FindConn(l.conns[i].tuple, l.conns[i].zone)
		if found == nil || isClosed(found) {
			l.evict(i)
			collected++
			continue
		}
		i++
		if collected > connCountGCMaxCollect {
			break
		}
	}
	l.lastGC, l.lastGCCount = j32, l.count()
}

// count is count_tree with an skb: the number of connections under key
// after adding the packet's; 0 means the packet is dropped (hotdrop).
func (cc *connCount) count(key ccKey, p *ccPacket, find ConnFinder, j32 uint32) uint32 {
	l := cc.lists[key]
	if l == nil {
		// insert_tree: a new key starts with this connection.
		if !p.ok {
			return 0
		}
		if cc.lists == nil {
			cc.lists = make(map[ccKey]*ccList)
		}
		l = &ccList{lastGC: j32}
		l.conns = append(l.conns, ccConn{tuple: p.tuple, zone: p.zone, jiffies: j32})
		cc.lists[key] = l
		return 1
	}
	empty := l.count() == 0
	ret := l.add(p, find, j32)
	if ret != 0 && ret != errEEXIST {
		return 0
	}
	if ret == errEEXIST && !empty {
		// count_tree refreshes the list when the add was skipped;
		// insert_tree (reached for an empty list) does not.
		l.gc(find, j32)
	}
	return l.count()
}

// connlimitKey is the key connlimit_mt builds: the chosen address under
// the mask, then the zone.
func (cl *Connlimit) key(a netip.Addr, zone uint16) ccKey {
	var k ccKey
	if a.Is4() {
		b := a.As4()
		k[0] = (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) & cl.Mask[0]
		k[1] = uint32(zone)
		return k
	}
	b := a.As16()
	for i := 0; i < 4; i++ {
		w := uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
		k[i] = w & cl.Mask[i]
	}
	k[4] = uint32(zone)
	return k
}

// MatchPacket is connlimit_mt: more than Limit connections under the
// packet's key (inverted for --connlimit-upto). The host must answer
// conntrack look-ups (ConnFinder); without them the count cannot be
// known and the match fails.
func (cl *Connlimit) MatchPacket(st *xtables.PacketState) bool {
	find, ok := st.Env.(ConnFinder)
	if !ok || st.Pkt == nil {
		return false
	}
	p := ccFromPacket(st, find)
	a := st.Pkt.Src()
	if cl.Flags&connlimitDaddr != 0 {
		a = st.Pkt.Dst()
	}
	if cl.data == nil {
		cl.data = new(connCount)
	}
	n := cl.data.count(cl.key(a, p.zone), &p, find, uint32(kern.Jiffies(st.Env.Now())))
	if n == 0 {
		st.HotDrop = true
		return false
	}
	return (n > cl.Limit) != (cl.Flags&connlimitInvert != 0)
}
