package sim

import (
	"errors"
	"net/netip"

	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/sim/ike"
	"github.com/iptwin/iptwin/xfrm"
)

// What charon puts into the host's kernel (kernel-netlink): xfrm states
// and policies into the host's xfrm database, routes into table 220 and
// the rule "220: from all lookup 220". The database and the network
// configuration are written to the host's state directory as they change,
// so that "ip xfrm state", "ip xfrm policy", "ip rule" and
// "ip route show table 220" in a step list them.

// ipsecKernel is what charon installed, so that "ipsec stop" takes it
// out again.
type ipsecKernel struct {
	states   []xfrm.StateID
	policies []xfrm.PolicyID
	routes   []host.Route
	rules    []host.Rule
	// dirty: the xfrm database changed and is to be saved (once per
	// instant).
	dirty bool
}

func xfrmFamily(a netip.Addr) xfrm.Family {
	if a.Is4() {
		return xfrm.Inet
	}
	return xfrm.Inet6
}

func xfrmMode(m string) xfrm.Mode {
	if m == "transport" {
		return xfrm.ModeTransport
	}
	return xfrm.ModeTunnel
}

func (ih *ipsecd) xfrmDB() *xfrm.DB {
	if ih.sh.h.Xfrm == nil {
		ih.sh.h.Xfrm = xfrm.NewDB()
	}
	return ih.sh.h.Xfrm
}

// xfrmNow is the clock of the database's add and use times: the host's
// wall clock in seconds, as the packet path reads it.
func (ih *ipsecd) xfrmNow() int64 { return (ih.sh.h.WallBase + ih.sh.n.now) / 1e9 }

// AddRule is kernel_netlink_net.c manage_rule at startup, for IPv4 and
// IPv6: "220: from all lookup 220".
func (ih *ipsecd) AddRule(r ike.Rule) error {
	nt := ih.sh.h.Net
	for _, v6 := range []bool{false, true} {
		nr := host.Rule{V6: v6, Priority: uint32(r.Priority), Table: r.Table}
		exists := false
		for _, x := range nt.Rules {
			if *x == nr {
				exists = true
			}
		}
		if !exists {
			nt.Rules = append(nt.Rules, &nr)
			ih.kern.rules = append(ih.kern.rules, nr)
		}
	}
	return ih.saveNet()
}

// AddSA is kernel_netlink_ipsec.c add_sa: XFRM_MSG_NEWSA with the flags
// and attributes charon 5.9 sends (af-unspec in tunnel mode; copy_df,
// copy_ecn and the DSCP default add no other flag; integrity with the
// algorithm's default truncation as XFRMA_ALG_AUTH, other truncations as
// XFRMA_ALG_AUTH_TRUNC; lifetimes in seconds since adding, no byte or
// packet limit; UDP encapsulation type ESPINUDP).
func (ih *ipsecd) AddSA(sa ike.SA) error {
	r := &xfrm.StateRequest{
		Dst: sa.Dst, SPI: sa.SPI, Proto: sa.Proto, Src: sa.Src, Family: xfrmFamily(sa.Src),
		Mode: xfrmMode(sa.Mode), Reqid: sa.Reqid,
		Lft: xfrm.LifetimeCfg{SoftBytes: xfrm.Inf, HardBytes: xfrm.Inf, SoftPackets: xfrm.Inf, HardPackets: xfrm.Inf,
			SoftAdd: sa.SoftAdd, HardAdd: sa.HardAdd},
	}
	if sa.AFUnspec {
		r.Flags |= xfrm.StateAFUnspec
	}
	if sa.Mode == "transport" && sa.SelSrc.IsValid() {
		r.Sel = xfrm.Selector{Family: xfrmFamily(sa.SelSrc.Addr()), Src: sa.SelSrc.Addr(), Dst: sa.SelDst.Addr(),
			SrcLen: uint8(sa.SelSrc.Bits()), DstLen: uint8(sa.SelDst.Bits())}
	}
	algo := func(a *ike.Algo) *xfrm.Algo {
		return &xfrm.Algo{Name: a.Name, Key: append([]byte(nil), a.Key...), KeyBits: 8 * len(a.Key)}
	}
	if sa.AEAD != nil {
		r.AEAD = algo(sa.AEAD)
		r.AEAD.ICVLen = sa.AEAD.ICVBits
	}
	if sa.Enc != nil {
		r.Crypt = algo(sa.Enc)
	}
	if sa.Auth != nil {
		a := algo(sa.Auth)
		if d := xfrm.LookupAlgo(xfrm.KindAuth, sa.Auth.Name, 0); d != nil && d.TruncBits == sa.Auth.ICVBits {
			r.Auth = a
		} else {
			a.TruncLen = sa.Auth.ICVBits
			r.AuthTrunc = a
		}
	}
	if sa.Encap != nil {
		r.Encap = &xfrm.Encap{Type: xfrm.EncapESPinUDP, Sport: sa.Encap.Sport, Dport: sa.Encap.Dport}
	}
	// Outbound SAs have no replay window; a window over 32 packets needs
	// the ESN attribute's bitmap.
	if sa.Inbound {
		if w := sa.ReplayWindow; w > 32 {
			r.ReplayESN = &xfrm.Replay{Window: w, Bmp: make([]uint32, (w+31)/32)}
		} else {
			r.ReplayWindow = w
		}
	}
	db := ih.xfrmDB()
	if err := db.AddState(r, false, ih.xfrmNow()); err != nil {
		return err
	}
	ih.kern.states = append(ih.kern.states, xfrm.StateID{Dst: sa.Dst, SPI: sa.SPI, Proto: sa.Proto, Family: r.Family})
	ih.changed()
	return nil
}

// policySelector is ts2selector for a policy between two prefixes (any
// protocol and port, no interface), and the direction by name.
func policySelector(src, dst netip.Prefix, dirName string) (xfrm.Selector, xfrm.Dir, error) {
	sel := xfrm.Selector{Family: xfrmFamily(src.Addr()), Src: src.Addr(), Dst: dst.Addr(),
		SrcLen: uint8(src.Bits()), DstLen: uint8(dst.Bits())}
	switch dirName {
	case "in":
		return sel, xfrm.DirIn, nil
	case "out":
		return sel, xfrm.DirOut, nil
	case "fwd":
		return sel, xfrm.DirFwd, nil
	}
	return sel, 0, errors.New("bad policy direction " + dirName)
}

// AddPolicy is add_policy_internal: XFRM_MSG_UPDPOLICY with one ESP
// template (every algorithm allowed, the SPI on out policies).
func (ih *ipsecd) AddPolicy(p ike.Policy) error {
	sel, dir, err := policySelector(p.Src, p.Dst, p.Dir)
	if err != nil {
		return err
	}
	fam := sel.Family
	t := xfrm.Tmpl{Family: fam, Proto: p.Proto, Reqid: p.Reqid, Mode: xfrmMode(p.Mode), SPI: p.SPI,
		AAlgos: ^uint32(0), EAlgos: ^uint32(0), CAlgos: ^uint32(0)}
	if p.TmplSrc.IsValid() {
		t.Family, t.Src, t.Dst = xfrmFamily(p.TmplSrc), p.TmplSrc, p.TmplDst
	}
	r := &xfrm.PolicyRequest{Sel: sel, Dir: dir, Action: xfrm.Allow, Priority: p.Priority,
		Lft: xfrm.DefaultLifetime(), Tmpls: []xfrm.Tmpl{t}}
	if err := ih.xfrmDB().AddPolicy(r, true, ih.xfrmNow()); err != nil {
		return err
	}
	ih.kern.policies = append(ih.kern.policies, xfrm.PolicyID{Sel: sel, Dir: dir})
	ih.changed()
	return nil
}

// AddRoute is manage_srcroute (RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL):
// "192.168.201.0/24 via 10.0.0.201 dev eth0 proto static src
// 192.168.200.1" in table 220.
func (ih *ipsecd) AddRoute(rt ike.Route) error {
	nt := ih.sh.h.Net
	l := nt.LinkByName(rt.Dev)
	if l == nil {
		return host.ErrNoDevice
	}
	r := host.Route{V6: rt.Dst.Addr().Is6(), Table: rt.Table, Type: host.RTUnicast, Dst: rt.Dst.Masked(),
		Gw: rt.Gateway, Dev: l.Index, Src: rt.Src, Proto: host.ProtoStatic, Scope: host.ScopeUniverse}
	nr := r
	if err := nt.AddRoute(&nr, false); err != nil {
		return err
	}
	ih.kern.routes = append(ih.kern.routes, r)
	return ih.saveNet()
}

// QuerySA is query_sa (XFRM_MSG_GETSA) on the host's xfrm database as
// it is now: the counters the packet path keeps (curlft bytes and
// packets: the inner packet in tunnel mode, xfrm_output_one and
// xfrm_input).
func (ih *ipsecd) QuerySA(dst netip.Addr, spi uint32, proto uint8) (bytes, packets uint64, ok bool) {
	db := ih.sh.h.Xfrm
	if db == nil {
		return 0, 0, false
	}
	x, err := db.GetState(&xfrm.StateID{Dst: dst, SPI: spi, Proto: proto, Family: xfrmFamily(dst)})
	if err != nil {
		return 0, 0, false
	}
	return x.Cur.Bytes, x.Cur.Packets, true
}

// QueryPolicy is query_policy (XFRM_MSG_GETPOLICY, main type): the
// seconds since the policy's last use (its curlft.use_time, which every
// look-up and check sets) on the clock of the database's times.
func (ih *ipsecd) QueryPolicy(src, dst netip.Prefix, dirName string) (idle int64, used, ok bool) {
	db := ih.sh.h.Xfrm
	if db == nil {
		return 0, false, false
	}
	sel, dir, err := policySelector(src, dst, dirName)
	if err != nil {
		return 0, false, false
	}
	p, kerr := db.GetPolicy(&xfrm.PolicyID{Sel: sel, Dir: dir})
	if kerr != nil {
		return 0, false, false
	}
	if p.Cur.UseTime == 0 {
		return 0, false, true
	}
	return ih.xfrmNow() - p.Cur.UseTime, true, true
}

// changed schedules one save of the xfrm database at the end of this
// instant.
func (ih *ipsecd) changed() {
	if ih.kern.dirty {
		return
	}
	ih.kern.dirty = true
	ih.sh.n.schedule(ih.sh.n.now, ih.saveXfrm)
}

func (ih *ipsecd) saveXfrm() {
	ih.kern.dirty = false
	if ih.sh.h.Xfrm != nil {
		if err := ih.sh.h.Xfrm.Save(ih.sh.dir); err != nil {
			ih.syslog(0, "KNL", "saving the xfrm database: "+err.Error())
		}
	}
}

func (ih *ipsecd) saveNet() error { return ih.sh.h.Net.Save(ih.sh.st) }

// uninstallAll takes out what charon installed (its shutdown: the
// CHILD_SAs' states and policies, their routes, the rule).
func (ih *ipsecd) uninstallAll() {
	db := ih.xfrmDB()
	for i := range ih.kern.states {
		db.DeleteState(&ih.kern.states[i])
	}
	for i := range ih.kern.policies {
		db.DeletePolicy(&ih.kern.policies[i])
	}
	nt := ih.sh.h.Net
	for i := range ih.kern.routes {
		r := ih.kern.routes[i]
		nt.DelRoute(&r, false)
	}
	for _, r := range ih.kern.rules {
		keep := nt.Rules[:0]
		removed := false
		for _, x := range nt.Rules {
			if !removed && *x == r {
				removed = true
				continue
			}
			keep = append(keep, x)
		}
		nt.Rules = keep
	}
	ih.kern = ipsecKernel{}
	ih.saveXfrm()
	ih.saveNet()
}
