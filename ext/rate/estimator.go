package rate

import (
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	"github.com/iptwin/iptwin/xtables"
)

// The rate estimators of RATEEST and rateest (net/netfilter/
// xt_RATEEST.c, net/core/gen_estimator.c): RATEEST counts the bytes and
// packets of what reaches it; a timer every 250 ms << (interval+2)
// folds the counts of the period into moving averages (avbps, avpps, in
// units of 1/256 per second) with weight 2^-ewma_log; rateest reads
// them. Timer runs missed between two packets are made up when the next
// packet touches the estimator; the first run is one period after its
// first use.

type estimator struct {
	intvlLog, ewmaLog uint8
	bytes, packets    uint64
	lastBytes         uint64
	lastPackets       uint64
	avbps, avpps      uint64
	next              uint64
	started           bool
}

func newEstimator(interval int8, ewmaLog uint8) *estimator {
	return &estimator{intvlLog: uint8(interval + 2), ewmaLog: ewmaLog}
}

func (e *estimator) period() uint64 { return (kern.HZ / 4) << e.intvlLog }

// tick is est_timer.
func (e *estimator) tick() {
	brate := (e.bytes - e.lastBytes) << (10 - e.intvlLog)
	brate = brate>>e.ewmaLog - e.avbps>>e.ewmaLog
	rate := (e.packets - e.lastPackets) << (10 - e.intvlLog)
	rate = rate>>e.ewmaLog - e.avpps>>e.ewmaLog
	e.avbps += brate
	e.avpps += rate
	e.lastBytes, e.lastPackets = e.bytes, e.packets
}

// advance runs the timer up to now. Once nothing is counted any more
// the runs only decay the averages, which decay computes in batches.
func (e *estimator) advance(now uint64) {
	if !e.started {
		e.started = true
		e.next = now + e.period()
		return
	}
	for kern.TimeAfterEq(now, e.next) {
		if e.bytes == e.lastBytes && e.packets == e.lastPackets {
			n := (now-e.next)/e.period() + 1
			e.avbps = decay(e.avbps, e.ewmaLog, n)
			e.avpps = decay(e.avpps, e.ewmaLog, n)
			e.next += n * e.period()
			return
		}
		e.tick()
		e.next += e.period()
	}
}

// decay is n idle runs of est_timer on an average: each takes x >> ewma
// off x, so while x >> ewma stays k the runs take k each.
func decay(x uint64, ewma uint8, n uint64) uint64 {
	for n > 0 {
		k := x >> ewma
		if k == 0 {
			break
		}
		t := (x-k<<ewma)/k + 1
		if t > n {
			t = n
		}
		x -= t * k
		n -= t
	}
	return x
}

// read is gen_estimator_read: bytes and packets per second.
func (e *estimator) read() (bps, pps uint32) {
	return uint32(e.avbps >> 8), uint32(e.avpps >> 8)
}

// estimator is the host's estimator of that name (made by the first
// RATEEST rule using it); nil when there is none.
func (s *Shared) estimator(name string) *estimator {
	if s == nil {
		return nil
	}
	return s.est[name]
}

func (r *RATEEST) est(st *xtables.PacketState) *estimator {
	if s := sharedOf(st); s != nil {
		if r.shared == s && r.e != nil {
			return r.e
		}
		if s.est == nil {
			s.est = make(map[string]*estimator)
		}
		e := s.est[r.Name]
		if e == nil {
			e = newEstimator(r.Interval, r.EwmaLog)
			s.est[r.Name] = e
		}
		r.shared, r.e = s, e
		return e
	}
	if r.e == nil || r.shared != nil {
		r.e, r.shared = newEstimator(r.Interval, r.EwmaLog), nil
	}
	return r.e
}

// TargetPacket is xt_rateest_tg: count the packet into the estimator.
func (r *RATEEST) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	e := r.est(st)
	e.advance(kern.Jiffies(st.Env.Now()))
	e.bytes += uint64(len(st.Pkt.Data))
	e.packets++
	return xtables.VerdictCodeContinue
}

func (r *Rateest) sample(st *xtables.PacketState, name string) (bps, pps uint32) {
	e := sharedOf(st).estimator(name)
	if e == nil {
		return 0, 0
	}
	e.advance(kern.Jiffies(st.Env.Now()))
	return e.read()
}

// MatchPacket is xt_rateest_mt: one estimator against the given rates or
// against another, as rates or as their distances to the given ones
// (--rateest-delta), compared lt/gt/eq on bytes and/or packets.
func (r *Rateest) MatchPacket(st *xtables.PacketState) bool {
	sub := func(limit, v uint32) uint32 {
		if limit >= v {
			return limit - v
		}
		return 0
	}
	bps1, pps1 := r.sample(st, r.Name1)
	if r.Flags&reDelta != 0 {
		bps1, pps1 = sub(r.BPS1, bps1), sub(r.PPS1, pps1)
	}
	var bps2, pps2 uint32
	if r.Flags&reAbs != 0 {
		bps2, pps2 = r.BPS2, r.PPS2
	} else {
		bps2, pps2 = r.sample(st, r.Name2)
		if r.Flags&reDelta != 0 {
			bps2, pps2 = sub(r.BPS2, bps2), sub(r.PPS2, pps2)
		}
	}
	ret := true
	cmp := func(a, b uint32) bool {
		switch r.Mode {
		case reModeLT:
			return a < b
		case reModeGT:
			return a > b
		case reModeEQ:
			return a == b
		}
		return true
	}
	if r.Mode >= reModeEQ && r.Mode <= reModeGT {
		if r.Flags&reBPS != 0 {
			ret = ret && cmp(bps1, bps2)
		}
		if r.Flags&rePPS != 0 {
			ret = ret && cmp(pps1, pps2)
		}
	}
	return ret != (r.Flags&reInvert != 0)
}
