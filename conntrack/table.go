package conntrack

import (
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/xtables"
)

// Table is one network namespace's connection tracking table (the
// nf_conntrack hash, its count and limits). It is not safe for concurrent
// use: a twin host is single-threaded.
//
// Entries live in a chained hash of tupleHash nodes, two per connection
// (original and reply tuple), newest first in each chain as the kernel's
// hlist_nulls_add_head puts them. The physical bucket array grows with
// the entries; the kernel's bucket of a node (nf_conntrack_buckets of
// them, reciprocal_scale of the hash) is computed when early_drop needs
// it, and a kernel bucket always falls inside one physical bucket, so a
// full table makes room exactly when the kernel's would (given the hash).
type Table struct {
	cfg  Config
	seed uint64

	buckets []*tupleHash // physical chains, len a power of two
	shift   uint         // 32 - log2(len(buckets))

	// count is cnet->count: allocated entries, confirmed or not.
	count int
	// first, last: confirmed entries in confirmation order.
	first, last *Conn
	nextID      uint32

	// now is the time of the last call that gave one (for Expires).
	now int64
	// lastGC is when a full table last reaped expired entries (jiffies).
	lastGC int64

	// bysrc is nf_nat_bysource (see AddSourceBinding).
	bysrc map[srcKey]*Conn

	// invalid says why the last packet In found INVALID (for traces).
	invalid string
}

const minBuckets = 64

// New makes an empty table. seed varies the hash (the kernel's is random
// at boot); a twin host passes a value from its seeded random source.
func New(cfg Config, seed uint64) *Table {
	if cfg.Buckets <= 0 {
		cfg.Buckets = DefaultConfig().Buckets
	}
	t := &Table{cfg: cfg, seed: seed}
	t.resize(minBuckets)
	return t
}

// Config is the table's configuration.
func (t *Table) Config() Config { return t.cfg }

// SetConfig changes the settings (a sysctl was written). Existing entries
// keep their timeouts until their next packet, as in the kernel.
func (t *Table) SetConfig(cfg Config) {
	if cfg.Buckets <= 0 {
		cfg.Buckets = t.cfg.Buckets
	}
	t.cfg = cfg
}

// Count is nf_conntrack_count: the entries allocated, including
// unconfirmed ones and expired ones not yet collected.
func (t *Table) Count() int { return t.count }

// InvalidReason says why the last packet In returned as INVALID, in the
// words of the kernel's nf_ct_l4proto_log_invalid messages ("" when the
// last packet was not INVALID).
func (t *Table) InvalidReason() string { return t.invalid }

func (t *Table) resize(n int) {
	old := t.buckets
	t.buckets = make([]*tupleHash, n)
	t.shift = uint(32 - log2(n))
	tails := make([]*tupleHash, n)
	// A new bucket takes nodes from one old bucket only (the hash's top
	// bits), so appending in old chain order keeps each chain's order.
	for _, h := range old {
		for h != nil {
			next := h.next
			b := h.hash >> t.shift
			h.next = nil
			if tails[b] == nil {
				t.buckets[b] = h
			} else {
				tails[b].next = h
			}
			tails[b] = h
			h = next
		}
	}
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

// insert puts a node at the head of its chain.
func (t *Table) insert(h *tupleHash) {
	b := h.hash >> t.shift
	h.next = t.buckets[b]
	t.buckets[b] = h
}

// unlink removes a node from its chain.
func (t *Table) unlink(h *tupleHash) {
	for pp := &t.buckets[h.hash>>t.shift]; *pp != nil; pp = &(*pp).next {
		if *pp == h {
			*pp = h.next
			h.next = nil
			return
		}
	}
}

// lookup is ____nf_conntrack_find: the confirmed node whose tuple and
// zone are k. An expired entry with that tuple is collected and not
// found. (The kernel also collects the expired entries it passes in the
// chain; the twin leaves those to Expire, which changes nothing but
// Count, and saves a cache miss per node.)
func (t *Table) lookup(k *key, hash uint32, now int64) *tupleHash {
	for h := t.buckets[hash>>t.shift]; h != nil; h = h.next {
		if h.hash != hash || h.k != *k {
			continue
		}
		if h.exp-jiffies(now) <= 0 {
			t.delete(h.conn())
			return nil
		}
		return h
	}
	return nil
}

// Find is nf_conntrack_find_get: the confirmed, unexpired entry whose
// tuple in either direction is tp, in zone, and the direction it matched
// (Original or Reply). c is nil when there is none.
func (t *Table) Find(tp Tuple, zone uint16, now int64) (c *Conn, dir int) {
	t.now = now
	k := makeKey(tp, zone)
	h := t.lookup(&k, k.hash(t.seed), now)
	if h == nil {
		return nil, 0
	}
	return h.conn(), int(h.dir)
}

// FindConn is Find for the extensions (it implements ctmatch.ConnFinder)
// at the table's current time; nil when there is no entry.
func (t *Table) FindConn(tp Tuple, zone uint16) xtables.Conn {
	if c, _ := t.Find(tp, zone, t.now); c != nil {
		return c
	}
	return nil
}

// TupleTaken is nf_conntrack_tuple_taken: whether a confirmed entry other
// than ignored has tp as one of its tuples (NAT must then choose
// another). An entry with the same original tuple as ignored is the same
// flow and does not count.
func (t *Table) TupleTaken(tp Tuple, ignored *Conn, now int64) bool {
	k := makeKey(tp, ignored.zone)
	hash := k.hash(t.seed)
again:
	for h := t.buckets[hash>>t.shift]; h != nil; h = h.next {
		c := h.conn()
		if c == ignored {
			continue
		}
		if c.expired(now) {
			t.delete(c)
			goto again
		}
		if h.hash != hash || h.k != k {
			continue
		}
		if c.th[Original].k == ignored.th[Original].k {
			continue
		}
		return true
	}
	return false
}

// alloc is __nf_conntrack_alloc with the limit: when the table is full,
// early_drop tries to make room; ok is false when it cannot (the kernel
// then drops the packet, "nf_conntrack: table full, dropping packet").
func (t *Table) alloc(orig, repl key, now int64) (*Conn, bool) {
	t.count++
	if t.cfg.Max > 0 && t.count > t.cfg.Max {
		// The GC worker (which runs at most once a second) would have
		// reaped expired entries; the twin reaps them before the
		// kernel's early_drop, once per second of host time.
		if j := jiffies(now); t.lastGC == 0 || j-t.lastGC >= kern.HZ {
			t.lastGC = j
			t.Expire(now)
		}
		if t.count > t.cfg.Max && !t.earlyDrop(orig.hash(t.seed), now) {
			t.count--
			return nil, false
		}
	}
	c := &Conn{t: t}
	c.zone = orig.zone
	c.th[Original] = tupleHash{k: orig, dir: Original}
	c.th[Reply] = tupleHash{k: repl, dir: Reply}
	c.hasAcct = t.cfg.Acct
	t.nextID++
	c.id = t.nextID
	return c, true
}

// evictionRange is NF_CT_EVICTION_RANGE: early_drop looks at this many
// kernel buckets from the new tuple's.
const evictionRange = 8

// earlyDrop is early_drop: in the kernel buckets from the new tuple's on,
// the first one holding confirmed entries that are not ASSURED loses all
// of them. It reports whether any was dropped.
func (t *Table) earlyDrop(hash uint32, now int64) bool {
	n := uint64(t.cfg.Buckets)
	kb := uint64(hash) * n >> 32
	for i := 0; i < evictionRange; i++ {
		b := (kb + uint64(i)) % n
		if t.dropKernelBucket(b, now) > 0 {
			return true
		}
	}
	return false
}

// dropKernelBucket is early_drop_list over kernel bucket b.
func (t *Table) dropKernelBucket(b uint64, now int64) int {
	n := uint64(t.cfg.Buckets)
	// The hashes of kernel bucket b: [ceil(b<<32/n), ceil((b+1)<<32/n)).
	lo := (b<<32 + n - 1) / n
	hi := ((b+1)<<32 + n - 1) / n
	if hi <= lo {
		return 0
	}
	drops := 0
	for pb := lo >> t.shift; pb <= (hi-1)>>t.shift; pb++ {
	again:
		for h := t.buckets[pb]; h != nil; h = h.next {
			if uint64(h.hash)*n>>32 != b {
				continue
			}
			c := h.conn()
			if c.expired(now) {
				t.delete(c)
				goto again
			}
			if c.status&(xtables.IPSAssured|xtables.IPSDying) != 0 || c.status&xtables.IPSConfirmed == 0 {
				continue
			}
			t.delete(c)
			drops++
			goto again
		}
	}
	return drops
}

// Confirm is __nf_conntrack_confirm: the new entry goes into the table
// when its packet leaves POSTROUTING or INPUT. It reports false when the
// packet must be dropped: a tuple of the entry is already in the table
// (a NAT mapping clashed) or the entry died meanwhile. Confirming an
// entry that is already in the table, or a packet in the reply
// direction, does nothing.
func (t *Table) Confirm(c *Conn, now int64) bool {
	t.now = now
	if c == nil || c.status&xtables.IPSConfirmed != 0 || c.reply {
		return true
	}
	if c.status&xtables.IPSDying != 0 {
		t.Discard(c)
		return false
	}
	for d := range c.th {
		h := &c.th[d]
		h.hash = h.k.hash(t.seed)
		if o := t.lookup(&h.k, h.hash, now); o != nil {
			// nf_ct_resolve_clash: merging needs an identical entry,
			// which only a race on another CPU creates; the
			// reply-only insertion of nf_ct_resolve_clash_harder needs
			// the original tuple to clash, which the lookup in In
			// rules out. Single-threaded, a clash drops the packet.
			t.Discard(c)
			return false
		}
	}
	// Timeout is relative to confirmation time.
	c.setTimeout(c.timeout + jiffies(now))
	c.status |= xtables.IPSConfirmed
	t.insert(&c.th[Original])
	t.insert(&c.th[Reply])
	t.appendConfirmed(c)
	return true
}

// appendConfirmed puts a confirmed entry at the end of the listing order
// and grows the buckets with the table.
func (t *Table) appendConfirmed(c *Conn) {
	c.prev = t.last
	if t.last != nil {
		t.last.next = c
	} else {
		t.first = c
	}
	t.last = c
	if 2*t.count > len(t.buckets) && len(t.buckets) < 1<<24 {
		t.resize(2 * len(t.buckets))
	}
}

// Discard frees an unconfirmed entry whose packet died (dropped, stolen,
// or its entry refused): nf_conntrack_free through the skb's last
// reference.
func (t *Table) Discard(c *Conn) {
	if c == nil || c.status&xtables.IPSConfirmed != 0 || c.freed {
		return
	}
	t.removeSourceBinding(c)
	c.status |= xtables.IPSDying
	c.freed = true
	t.count--
}

// Kill deletes an entry (nf_ct_kill: conntrack -D, a reopened TCP
// connection, RST before any reply). An unconfirmed entry is only marked
// dying: its packet still holds it, and Confirm refuses it.
func (t *Table) Kill(c *Conn) {
	if c == nil {
		return
	}
	if c.status&xtables.IPSConfirmed == 0 {
		c.status |= xtables.IPSDying
		return
	}
	t.delete(c)
}

// delete is nf_ct_delete of a confirmed entry.
func (t *Table) delete(c *Conn) {
	if c.status&xtables.IPSDying != 0 || c.status&xtables.IPSConfirmed == 0 {
		return
	}
	c.status |= xtables.IPSDying
	t.unlink(&c.th[Original])
	t.unlink(&c.th[Reply])
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		t.first = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		t.last = c.prev
	}
	c.prev, c.next = nil, nil
	t.removeSourceBinding(c)
	t.count--
}

// Expire collects the entries whose timeout has passed at now (the
// kernel's gc_worker, which the twin runs when the host's clock asks or
// the table is full).
func (t *Table) Expire(now int64) {
	t.now = now
	for c := t.first; c != nil; {
		next := c.next
		if c.expired(now) {
			t.delete(c)
		}
		c = next
	}
}

// Flush deletes every entry (conntrack -F).
func (t *Table) Flush() {
	for c := t.first; c != nil; {
		next := c.next
		t.delete(c)
		c = next
	}
}

// Each calls f for the confirmed, unexpired entries in confirmation order
// until f returns false.
func (t *Table) Each(now int64, f func(c *Conn) bool) {
	for c := t.first; c != nil; c = c.next {
		if c.expired(now) {
			continue
		}
		if !f(c) {
			return
		}
	}
}

// Now is the time of the packet being processed (the last In, Find or
// Confirm): NAT's tuple look-ups judge expiry by it.
func (t *Table) Now() int64 { return t.now }

// AllowClash is l4proto->allow_clash: the protocols whose clashing new
// entries NAT and confirmation treat leniently (UDP, UDP-Lite, GRE).
func AllowClash(proto uint8) bool {
	return proto == 17 || proto == protoUDPLite || proto == protoGRE
}
