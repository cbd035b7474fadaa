package ipset

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// The sets as the packet path uses them: the set match tests a packet's
// element (ip_set_test), the SET target adds and deletes it (ip_set_add,
// ip_set_del) and maps an element's skb info onto the packet. The element
// is taken from the packet as the types' kadt functions take it
// (ip_set_get_ip4_port and friends), one dimension after the other, each
// from the source or the destination side as the rule says. Testing
// allocates nothing.

// IPSET_FLAG_* of the rule (struct ip_set_adt_opt cmdflags).
const (
	FlagExist             = 1 << 0
	FlagSkipCounterUpdate = 1 << 3
	FlagSkipSubcounters   = 1 << 4
	FlagMatchCounters     = 1 << 5
	FlagReturnNomatch     = 1 << 7
	FlagMapSkbMark        = 1 << 8
	FlagMapSkbPrio        = 1 << 9
	FlagMapSkbQueue       = 1 << 10
)

// IPSET_COUNTER_* comparisons.
const (
	CounterNone = iota
	CounterEQ
	CounterNE
	CounterLT
	CounterGT
)

// NoTimeout is IPSET_NO_TIMEOUT: an add that gives no timeout takes the
// set's.
const NoTimeout = ^uint32(0)

// maxTimeout is IPSET_MAX_TIMEOUT in seconds.
const maxTimeout = 2147483

// PacketOpt is struct ip_set_adt_opt as the set match and the SET target
// fill it (ADT_OPT).
type PacketOpt struct {
	Dim   uint8  // dimensions the rule gives
	Flags uint8  // bit i (1..Dim): dimension i is the source side
	Cmd   uint32 // Flag* of the rule
	// Timeout is the add's element timeout in seconds (NoTimeout: the
	// set's default).
	Timeout uint32
	// Counter comparisons (with FlagMatchCounters).
	Packets, Bytes     uint64
	PacketsOp, BytesOp uint8
	// Now is the host's clock in Unix seconds, for element timeouts.
	Now int64
	// Sets looks up the members of a list:set ("ipset" objects).
	Sets xtables.ObjectStore
}

// SkbInfo is the skb extension of the element that matched (--map-set).
type SkbInfo struct {
	Mark, Mask uint32
	Prio       uint32
	Queue      uint16
}

// familyOK is the dimension and family check of ip_set_test/add/del.
func (s *Set) familyOK(st *xtables.PacketState, o *PacketOpt) bool {
	if int(o.Dim) < len(s.Type.comps) {
		return false
	}
	f := s.IPSetFamily()
	return f == 0 || f == st.Family
}

// dirSrc says whether dimension i (0-based) is taken from the source.
func (o *PacketOpt) dirSrc(i int) bool { return o.Flags&(1<<(i+1)) != 0 }

// pktPort is ip_set_get_ip4_port / ip_set_get_ip6_port: the transport
// port (or ICMP type and code) and protocol; ok is false for a later
// fragment of a protocol with ports, or a header not all there.
func pktPort(st *xtables.PacketState, src bool) (port uint16, proto uint8, ok bool) {
	d := st.Pkt.Data
	var off int
	if st.Family == xtables.IPv6 {
		var fragged bool
		off, proto, fragged = ipv6SkipExthdr(d)
		if off < 0 || fragged {
			return 0, 0, false
		}
	} else {
		if len(d) < 20 {
			return 0, 0, false
		}
		proto = d[9]
		if proto == 0 {
			return 0, 0, false
		}
		off = int(d[0]&0xf) * 4
		if (uint16(d[6]&0x1f)<<8 | uint16(d[7])) != 0 {
			switch proto {
			case 6, 132, 17, 136, 1:
				return 0, 0, false
			}
			return 0, proto, true
		}
	}
	var need int
	switch proto {
	case 6:
		need = 20
	case 132:
		need = 12
	case 17, 136, 1, 58:
		need = 8
	default:
		return 0, proto, true
	}
	if off+need > len(d) {
		return 0, 0, false
	}
	h := d[off:]
	switch proto {
	case 1, 58:
		return uint16(h[0])<<8 | uint16(h[1]), proto, true
	}
	if src {
		return uint16(h[0])<<8 | uint16(h[1]), proto, true
	}
	return uint16(h[2])<<8 | uint16(h[3]), proto, true
}

// ipv6SkipExthdr is ipv6_skip_exthdr from the fixed header on: the
// transport offset and protocol, and whether the packet is a later
// fragment.
func ipv6SkipExthdr(d []byte) (off int, proto uint8, fragged bool) {
	if len(d) < 40 {
		return -1, 0, false
	}
	off, nh := 40, d[6]
	for {
		switch nh {
		case 0, 43, 44, 51, 60:
		case 59:
			return -1, 0, false
		default:
			return off, nh, false
		}
		if off+2 > len(d) {
			return -1, 0, false
		}
		var n int
		switch nh {
		case 44:
			if off+4 > len(d) {
				return -1, 0, false
			}
			if (uint16(d[off+2])<<8|uint16(d[off+3]))&^7 != 0 {
				return off, nh, true
			}
			n = 8
		case 51:
			n = (int(d[off+1]) + 2) << 2
		default:
			n = (int(d[off+1]) + 1) << 3
		}
		nh = d[off]
		off += n
	}
}

// maxElems is the most dimensions a set type has.
const maxElems = 3

// packetElem fills e with the element the packet gives the set (the
// types' kadt). netCidr gives the prefix length of each net dimension
// (the host length to test, the set's longest one to add or delete).
func (s *Set) packetElem(st *xtables.PacketState, o *PacketOpt, e *[maxElems]Comp, netCidr func(i int) int) bool {
	d := st.Pkt.Data
	var src, dst netip.Addr
	switch {
	case st.Family == xtables.IPv6 && len(d) >= 40:
		src, dst = netip.AddrFrom16([16]byte(d[8:24])), netip.AddrFrom16([16]byte(d[24:40]))
	case st.Family != xtables.IPv6 && len(d) >= 20:
		src, dst = netip.AddrFrom4([4]byte(d[12:16])), netip.AddrFrom4([4]byte(d[16:20]))
	default:
		return false
	}
	for i, k := range s.Type.comps {
		c := &e[i]
		*c = Comp{}
		isSrc := o.dirSrc(i)
		switch k {
		case compIP:
			a := dst
			if isSrc {
				a = src
			}
			c.Addr, c.Cidr = s.maskIP(a), s.bits()
		case compNet:
			a := dst
			if isSrc {
				a = src
			}
			c.Cidr = netCidr(i)
			c.Addr = maskAddr(a, c.Cidr)
		case compPort:
			port, proto, ok := pktPort(st, isSrc)
			if !ok {
				return false
			}
			if s.Type.kind == kindBitmap {
				// bitmap:port takes TCP and UDP ports only
				// (ip_set_get_ip_port); its elements have no protocol.
				if proto != 6 && proto != 17 {
					return false
				}
				proto = 6
			}
			c.Port, c.Proto = port, proto
		case compMAC:
			if len(st.MAC) < 14 {
				return false
			}
			if isSrc {
				c.MAC = [6]byte(st.MAC[6:12])
			} else {
				c.MAC = [6]byte(st.MAC[0:6])
			}
			if c.MAC == [6]byte{} {
				return false
			}
		case compIface:
			c.Iface = st.Out
			if isSrc {
				c.Iface = st.In
			}
			if c.Iface == "" {
				return false
			}
		default:
			return false
		}
	}
	return s.inRange(e[:len(s.Type.comps)])
}

// hasNet reports whether the type has a net dimension (and so nomatch
// elements: IPSET_TYPE_NOMATCH).
func (s *Set) hasNet() bool {
	for _, k := range s.Type.comps {
		if k == compNet {
			return true
		}
	}
	return false
}

func expired(e *Entry, now int64) bool { return e.Expires != 0 && e.Expires <= now }

func counterMatch(v, want uint64, op uint8) bool {
	switch op {
	case CounterEQ:
		return v == want
	case CounterNE:
		return v != want
	case CounterLT:
		return v < want
	case CounterGT:
		return v > want
	}
	return true
}

// lessSpecific reports whether a's prefix lengths come after b's in the
// order test_cidrs tries them (longest first, dimension by dimension).
func lessSpecific(a, b *Entry) bool { return moreSpecific(b, a) }

// matchExtensions is ip_set_match_extensions: an expired element does not
// match; the counters count the packet (unless told not to) and then meet
// the rule's comparisons.
func (s *Set) matchExtensions(e *Entry, st *xtables.PacketState, o *PacketOpt) bool {
	if s.HasTimeout && expired(e, o.Now) {
		return false
	}
	if s.Counters {
		if o.Cmd&FlagSkipCounterUpdate == 0 {
			e.Packets++
			e.Bytes += uint64(len(st.Pkt.Data))
		}
		if o.Cmd&FlagMatchCounters != 0 &&
			!(counterMatch(e.Packets, o.Packets, o.PacketsOp) && counterMatch(e.Bytes, o.Bytes, o.BytesOp)) {
			return false
		}
	}
	return true
}

// TestPacket is ip_set_test for the packet: whether its element is in
// the set (with --return-nomatch, whether it is a nomatch element), and
// the element's skb info. Elements of net types are tried from the
// longest prefixes on, as the kernel's test_cidrs does; the first that is
// not expired and passes the counter comparisons decides.
func (s *Set) TestPacket(st *xtables.PacketState, o *PacketOpt) (bool, SkbInfo) {
	if st.Pkt == nil || !s.familyOK(st, o) {
		return false, SkbInfo{}
	}
	if s.Type.kind == kindList {
		return s.testList(st, o)
	}
	var e [maxElems]Comp
	host := s.bits()
	if !s.packetElem(st, o, &e, func(int) int { return host }) {
		return false, SkbInfo{}
	}
	elem := e[:len(s.Type.comps)]
	if s.Type.kind == kindHash && isNull(s, elem) {
		return false, SkbInfo{}
	}
	if s.Type.Name == "bitmap:ip,mac" {
		return s.testIPMAC(st, o, elem)
	}
	var last *Entry
	for {
		var best *Entry
		for _, x := range s.Entries {
			if !s.matches(x, elem) || last != nil && !lessSpecific(x, last) {
				continue
			}
			if best == nil || moreSpecific(x, best) {
				best = x
			}
		}
		if best == nil {
			return false, SkbInfo{}
		}
		last = best
		if !s.matchExtensions(best, st, o) {
			continue
		}
		ok := !best.NoMatch
		if o.Cmd&FlagReturnNomatch != 0 && s.hasNet() {
			ok = !ok // --return-nomatch inverts the matched element
		}
		return ok, best.skbInfo()
	}
}

// testIPMAC is bitmap_ipmac_do_test: the address's element must carry
// the packet's MAC; one added without a MAC takes this packet's (the
// kernel answers -EAGAIN and ip_set_test adds it) and matches.
func (s *Set) testIPMAC(st *xtables.PacketState, o *PacketOpt, elem []Comp) (bool, SkbInfo) {
	for _, x := range s.Entries {
		if x.Comps[0].Addr != elem[0].Addr {
			continue
		}
		if x.Comps[1].NoMAC {
			x.Comps[1].MAC, x.Comps[1].NoMAC = elem[1].MAC, false
			x.key = s.entryKey(x.Comps)
			return true, x.skbInfo()
		}
		if x.Comps[1].MAC != elem[1].MAC || !s.matchExtensions(x, st, o) {
			return false, SkbInfo{}
		}
		return true, x.skbInfo()
	}
	return false, SkbInfo{}
}

func (e *Entry) skbInfo() SkbInfo {
	var i SkbInfo
	if e.hasMark {
		i.Mark, i.Mask = e.SkbMark, e.SkbMask
	}
	if e.hasPrio {
		i.Prio = e.SkbPrio
	}
	if e.hasQueue {
		i.Queue = e.SkbQueue
	}
	return i
}

// member looks up a list:set member.
func (o *PacketOpt) member(name string) *Set {
	if o.Sets == nil {
		return nil
	}
	v, ok := o.Sets.Lookup("ipset", name)
	if !ok {
		return nil
	}
	m, _ := v.(*Set)
	return m
}

// testList is list_set_ktest: the members in order, the first that
// matches deciding; the members' own counters are not compared.
func (s *Set) testList(st *xtables.PacketState, o *PacketOpt) (bool, SkbInfo) {
	sub := *o
	sub.Cmd &^= FlagMatchCounters
	if o.Cmd&FlagSkipSubcounters != 0 {
		sub.Cmd |= FlagSkipCounterUpdate
	}
	for _, x := range s.Entries {
		if s.HasTimeout && expired(x, o.Now) {
			continue
		}
		m := o.member(x.Comps[0].Name)
		if m == nil || m.Type.kind == kindList {
			continue
		}
		ok, info := m.TestPacket(st, &sub)
		if !ok {
			continue
		}
		if s.matchExtensions(x, st, o) {
			return true, info
		}
	}
	return false, SkbInfo{}
}

// adtCidr is the prefix length an add or delete from a packet gives a
// net dimension: the set's longest (h->nets[0]), the host length when
// the set is empty (INIT_CIDR).
func (s *Set) adtCidr(i int) int {
	best := 0
	for _, x := range s.Entries {
		if c := x.Comps[i].Cidr; c > best {
			best = c
		}
	}
	if best == 0 {
		return s.bits()
	}
	return best
}

// AddPacket is ip_set_add for the packet (the SET target's --add-set):
// a new element, with the timeout of the rule or of the set and the
// packet counted; an existing one is replaced only with --exist or when
// it has expired. It reports whether the set changed.
func (s *Set) AddPacket(st *xtables.PacketState, o *PacketOpt) bool {
	if st.Pkt == nil || !s.familyOK(st, o) {
		return false
	}
	if s.Type.kind == kindList {
		for _, x := range s.Entries {
			if m := o.member(x.Comps[0].Name); m != nil && m.Type.kind != kindList && m.AddPacket(st, o) {
				return true
			}
		}
		return false
	}
	var e [maxElems]Comp
	if !s.packetElem(st, o, &e, s.adtCidr) {
		return false
	}
	n := len(s.Type.comps)
	comps := append([]Comp(nil), e[:n]...)
	if s.Type.kind == kindHash && isNull(s, comps) {
		return false
	}
	ne := &Entry{Comps: comps, key: s.entryKey(comps)}
	if s.HasTimeout {
		t := o.Timeout
		if t == NoTimeout {
			t = s.Timeout
		} else if t > maxTimeout {
			t = maxTimeout // normalised to fit into jiffies (set_target_v3)
		}
		if t > 0 {
			ne.Expires = o.Now + int64(t)
		}
	}
	if s.Counters {
		ne.Packets, ne.Bytes = 1, uint64(len(st.Pkt.Data))
	}
	i := s.find(ne.key)
	if s.Type.Name == "bitmap:ip,mac" {
		// A bitmap's element is its address: one added without a MAC
		// takes the packet's.
		i = -1
		for j, x := range s.Entries {
			if x.Comps[0].Addr == comps[0].Addr {
				i = j
				if x.Comps[1].NoMAC {
					x.Comps[1].MAC, x.Comps[1].NoMAC = comps[1].MAC, false
					x.key = s.entryKey(x.Comps)
					return true
				}
			}
		}
	}
	if i >= 0 {
		if o.Cmd&FlagExist == 0 && !(s.HasTimeout && expired(s.Entries[i], o.Now)) {
			return false
		}
		s.Entries[i] = ne // extensions reset, the comment dropped
		return true
	}
	if s.Type.kind == kindHash && uint32(len(s.Entries)) >= s.MaxElem {
		if !s.ForceAdd || len(s.Entries) == 0 {
			return false
		}
		s.Entries = s.Entries[1:]
	}
	s.Entries = append(s.Entries, ne)
	return true
}

// DelPacket is ip_set_del for the packet (the SET target's --del-set).
// It reports whether the set changed.
func (s *Set) DelPacket(st *xtables.PacketState, o *PacketOpt) bool {
	if st.Pkt == nil || !s.familyOK(st, o) {
		return false
	}
	if s.Type.kind == kindList {
		for _, x := range s.Entries {
			if m := o.member(x.Comps[0].Name); m != nil && m.Type.kind != kindList && m.DelPacket(st, o) {
				return true
			}
		}
		return false
	}
	var e [maxElems]Comp
	if !s.packetElem(st, o, &e, s.adtCidr) {
		return false
	}
	elem := e[:len(s.Type.comps)]
	for i, x := range s.Entries {
		if s.sameElem(x, elem) {
			s.Entries = append(s.Entries[:i], s.Entries[i+1:]...)
			return true
		}
	}
	return false
}

// sameElem reports whether x is exactly the element c (prefix lengths
// included).
func (s *Set) sameElem(x *Entry, c []Comp) bool {
	for i := range c {
		if x.Comps[i].Cidr != c[i].Cidr && s.Type.comps[i] == compNet {
			return false
		}
	}
	return s.matches(x, c)
}
