package xfrm

import "net/netip"

// Verdict is what the output lookup decides for a flow.
type Verdict uint8

const (
	// Pass: the packet leaves untransformed, on its own route (no policy,
	// or a policy without templates, or only optional templates without
	// states). The route has no xfrm: `-m policy --dir out --pol none`.
	Pass Verdict = iota
	// Transform: the packet goes through Bundle.SAs.
	Transform
	// Blocked: a policy says block (-EPERM: a local sender's sendmsg gets
	// "Operation not permitted", a forwarded packet is dropped).
	Blocked
	// NoState: a required template has no state (-EREMOTE with the default
	// net.core.xfrm_larval_drop=1): the key manager is asked (ACQUIRE,
	// Bundle.Acquire) and the packet discarded. A local packet still
	// passes OUTPUT, on a blackhole route, and is discarded before
	// POSTROUTING (dst_discard_out); a forwarded one is dropped in
	// ip_forward before FORWARD.
	NoState
	// NoSource: a tunnel template without a source address and no route to
	// pick one from (xfrm_get_saddr failed): dropped.
	NoSource
)

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Transform:
		return "transform"
	case Blocked:
		return "block"
	case NoState:
		return "no-state"
	case NoSource:
		return "no-source"
	}
	return "?"
}

// Bundle is the result of an output lookup (the xfrm_dst chain): the
// policies that matched and the states to apply, first to last.
type Bundle struct {
	Policies [2]*Policy // the sub policy (if any) then the main one
	NPol     int
	SAs      [MaxDepth]*State
	N        int
	// Acquire is, for NoState, the template that had no state and the
	// addresses the SA would have (what XFRM_MSG_ACQUIRE tells the key
	// manager).
	Acquire                *Tmpl
	AcquireSrc, AcquireDst netip.Addr
	AcquirePolicy          *Policy
}

// Reset empties the bundle.
func (b *Bundle) Reset() { *b = Bundle{} }

// AppendInfo appends what `-m policy --dir out` reads of the bundle
// (skb_dst(skb)->xfrm and its children): the states in order.
func (b *Bundle) AppendInfo(dst []SAInfo) []SAInfo {
	for i := 0; i < b.N; i++ {
		dst = append(dst, b.SAs[i].Info())
	}
	return dst
}

// MTU is the bundle's path MTU (xfrm_init_pmtu): from the last state to
// the first, each state's MTU of its child's, bounded by the route MTU
// (routeMTU, the MTU of the route to the tunnel's end).
func (b *Bundle) MTU(routeMTU int) int {
	mtu := routeMTU
	for i := b.N - 1; i >= 0; i-- {
		mtu = b.SAs[i].MTU(mtu)
		if mtu > routeMTU {
			mtu = routeMTU
		}
	}
	return mtu
}

// SourceFunc picks the source address for a destination as a route
// lookup would (xfrm_get_saddr: inet_select_addr on the route's device),
// given the flow's output interface.
type SourceFunc func(dst netip.Addr, oif int) (netip.Addr, bool)

// OutputPolicy is xfrm_lookup for the out direction: the policy that
// applies to the flow and, through its templates, the states of the
// bundle (xfrm_bundle_lookup, xfrm_expand_policies, xfrm_tmpl_resolve).
// It is called at the route decision of a local or forwarded packet and
// again after POSTROUTING NAT changed the packet (the flow of the
// rewritten packet). src chooses the source of tunnel templates that have
// none (nil: such templates fail with NoSource). now (wall clock seconds)
// becomes the policies' use time. It allocates nothing.
func (db *DB) OutputPolicy(fl *Flow, now int64, src SourceFunc, b *Bundle) Verdict {
	b.Reset()
	if db.count[DirOut] == 0 {
		return db.noPolicy(fl)
	}
	p := db.Lookup(fl, DirOut)
	if p == nil {
		return db.noPolicy(fl)
	}
	b.Policies[0], b.NPol = p, 1
	if p.Action == Allow && p.Type != TypeMain {
		if m := db.lookupType(TypeMain, fl, DirOut, p.IfID); m != nil {
			b.Policies[1], b.NPol = m, 2
		}
	}
	for i := 0; i < b.NPol; i++ {
		if b.Policies[i].Action != Allow {
			db.touch(b, now)
			db.Inc(MIBOutPolBlock)
			return Blocked
		}
	}
	daddr, saddr := fl.Dst, fl.Src
	for i := 0; i < b.NPol; i++ {
		pol := b.Policies[i]
		for j := range pol.Tmpls {
			t := &pol.Tmpls[j]
			remote, local := daddr, saddr
			if t.Mode == ModeTunnel || t.Mode == ModeBEET {
				remote, local = t.Dst, t.Src
				if !remote.IsValid() {
					remote = anyAddr(t.Family)
				}
				if isAny(local) {
					var ok bool
					if src != nil {
						local, ok = src(remote, fl.Oif)
					}
					if !ok {
						db.Inc(MIBOutPolError)
						return NoSource
					}
				}
			}
			x := db.FindState(remote, local, fl, t, pol, pol.IfID)
			if x != nil {
				if b.N >= MaxDepth {
					return NoState
				}
				b.SAs[b.N] = x
				b.N++
				daddr, saddr = remote, local
				continue
			}
			if t.Optional == 0 {
				// xfrm_lookup_with_ifid: no state yet (-EAGAIN from
				// xfrm_tmpl_resolve), counted whatever becomes of it.
				db.Inc(MIBOutNoStates)
				b.Acquire, b.AcquireSrc, b.AcquireDst, b.AcquirePolicy = t, local, remote, pol
				b.N = 0
				return NoState
			}
		}
	}
	db.touch(b, now)
	if b.N == 0 {
		return Pass
	}
	return Transform
}

// noPolicy is the nopol path: the default out policy blocks everything
// but loopback traffic when set to block.
func (db *DB) noPolicy(fl *Flow) Verdict {
	if db.DefaultBlock[DirOut] && !fl.Loopback {
		return Blocked
	}
	return Pass
}

// touch records the policies' use (curlft.use_time).
func (db *DB) touch(b *Bundle, now int64) {
	for i := 0; i < b.NPol; i++ {
		b.Policies[i].Cur.UseTime = now
	}
}
