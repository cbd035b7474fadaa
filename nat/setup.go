package nat

import (
	"errors"
	"net/netip"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Manip is which end of a connection a mapping changes (enum
// nf_nat_manip_type).
type Manip uint8

const (
	Src Manip = iota // source NAT: SNAT, MASQUERADE
	Dst              // destination NAT: DNAT, REDIRECT
)

func (m Manip) String() string {
	if m == Dst {
		return "DST"
	}
	return "SRC"
}

// ManipOf is HOOK2MANIP: source NAT happens in POSTROUTING and INPUT,
// destination NAT in PREROUTING and OUTPUT.
func ManipOf(hook int) Manip {
	if hook == xtables.HookPostrouting || hook == xtables.HookInput {
		return Src
	}
	return Dst
}

func doneBit(m Manip) uint32 {
	if m == Src {
		return xtables.IPSSrcNATDone
	}
	return xtables.IPSDstNATDone
}

func natBit(m Manip) uint32 {
	if m == Src {
		return xtables.IPSSrcNAT
	}
	return xtables.IPSDstNAT
}

// Initialized is nf_nat_initialized: the connection's mapping of this
// kind is set up (by a rule, or a null binding). The nat table is walked
// for a NEW (or RELATED, non-ICMP) packet only while it is not.
func Initialized(c *conntrack.Conn, m Manip) bool { return c.Status()&doneBit(m) != 0 }

// ErrInitialized is returned by Setup for a mapping already set up (the
// kernel warns and drops the packet).
var ErrInitialized = errors.New("nat: mapping already set up")

// NAT range flags of xtables (NF_NAT_RANGE_*).
const (
	rangeMapIPs     = xtables.NATRangeMapIPs
	rangeProtoSpec  = xtables.NATRangeProtoSpecified
	rangePersistent = xtables.NATRangePersistent
	rangeProtoOff   = xtables.NATRangeProtoOffset
	rangeRandomAll  = xtables.NATRangeProtoRandom | xtables.NATRangeProtoRandomFully
)

// Setup is nf_nat_setup_info: it chooses the mapping of an unconfirmed
// connection on its first packet, within range r (for MASQUERADE and
// REDIRECT the caller puts the chosen address in r with MAP_IPS, as
// nf_nat_masquerade_ipv4 and nf_nat_redirect do), and changes the reply
// tuple so that replies are found. A confirmed connection is left alone.
//
// rnd is the host's random source: it stands for get_random_u16 where
// nf_nat_l4proto_unique_tuple picks a port (or ICMP id) at random, which
// it does for source NAT when the original port is taken, for any NAT
// with --random or --random-fully, and again for each smaller round when
// a whole round of attempts is taken. The kernel's choice is min +
// r % range_size, trying r+1, r+2 … next: a twin whose rnd returns the
// r the kernel drew makes the same choice. Expiry of the entries NAT
// looks at is judged at t.Now(), the time of the packet being processed.
func Setup(t *conntrack.Table, c *conntrack.Conn, m Manip, r xtables.NATRange, rnd func() uint32) error {
	if c.Confirmed() {
		return nil
	}
	if Initialized(c, m) {
		return ErrInitialized
	}
	// What we have is the inverse of the reply: the original tuple
	// after any manipulation already made (a DNAT before this SNAT).
	curr, _ := conntrack.Invert(c.Tuple(conntrack.Reply))
	nt := uniqueTuple(t, curr, &r, c, m, rnd)
	if nt != curr {
		reply, _ := conntrack.Invert(nt)
		c.SetReplyTuple(reply)
		c.SetStatus(natBit(m))
	}
	if m == Src {
		t.AddSourceBinding(c)
	}
	c.SetStatus(doneBit(m))
	return nil
}

// NullBinding is nf_nat_alloc_null_binding: a connection that passes a
// NAT hook without a NAT rule gets the identity mapping there, which
// still moves its port when the tuple would clash with another
// connection's mapping (a local connection using a port an SNAT mapping
// took).
func NullBinding(t *conntrack.Table, c *conntrack.Conn, hook int, rnd func() uint32) error {
	m := ManipOf(hook)
	reply := c.Tuple(conntrack.Reply)
	ip := reply.Src
	if m == Src {
		ip = reply.Dst
	}
	return Setup(t, c, m, xtables.NATRange{Flags: rangeMapIPs, MinAddr: ip, MaxAddr: ip}, rnd)
}

// uniqueTuple is get_unique_tuple.
func uniqueTuple(t *conntrack.Table, orig conntrack.Tuple, r *xtables.NATRange, c *conntrack.Conn, m Manip, rnd func() uint32) conntrack.Tuple {
	// 1) A source already mapped keeps its mapping if that is unique
	// and in range (source NAT only).
	if m == Src && r.Flags&rangeRandomAll == 0 {
		if inRange(orig, r) {
			if !usedTupleNew(t, orig, c) {
				return orig
			}
		} else if res, ok := findAppropriateSrc(t, c.Zone(), orig, r); ok {
			if !usedTuple(t, res, c) {
				return res
			}
		}
	}
	// 2) The least used address in the range.
	tuple := orig
	findBestIPsProto(c.Zone(), &tuple, r, m)
	// 3) Keep the port if it is in range and unique.
	if r.Flags&rangeRandomAll == 0 {
		if r.Flags&rangeProtoSpec != 0 {
			if r.Flags&rangeProtoOff == 0 && l4InRange(tuple, m, r.MinPort, r.MaxPort) &&
				(r.MinPort == r.MaxPort || !usedTuple(t, tuple, c)) {
				return tuple
			}
		} else if !usedTuple(t, tuple, c) {
			return tuple
		}
	}
	// Last chance: the protocol finds a unique port.
	l4UniqueTuple(t, &tuple, r, m, c, rnd)
	return tuple
}

// usedTuple is nf_nat_used_tuple: another connection's reply would be
// this mapping's reply.
func usedTuple(t *conntrack.Table, tp conntrack.Tuple, c *conntrack.Conn) bool {
	reply, _ := conntrack.Invert(tp)
	return t.TupleTaken(reply, c, t.Now())
}

// usedTupleNew is nf_nat_used_tuple_new: for the tuple as it came (no
// NAT), a clash with a connection that is the reverse of this one (both
// directions started at once, on another CPU) is left to confirmation.
func usedTupleNew(t *conntrack.Table, tp conntrack.Tuple, c *conntrack.Conn) bool {
	const usesNAT = xtables.IPSNATMask | xtables.IPSSeqAdjust
	if !usedTuple(t, tp, c) {
		return false
	}
	if !conntrack.AllowClash(c.Proto()) || c.Status()&usesNAT != 0 {
		return true
	}
	o, dir := t.Find(tp, c.Zone(), t.Now())
	if o == nil {
		reply, _ := conntrack.Invert(tp)
		if o, dir = t.Find(reply, c.Zone(), t.Now()); o == nil {
			return false
		}
	}
	if dir != conntrack.Reply || o.Status()&usesNAT != 0 {
		return true
	}
	return !(o.Tuple(conntrack.Original) == c.Tuple(conntrack.Reply) &&
		o.Tuple(conntrack.Reply) == c.Tuple(conntrack.Original))
}

// usedTupleHarder is nf_nat_used_tuple_harder: in the last attempts for
// a new TCP connection, a clashing connection in TIME_WAIT (or later)
// that was source-NATed and whose sequence the new one has passed is
// evicted to free its port.
func usedTupleHarder(t *conntrack.Table, tp conntrack.Tuple, c *conntrack.Conn, attemptsLeft uint32) bool {
	reply, _ := conntrack.Invert(tp)
	if attemptsLeft > maxAttempts/4 || tp.Proto != packet.ProtoTCP || c.TCPState() != conntrack.TCPSynSent {
		return t.TupleTaken(reply, c, t.Now())
	}
	o, dir := t.Find(reply, c.Zone(), t.Now())
	if o == nil {
		return false
	}
	if dir == conntrack.Original || o == c {
		return true
	}
	st := o.Status()
	// nf_nat_may_kill
	if o.TCPState() < conntrack.TCPTimeWait || st&(xtables.IPSFixedTimeout|xtables.IPSDying) != 0 ||
		st&xtables.IPSSrcNAT == 0 {
		return true
	}
	// nf_seq_has_advanced: the reverse direction would send to the new
	// source; the old entry's packets must look invalid.
	if int32(c.TCPEnd(0)-o.TCPEnd(0)) <= 0 {
		return true
	}
	t.Kill(o)
	return st&(xtables.IPSOffload|xtables.IPSHWOffload) != 0
}

// inRange is nf_in_range: would source-mapping this tuple meet the range.
func inRange(tp conntrack.Tuple, r *xtables.NATRange) bool {
	if r.Flags&rangeMapIPs != 0 && !addrInRange(tp.Src, r) {
		return false
	}
	if r.Flags&rangeProtoSpec == 0 {
		return true
	}
	return l4InRange(tp, Src, r.MinPort, r.MaxPort)
}

// addrInRange is nf_nat_inet_in_range.
func addrInRange(a netip.Addr, r *xtables.NATRange) bool {
	return a.Compare(r.MinAddr) >= 0 && a.Compare(r.MaxAddr) <= 0
}

// l4InRange is l4proto_in_range: is the mapped part of the tuple (the
// ICMP id, or the port NAT changes) within [min, max].
func l4InRange(tp conntrack.Tuple, m Manip, min, max uint16) bool {
	switch tp.Proto {
	case packet.ProtoICMP, packet.ProtoICMPv6:
		return tp.SrcPort >= min && tp.SrcPort <= max
	case packet.ProtoTCP, packet.ProtoUDP, protoUDPLite, protoSCTP, protoGRE:
		port := tp.DstPort
		if m == Src {
			port = tp.SrcPort
		}
		return port >= min && port <= max
	}
	return true
}

const (
	protoGRE     = 47
	protoSCTP    = 132
	protoUDPLite = 136
)

// findAppropriateSrc is find_appropriate_src: the newest connection from
// the same source whose mapping, applied to this tuple, is in range.
func findAppropriateSrc(t *conntrack.Table, zone uint16, tp conntrack.Tuple, r *xtables.NATRange) (res conntrack.Tuple, ok bool) {
	t.EachSameSource(tp, zone, func(c *conntrack.Conn) bool {
		// The source part from the reply tuple, the rest as asked.
		x, _ := conntrack.Invert(c.Tuple(conntrack.Reply))
		x.Dst, x.DstPort, x.Proto = tp.Dst, tp.DstPort, tp.Proto
		if inRange(x, r) {
			res, ok = x, true
			return true
		}
		return false
	})
	return res, ok
}

// findBestIPsProto is find_best_ips_proto: the address of a range of more
// than one is chosen by a hash of the source and destination addresses
// (of the source alone with --persistent), so a client keeps its
// address; there is no randomness here.
func findBestIPsProto(zone uint16, tp *conntrack.Tuple, r *xtables.NATRange, m Manip) {
	if r.Flags&rangeMapIPs == 0 {
		return
	}
	var_ := &tp.Dst
	if m == Src {
		var_ = &tp.Src
	}
	if r.MinAddr == r.MaxAddr {
		*var_ = r.MinAddr
		return
	}
	v6 := tp.Src.Is6()
	srcW, dstW := words(tp.Src), words(tp.Dst)
	minW, maxW := words(r.MinAddr), words(r.MaxAddr)
	max := 0
	if v6 {
		max = 3
	}
	// jhash2 over the source address as the CPU loads it (union
	// nf_inet_addr: 4 words, zeros after an IPv4 address).
	var k [4]uint32
	for i := range k {
		k[i] = leWord(srcW[i])
	}
	initval := uint32(0)
	if r.Flags&rangePersistent == 0 {
		initval = leWord(dstW[max]) ^ uint32(zone)
	}
	j := kern.Jhash2(k[:], initval)
	var out [4]uint32
	full := false
	for i := 0; i <= max; i++ {
		var minip, dist uint32
		if !full {
			minip = minW[i]
			dist = maxW[i] - minip + 1
		} else {
			minip, dist = 0, ^uint32(0)
		}
		out[i] = minip + kern.ReciprocalScale(j, dist)
		if out[i] != maxW[i] {
			full = true
		}
		if r.Flags&rangePersistent == 0 {
			j ^= leWord(dstW[i])
		}
	}
	*var_ = fromWords(out, v6)
}

// words are an address's 32-bit words in host order (ntohl of each).
func words(a netip.Addr) (w [4]uint32) {
	if a.Is4() {
		b := a.As4()
		w[0] = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		return w
	}
	b := a.As16()
	for i := range w {
		w[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
	}
	return w
}

// leWord is the raw u32 a little-endian CPU loads from the network-order
// bytes of host-order word w.
func leWord(w uint32) uint32 {
	return w>>24 | w>>8&0xff00 | w<<8&0xff0000 | w<<24
}

func fromWords(w [4]uint32, v6 bool) netip.Addr {
	if !v6 {
		return netip.AddrFrom4([4]byte{byte(w[0] >> 24), byte(w[0] >> 16), byte(w[0] >> 8), byte(w[0])})
	}
	var b [16]byte
	for i, x := range w {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(x>>24), byte(x>>16), byte(x>>8), byte(x)
	}
	return netip.AddrFrom16(b)
}

// maxAttempts is NF_NAT_MAX_ATTEMPTS.
const maxAttempts = 128

// l4UniqueTuple is nf_nat_l4proto_unique_tuple: a port (ICMP id) in the
// range whose tuple is unused, starting from a random offset.
func l4UniqueTuple(t *conntrack.Table, tp *conntrack.Tuple, r *xtables.NATRange, m Manip, c *conntrack.Conn, rnd func() uint32) {
	var keyptr *uint16
	var min, rangeSize uint32
	switch tp.Proto {
	case packet.ProtoICMP, packet.ProtoICMPv6:
		// The id is the same in either direction.
		keyptr = &tp.SrcPort
		if r.Flags&rangeProtoSpec == 0 {
			min, rangeSize = 0, 65536
		} else {
			min = uint32(r.MinPort)
			rangeSize = uint32(r.MaxPort) - uint32(r.MinPort) + 1
		}
	case protoGRE:
		// Without a PPTP master connection GRE keys are not changed.
		return
	case packet.ProtoUDP, protoUDPLite, packet.ProtoTCP, protoSCTP:
		keyptr = &tp.DstPort
		if m == Src {
			keyptr = &tp.SrcPort
		}
		if r.Flags&rangeProtoSpec == 0 {
			// A destination port cannot change without a range.
			if m == Dst {
				return
			}
			switch p := *keyptr; {
			case p < 512:
				// Loose convention: >= 512 is credential passing.
				min, rangeSize = 1, 511
			case p < 1024:
				min, rangeSize = 600, 1023-600+1
			default:
				min, rangeSize = 1024, 65535-1024+1
			}
		} else {
			lo, hi := uint32(r.MinPort), uint32(r.MaxPort)
			if hi < lo {
				lo, hi = hi, lo
			}
			min, rangeSize = lo, hi-lo+1
		}
	default:
		return
	}
	var off uint16
	switch {
	case r.Flags&rangeProtoOff != 0:
		off = *keyptr - r.BasePort
	case r.Flags&rangeRandomAll != 0 || m != Dst:
		off = uint16(rnd()) // get_random_u16
	}
	attempts := rangeSize
	if attempts > maxAttempts {
		attempts = maxAttempts
	}
	// Searching the whole range risks a soft lockup when all is taken:
	// after a round of attempts, try a smaller one from a new offset.
	for {
		for i := uint32(0); i < attempts; i, off = i+1, off+1 {
			*keyptr = uint16(min + uint32(off)%rangeSize)
			if !usedTupleHarder(t, *tp, c, attempts-i) {
				return
			}
		}
		if attempts >= rangeSize || attempts < 16 {
			return
		}
		attempts /= 2
		off = uint16(rnd())
	}
}
