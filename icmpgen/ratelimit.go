package icmpgen

import "net/netip"

// Limiter is a host's ICMP rate limiting (one per network namespace): the
// global token bucket shared by ICMP and ICMPv6 (icmp_global_allow and
// icmp_global_consume, net.ipv4.icmp_msgs_per_sec / icmp_msgs_burst) and
// the per-destination buckets of the inet_peer cache
// (inet_peer_xrlim_allow with net.ipv4.icmp_ratelimit and
// net.ipv6.icmp.ratelimit), both limited to the types of the rate masks.
//
// The kernel counts in jiffies (HZ per second, 250 in common builds); the
// Limiter converts the caller's nanosecond clock the same way, so bursts
// and refills land on the same messages as in the kernel. Where the
// kernel draws a random number (the global bucket consumes 0, 1 or 2
// credits per message, get_random_u32_below(3)) it calls Rand, which a
// twin host seeds; a host that wants no randomness may return 1 always.
// Peers live as long as they could still limit (a bucket refilled to its
// burst is forgotten: a new peer starts full, as inet_getpeer's does), so
// memory stays bounded by the active destinations.
type Limiter struct {
	HZ int64 // jiffies per second; 0 means 250
	// Global bucket: net.ipv4.icmp_msgs_per_sec (1000) and
	// icmp_msgs_burst (50).
	MsgsPerSec, MsgsBurst int
	// Per-peer intervals in nanoseconds: net.ipv4.icmp_ratelimit (1 s) and
	// net.ipv6.icmp.ratelimit (100 ms in 6.x).
	RateLimit4, RateLimit6 int64
	// Rate masks: net.ipv4.icmp_ratemask (0x1818: destination
	// unreachable, source quench, time exceeded, parameter problem) and
	// net.ipv6.icmp.ratemask (types 0-1 and 3-127: every error but packet
	// too big), bit i for type i.
	RateMask4 uint32
	RateMask6 [4]uint64
	// Rand returns a random number for the global bucket's consumption.
	Rand func() uint32

	credit  int64
	stamp   int64 // jiffies of the last refill
	started bool
	peers   map[netip.Addr]*xrlim
	calls   uint64
}

// xrlim is an inet_peer's rate_tokens / rate_last.
type xrlim struct {
	tokens, last int64
}

// NewLimiter returns a Limiter with the kernel's default sysctls.
func NewLimiter(rand func() uint32) *Limiter {
	l := &Limiter{HZ: 250, MsgsPerSec: 1000, MsgsBurst: 50,
		RateLimit4: 1e9, RateLimit6: 1e8, RateMask4: 0x1818, Rand: rand}
	l.RateMask6 = [4]uint64{^uint64(0) &^ (1 << 2), ^uint64(0), 0, 0}
	return l
}

// Msg describes an ICMP message about to be sent, for Allow.
type Msg struct {
	V6         bool
	Type, Code uint8
	// Dst is the message's destination (the peer).
	Dst netip.Addr
	// InLoopback says the packet being answered arrived on (or, at OUTPUT,
	// is attached to) the loopback device: the global bucket is skipped
	// for errors (__icmp_send, icmp6_send), not for IPv4 echo replies.
	InLoopback bool
	// OutLoopback says the message's route leaves through the loopback
	// device: no per-peer limit (icmpv4_xrlim_allow, icmpv6_xrlim_allow).
	OutLoopback bool
	// Echo says the message is an echo reply (icmp_reply).
	Echo bool
	// PrefixLen is the length of the IPv6 route to Dst: wider prefixes
	// get shorter intervals (icmpv6_xrlim_allow: ratelimit >> ((128 -
	// len) >> 5)).
	PrefixLen int
}

func (l *Limiter) hz() int64 {
	if l.HZ <= 0 {
		return 250
	}
	return l.HZ
}

// masked is icmpv4_mask_allow / icmpv6_mask_allow inverted: whether the
// type is subject to limiting.
func (l *Limiter) masked(m *Msg) bool {
	if m.V6 {
		return int(m.Type) < 256 && l.RateMask6[m.Type>>6]&(1<<(m.Type&63)) != 0
	}
	if m.Type > nrICMPTypes || m.Type == ICMPDestUnreach && m.Code == ICMPFragNeeded {
		return false
	}
	return l.RateMask4&(1<<m.Type) != 0
}

// Allow reports whether the message may be sent at time now
// (nanoseconds), and accounts for it if so.
func (l *Limiter) Allow(now int64, m Msg) bool {
	j := now * l.hz() / 1e9
	if !l.masked(&m) {
		return true
	}
	if !(m.InLoopback && !m.Echo) && !l.globalAllow(j) {
		return false
	}
	// From here the kernel applies the peer limit (apply_ratelimit).
	if !m.OutLoopback && !l.peerAllow(j, &m) {
		return false
	}
	l.consume()
	return true
}

// globalAllow is icmp_global_allow.
func (l *Limiter) globalAllow(j int64) bool {
	if l.credit > 0 {
		return true
	}
	hz := l.hz()
	delta := hz
	if l.started {
		delta = min(j-l.stamp, hz)
	}
	if delta < hz/50 {
		return false
	}
	incr := int64(l.MsgsPerSec) * delta / hz
	if incr == 0 {
		return false
	}
	l.stamp, l.started = j, true
	l.credit = min(l.credit+incr, int64(l.MsgsBurst))
	return true
}

// consume is icmp_global_consume: 0, 1 or 2 credits (it may go negative).
func (l *Limiter) consume() {
	var r uint32 = 1
	if l.Rand != nil {
		r = l.Rand() % 3
	}
	l.credit -= int64(r)
}

// peerAllow is inet_peer_xrlim_allow with the family's interval.
func (l *Limiter) peerAllow(j int64, m *Msg) bool {
	hz := l.hz()
	var tmo int64
	if m.V6 {
		tmo = l.RateLimit6 * hz / 1e9
		if m.PrefixLen < 128 {
			tmo >>= (128 - max(m.PrefixLen, 0)) >> 5
		}
	} else {
		tmo = l.RateLimit4 * hz / 1e9
	}
	const burst = 6 // XRLIM_BURST_FACTOR
	if l.peers == nil {
		l.peers = make(map[netip.Addr]*xrlim)
	}
	p := l.peers[m.Dst]
	if p == nil {
		// inet_getpeer: rate_last = jiffies - 60 * HZ.
		p = &xrlim{last: j - 60*hz}
		l.peers[m.Dst] = p
	}
	tok := p.tokens + j - p.last
	p.last = j
	tok = min(tok, burst*tmo)
	ok := tok >= tmo
	if ok {
		tok -= tmo
	}
	p.tokens = tok
	if l.calls++; l.calls%1024 == 0 {
		l.forget(j)
	}
	return ok
}

// forget drops the peers idle for 60 s or more: their buckets are full
// again, as a new peer's (unless an interval exceeds 10 s, when a new
// peer starts with 60 s of tokens only).
func (l *Limiter) forget(j int64) {
	for a, p := range l.peers {
		if j-p.last >= 60*l.hz() {
			delete(l.peers, a)
		}
	}
}
