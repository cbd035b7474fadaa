package rate

import (
	"net/netip"

	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/xtables"
)

// The recent match's tables (net/netfilter/xt_recent.c). A table holds at
// most ipListTot addresses in LRU order (the oldest first); each address
// keeps the times (jiffies) of its last nstampsMask+1 hits in a ring.

const ipListTot = 100 // module parameter ip_list_tot, default

type recentEntry struct {
	addr    [16]byte
	family  xtables.Family
	ttl     uint8
	index   uint16
	nstamps uint16
	stamps  []uint64
}

// recentTable is struct recent_table; entries are in LRU order.
type recentTable struct {
	mask        [16]byte
	nstampsMask uint16
	entries     []*recentEntry
	free        []*recentEntry
}

// nstampMask is what recent_mt_check computes for a rule: room for the
// hit count (a power of two), 32 stamps by default.
func (r *Recent) nstampMask() uint16 {
	if r.HitCount == 0 {
		return 32 - 1
	}
	n := uint32(1)
	for n < r.HitCount {
		n <<= 1
	}
	return uint16(n - 1)
}

func newRecentTable(r *Recent, f xtables.Family) *recentTable {
	t := &recentTable{nstampsMask: r.nstampMask()}
	m := r.mask(f)
	if m.Is4() {
		b := m.As4()
		copy(t.mask[:], b[:])
	} else {
		t.mask = m.As16()
	}
	return t
}

// adopt is the part of recent_mt_check for a table that exists: a rule
// needing more stamps flushes it and widens it.
func (t *recentTable) adopt(r *Recent) {
	if m := r.nstampMask(); m > t.nstampsMask {
		t.flush()
		t.nstampsMask = m
	}
}

func (t *recentTable) flush() {
	for _, e := range t.entries {
		t.free = append(t.free, e)
	}
	t.entries = t.entries[:0]
}

func (t *recentTable) lookup(addr *[16]byte, f xtables.Family, ttl uint8) int {
	for i, e := range t.entries {
		if e.family == f && e.addr == *addr && (ttl == e.ttl || ttl == 0 || e.ttl == 0) {
			return i
		}
	}
	return -1
}

func (t *recentTable) remove(i int) {
	e := t.entries[i]
	copy(t.entries[i:], t.entries[i+1:])
	t.entries = t.entries[:len(t.entries)-1]
	t.free = append(t.free, e)
}

// init is recent_entry_init: evict the oldest when full, then add the
// address with one stamp as the newest.
func (t *recentTable) init(addr *[16]byte, f xtables.Family, ttl uint8, now uint64) *recentEntry {
	if len(t.entries) >= ipListTot {
		t.remove(0)
	}
	var e *recentEntry
	if n := len(t.free); n > 0 {
		e, t.free = t.free[n-1], t.free[:n-1]
	} else {
		e = new(recentEntry)
	}
	if cap(e.stamps) < int(t.nstampsMask)+1 {
		e.stamps = make([]uint64, int(t.nstampsMask)+1)
	}
	e.stamps = e.stamps[:int(t.nstampsMask)+1]
	e.addr, e.family, e.ttl = *addr, f, ttl
	e.stamps[0], e.nstamps, e.index = now, 1, 1
	t.entries = append(t.entries, e)
	return e
}

// update is recent_entry_update: one more stamp, and the entry becomes
// the newest.
func (t *recentTable) update(i int, now uint64) {
	e := t.entries[i]
	e.index &= t.nstampsMask
	e.stamps[e.index] = now
	e.index++
	if e.index > e.nstamps {
		e.nstamps = e.index
	}
	copy(t.entries[i:], t.entries[i+1:])
	t.entries[len(t.entries)-1] = e
}

// table is the rule's table: the host's by name, else the rule's own.
func (r *Recent) table(st *xtables.PacketState) *recentTable {
	if s := sharedOf(st); s != nil {
		if r.shared == s && r.tbl != nil {
			return r.tbl
		}
		if s.recent == nil {
			s.recent = make(map[string]*recentTable)
		}
		t := s.recent[r.Name]
		if t == nil {
			t = newRecentTable(r, st.Family)
			s.recent[r.Name] = t
		} else {
			t.adopt(r)
		}
		r.shared, r.tbl = s, t
		return t
	}
	if r.tbl == nil || r.shared != nil {
		r.tbl, r.shared = newRecentTable(r, st.Family), nil
	}
	return r.tbl
}

// MatchPacket is recent_mt: look the packet's source (or destination)
// address up under the table's mask, and --set, --rcheck, --update or
// --remove it.
func (r *Recent) MatchPacket(st *xtables.PacketState) bool {
	p := st.Pkt
	ret := r.Invert != 0
	var a netip.Addr
	var ttl uint8
	if p.IsIPv4() {
		ttl = p.IPv4.TTL
	} else {
		ttl = p.IPv6.HopLimit
	}
	if r.Side == recentDest {
		a = p.Dst()
	} else {
		a = p.Src()
	}
	// The TTL as it was before forwarding (not for a local socket's).
	if st.Out != "" && !st.HasSock {
		ttl++
	}
	t := r.table(st)
	var addr [16]byte
	if a.Is4() {
		b := a.As4()
		copy(addr[:], b[:])
	} else {
		addr = a.As16()
	}
	for i := range addr {
		addr[i] &= t.mask[i]
	}
	now := kern.Jiffies(st.Env.Now())
	lttl := uint8(0)
	if r.CheckSet&recentTTL != 0 {
		lttl = ttl
	}
	i := t.lookup(&addr, st.Family, lttl)
	if i < 0 {
		if r.CheckSet&recentSet == 0 {
			return ret
		}
		t.init(&addr, st.Family, ttl, now)
		return !ret
	}
	e := t.entries[i]
	switch {
	case r.CheckSet&recentSet != 0:
		ret = !ret
	case r.CheckSet&recentRemove != 0:
		t.remove(i)
		return !ret
	case r.CheckSet&(recentCheck|recentUpdate) != 0:
		time := now - uint64(r.Seconds)*kern.HZ
		hits := uint32(0)
		for j := 0; j < int(e.nstamps); j++ {
			if r.Seconds != 0 && kern.TimeAfter(time, e.stamps[j]) {
				continue
			}
			hits++
			if r.HitCount == 0 || hits >= r.HitCount {
				ret = !ret
				break
			}
		}
		if r.CheckSet&recentReap != 0 {
			// recent_entry_reap: only the oldest entry of the table
			// can go, and not the one about to be updated.
			if !(t.entries[0] == e && r.CheckSet&recentUpdate != 0 && ret) &&
				kern.TimeAfter(time, t.entries[0].stamps[(t.entries[0].index-1)&t.nstampsMask]) {
				t.remove(0)
			}
		}
	}
	if r.CheckSet&recentSet != 0 || r.CheckSet&recentUpdate != 0 && ret {
		t.update(t.lookupEntry(e), now)
		e.ttl = ttl
	}
	return ret
}

func (t *recentTable) lookupEntry(e *recentEntry) int {
	for i, x := range t.entries {
		if x == e {
			return i
		}
	}
	return -1
}
