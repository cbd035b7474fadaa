package rate

import (
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The hashlimit tables (net/netfilter/xt_hashlimit.c, revision 3): one
// token bucket per flow, in jiffies and credits at HZ=250. Tokens are
// "credits": a packet costs user2credits(avg) and a bucket holds
// user2credits(avg*burst); it gains CREDITS_PER_JIFFY a jiffy.

const (
	hlCPJ         = 1 << 39 // CREDITS_PER_JIFFY = POW2_BELOW64(2^64-1 / (HZ*86400))
	hlCPJBytes    = 1 << 24 // CREDITS_PER_JIFFY_BYTES = POW2_BELOW32(2^32-1 / HZ)
	hlCapBytes    = hlCPJBytes * kern.HZ
	hlDefaultSize = 8192 // htable_create on a host with more than 1 GiB of memory
)

// user2credits for revision 3: HZ*CREDITS_PER_JIFFY is above the scale.
func user2credits(user uint64) uint64 { return user * (kern.HZ * hlCPJ / hlScale) }

func user2creditsByte(user uint32) uint32 {
	return uint32(uint64(user) * (kern.HZ * hlCPJBytes) >> 32)
}

func user2rate(user uint64) uint64 {
	if user == 0 {
		return 0
	}
	return hlScale / user
}

func user2rateBytes(user uint32) uint64 {
	r := uint64(0xffffffff)
	if user != 0 {
		r = 0xffffffff / uint64(user)
	}
	return (r - 1) << hlByteShift
}

// hlDst is struct dsthash_dst: the flow's key under the table's mode and
// masks (unused parts zero).
type hlDst struct {
	src, dst     [16]byte
	sport, dport uint16
}

// hlEntry is struct dsthash_ent's changing part.
type hlEntry struct {
	expires uint64
	prev    uint64
	// token bucket
	credit, creditCap, cost uint64
	// rate match (--hashlimit-rate-match)
	interval, prevWindow uint32
	currentRate, rate    uint64
	burst                int64
}

// hlTable is struct xt_hashlimit_htable: the configuration of the rule
// that made it, its entries, and the time of the next garbage collection.
type hlTable struct {
	cfg     Hashlimit
	fam     xtables.Family
	max     uint32
	entries map[hlDst]hlEntry
	nextGC  uint64
	started bool
}

func newHlTable(h *Hashlimit, f xtables.Family) *hlTable {
	t := &hlTable{cfg: *h, fam: f}
	t.cfg.state, t.cfg.shared = nil, nil
	size := h.Size
	if size == 0 {
		size = hlDefaultSize
	}
	t.max = h.Max
	if t.max == 0 {
		t.max = 8 * size
	} else if t.max < size {
		t.max = size
	}
	return t
}

// maskl is maskl of xt_hashlimit: the first l bits of the word.
func maskl(w uint32, l uint8) uint32 {
	if l == 0 {
		return 0
	}
	return w & (^uint32(0) << (32 - l))
}

func maskAddr(dst *[16]byte, a []byte, plen uint8) {
	copy(dst[:], a)
	n := len(a)
	for i := 0; i < n; i += 4 {
		w := uint32(dst[i])<<24 | uint32(dst[i+1])<<16 | uint32(dst[i+2])<<8 | uint32(dst[i+3])
		bit := i * 8
		switch {
		case int(plen) >= bit+32:
		case int(plen) <= bit:
			// hashlimit_ipv6_mask zeroes the words after the prefix's
			w = 0
		default:
			w = maskl(w, plen-uint8(bit))
		}
		dst[i], dst[i+1], dst[i+2], dst[i+3] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	}
}

// initDst is hashlimit_init_dst; false when the ports cannot be read.
func (t *hlTable) initDst(p *packet.Packet) (hlDst, bool) {
	var d hlDst
	mode := t.cfg.Mode
	var proto uint8
	var off int
	if p.IsIPv4() {
		if mode&hlHashDIP != 0 {
			b := p.IPv4.Dst.As4()
			maskAddr(&d.dst, b[:], t.cfg.Dstmask)
		}
		if mode&hlHashSIP != 0 {
			b := p.IPv4.Src.As4()
			maskAddr(&d.src, b[:], t.cfg.Srcmask)
		}
		if mode&(hlHashDPT|hlHashSPT) == 0 {
			return d, true
		}
		proto, off = p.IPv4.Protocol, int(p.IPv4.IHL)*4
	} else {
		if mode&hlHashDIP != 0 {
			b := p.IPv6.Dst.As16()
			maskAddr(&d.dst, b[:], t.cfg.Dstmask)
		}
		if mode&hlHashSIP != 0 {
			b := p.IPv6.Src.As16()
			maskAddr(&d.src, b[:], t.cfg.Srcmask)
		}
		if mode&(hlHashDPT|hlHashSPT) == 0 {
			return d, true
		}
		proto, off = p.Proto, len(p.Net)
	}
	// proto_ports_offset: the ports of TCP, UDP, UDP-Lite, DCCP, SCTP,
	// the SPI of ESP (and of AH, 4 bytes in); none for the rest.
	poff := -1
	switch proto {
	case packet.ProtoTCP, packet.ProtoUDP, 136, 33, 132, packet.ProtoESP:
		poff = 0
	case packet.ProtoAH:
		poff = 4
	}
	var sp, dp uint16
	if poff >= 0 {
		at := off + poff
		if at+4 > len(p.Data) {
			return d, false
		}
		sp = uint16(p.Data[at])<<8 | uint16(p.Data[at+1])
		dp = uint16(p.Data[at+2])<<8 | uint16(p.Data[at+3])
	}
	if mode&hlHashSPT != 0 {
		d.sport = sp
	}
	if mode&hlHashDPT != 0 {
		d.dport = dp
	}
	return d, true
}

// rateinfoInit is rateinfo_init (revision 3).
func (t *hlTable) rateinfoInit(e *hlEntry, now uint64) {
	c := &t.cfg
	e.prev = now
	switch {
	case c.Mode&hlRateMatch != 0:
		e.prevWindow, e.currentRate = 0, 0
		if c.Mode&hlBytes != 0 {
			e.rate = user2rateBytes(uint32(c.Avg))
			if c.Burst != 0 {
				e.burst = int64(c.Burst * e.rate)
			} else {
				e.burst = int64(e.rate)
			}
		} else {
			e.rate = user2rate(c.Avg)
			e.burst = int64(c.Burst + e.rate)
		}
		e.interval = c.Interval
	case c.Mode&hlBytes != 0:
		e.credit = hlCapBytes
		e.cost = uint64(user2creditsByte(uint32(c.Avg)))
		e.creditCap = c.Burst
	default:
		e.credit = user2credits(c.Avg * c.Burst)
		e.cost = user2credits(c.Avg)
		e.creditCap = e.credit
	}
}

// rateinfoRecalc is rateinfo_recalc (revision 3).
func (t *hlTable) rateinfoRecalc(e *hlEntry, now uint64) {
	delta := now - e.prev
	if delta == 0 {
		return
	}
	mode := t.cfg.Mode
	if mode&hlRateMatch != 0 {
		interval := uint64(e.interval) * kern.HZ
		if delta < interval {
			return
		}
		e.prev = now
		e.prevWindow = 0
		if e.currentRate*interval > delta*e.rate {
			e.prevWindow = 1
		}
		e.currentRate = 0
		return
	}
	e.prev = now
	var cap uint64
	if mode&hlBytes != 0 {
		old := e.credit
		e.credit += hlCPJBytes * delta
		cap = hlCapBytes
		if old >= e.credit { // overflow
			e.credit = cap
			return
		}
	} else {
		e.credit += delta * hlCPJ
		cap = e.creditCap
	}
	if e.credit > cap {
		e.credit = cap
	}
}

// byteCost is hashlimit_byte_cost: the packet's cost in credits, refilling
// the bucket from the burst counter when it runs dry.
func byteCost(length int, e *hlEntry) uint64 {
	tmp := (uint64(uint32(length))>>hlByteShift + 1) * e.cost
	if tmp > hlCapBytes {
		tmp = hlCapBytes
	}
	if e.credit < tmp && e.creditCap != 0 {
		e.creditCap--
		e.credit = hlCapBytes
	}
	return uint64(uint32(tmp))
}

// gc is htable_gc, run every gc-interval ms from the table's first use:
// the runs missed since the last packet happen now, each dropping the
// entries expired at its time.
func (t *hlTable) gc(now uint64) {
	if !t.started {
		t.started = true
		t.nextGC = now + kern.MsecsToJiffies(t.cfg.GCInterval)
		return
	}
	if !kern.TimeAfterEq(now, t.nextGC) {
		return
	}
	step := kern.MsecsToJiffies(t.cfg.GCInterval)
	if step == 0 {
		step = 1
	}
	last := t.nextGC + (now-t.nextGC)/step*step
	for k, e := range t.entries {
		if kern.TimeAfterEq(last, e.expires) {
			delete(t.entries, k)
		}
	}
	t.nextGC = last + step
}

// table is the rule's table: the host's by name and family, else the
// rule's own.
func (h *Hashlimit) table(st *xtables.PacketState) *hlTable {
	if s := sharedOf(st); s != nil {
		if h.shared == s && h.state != nil {
			return h.state
		}
		if s.hashlimit == nil {
			s.hashlimit = make(map[hlTableKey]*hlTable)
		}
		k := hlTableKey{h.Name, st.Family}
		t := s.hashlimit[k]
		if t == nil {
			t = newHlTable(h, st.Family)
			s.hashlimit[k] = t
		}
		h.shared, h.state, h.fam = s, t, st.Family
		return t
	}
	if h.state == nil || h.shared != nil {
		h.state, h.shared, h.fam = newHlTable(h, st.Family), nil, st.Family
	}
	return h.state
}

// MatchPacket is hashlimit_mt_common: find or make the flow's bucket,
// refill it for the jiffies gone by, and take the packet's cost from it.
// A packet under the limit matches (--hashlimit-upto); over it, the
// inverse (--hashlimit-above). A flow the full table has no room for, or
// whose ports cannot be read, is dropped.
func (h *Hashlimit) MatchPacket(st *xtables.PacketState) bool {
	t := h.table(st)
	now := kern.Jiffies(st.Env.Now())
	t.gc(now)
	d, ok := t.initDst(st.Pkt)
	if !ok {
		st.HotDrop = true
		return false
	}
	if t.entries == nil {
		t.entries = make(map[hlDst]hlEntry)
	}
	e, found := t.entries[d]
	if !found {
		if uint32(len(t.entries)) >= t.max {
			st.HotDrop = true
			return false
		}
		e.expires = now + kern.MsecsToJiffies(t.cfg.Expire)
		t.rateinfoInit(&e, now)
	} else {
		e.expires = now + kern.MsecsToJiffies(t.cfg.Expire)
		t.rateinfoRecalc(&e, now)
	}
	under := h.take(&e, len(st.Pkt.Data))
	t.entries[d] = e
	if under {
		return h.Mode&hlInvert == 0
	}
	return h.Mode&hlInvert != 0
}

// take charges the packet; true when it is under the limit. The rule's
// own mode decides how, as in the kernel.
func (h *Hashlimit) take(e *hlEntry, length int) bool {
	if h.Mode&hlRateMatch != 0 {
		cost := uint64(1)
		if h.Mode&hlBytes != 0 {
			cost = uint64(length)
		}
		e.currentRate += cost
		return e.prevWindow == 0 && e.currentRate <= uint64(e.burst) // u64 against s64: unsigned
	}
	var cost uint64
	if h.Mode&hlBytes != 0 {
		cost = byteCost(length, e)
	} else {
		cost = e.cost
	}
	if e.credit >= cost {
		e.credit -= cost
		return true
	}
	return false
}
