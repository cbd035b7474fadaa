package ike

import (
	"fmt"
	"net/netip"
	"time"
)

// childResponder selects the CHILD_SA's proposal and narrows the traffic
// selectors (child_create.c process_r/build_r); it installs the
// CHILD_SA and returns the payloads of the response, or the error
// notify to send instead.
func (sa *ikeSA) childResponder(m *message, local, remote *End) ([]payload, uint16) {
	c := sa.conn
	saPl, ok := m.find(plSA)
	tsiPl, ok2 := m.find(plTSi)
	tsrPl, ok3 := m.find(plTSr)
	if !ok || !ok2 || !ok3 {
		return nil, nNoProposalChosen
	}
	theirs, _, ok := parseSA(saPl.body)
	var mine []*Proposal
	for _, p := range c.ESP {
		mine = append(mine, p.stripDH())
	}
	var sel *Proposal
	if ok {
		sel = selectProposal(mine, theirs)
	}
	if sel == nil {
		sa.log("IKE", "no acceptable proposal found")
		sa.log("IKE", "failed to establish CHILD_SA, keeping IKE_SA")
		return nil, nNoProposalChosen
	}
	// the peer's SPI is in the proposal it offered that we chose
	peerSPI := proposalSPI(saPl.body, sel)
	sa.log("CFG", "selected proposal: %s", sel)
	tsi, _ := parseTS(tsiPl.body)
	tsr, _ := parseTS(tsrPl.body)
	_, transport := m.notifyData(nUseTransportMode)
	mode := "tunnel"
	if transport && c.Mode == "transport" {
		mode = "transport"
	}
	myTS := narrow(localTS(local, sa.me.Addr(), mode), tsr)
	otherTS := narrow(localTS(remote, sa.other.Addr(), mode), tsi)
	if len(myTS) == 0 || len(otherTS) == 0 {
		sa.log("IKE", "traffic selectors %s === %s unacceptable", tsString(tsr), tsString(tsi))
		sa.log("IKE", "failed to establish CHILD_SA, keeping IKE_SA")
		return nil, nTSUnacceptable
	}
	sa.childUID = sa.d.nextChild
	sa.d.nextChild++
	ch := &childSA{name: c.Name, uid: sa.childUID, proposal: sel, localTS: myTS, remoteTS: otherTS,
		mode: mode, spiIn: sa.d.allocSPI(), spiOut: peerSPI}
	if !sa.install(ch) {
		sa.log("IKE", "failed to establish CHILD_SA, keeping IKE_SA")
		return nil, nNoProposalChosen
	}
	var out []payload
	if mode == "transport" {
		out = append(out, notifyPayload(nUseTransportMode, nil))
	}
	out = append(out, saPayload([]*Proposal{sel}, ch.spiIn), tsPayload(plTSi, otherTS), tsPayload(plTSr, myTS))
	return out, 0
}

// proposalSPI finds the SPI of the offered proposal matching sel.
func proposalSPI(body []byte, sel *Proposal) uint32 {
	ps, spi, _ := parseSA(body)
	for i, p := range ps {
		if matchProposal(sel, p) != nil {
			// each proposal carries the same SPI in charon's messages
			_ = i
			return spi
		}
	}
	return spi
}

// childInitiator completes the CHILD_SA from the IKE_AUTH response.
func (sa *ikeSA) childInitiator(m *message) bool {
	c := sa.conn
	saPl, ok := m.find(plSA)
	tsiPl, ok2 := m.find(plTSi)
	tsrPl, ok3 := m.find(plTSr)
	if !ok || !ok2 || !ok3 {
		sa.log("IKE", "SA payload missing in message")
		return false
	}
	theirs, spi, ok := parseSA(saPl.body)
	var mine []*Proposal
	for _, p := range c.ESP {
		mine = append(mine, p.stripDH())
	}
	var sel *Proposal
	if ok && len(theirs) == 1 {
		sel = selectProposal(mine, theirs)
	}
	if sel == nil {
		sa.log("IKE", "no acceptable proposal found")
		return false
	}
	sa.log("CFG", "selected proposal: %s", sel)
	tsi, _ := parseTS(tsiPl.body)
	tsr, _ := parseTS(tsrPl.body)
	local, remote := sa.d.ends(c)
	mode := c.Mode
	if _, ok := m.notifyData(nUseTransportMode); !ok && mode == "transport" {
		mode = "tunnel"
	}
	myTS := narrow(localTS(local, sa.me.Addr(), mode), tsi)
	otherTS := narrow(localTS(remote, sa.other.Addr(), mode), tsr)
	if len(myTS) == 0 || len(otherTS) == 0 {
		sa.log("IKE", "no acceptable traffic selectors found")
		return false
	}
	ch := &childSA{name: c.Name, uid: sa.childUID, proposal: sel, localTS: myTS, remoteTS: otherTS,
		mode: mode, spiIn: sa.childSPI, spiOut: spi}
	return sa.install(ch)
}

// install puts the CHILD_SA into the kernel (child_sa.c install,
// install_policies) and logs it.
func (sa *ikeSA) install(ch *childSA) bool {
	d, c := sa.d, sa.conn
	if c.Reqid != 0 {
		ch.reqid = c.Reqid
	} else {
		ch.reqid = d.reqidFor(ch.localTS, ch.remoteTS)
	}
	ch.encap = sa.natHere || sa.natThere || sa.natFake || c.ForceEncaps
	life := int64(c.Lifetime / time.Second)
	rekey := int64((c.Lifetime - c.Margin) / time.Second)
	jitter := int64(c.Margin/time.Second) * int64(c.RekeyFuzz) / 100
	if jitter > 0 {
		rekey -= d.rnd.Int64N(jitter + 1)
	}
	ch.installed, ch.rekeyAt = d.now, d.now+rekey*int64(time.Second)
	encr, _ := ch.proposal.first(tfEncr)
	ealg := encrAlgs[encr.ID]
	keyLen := int(encr.KeyLen) / 8
	if keyLen == 0 {
		keyLen = int(ealg.fixed) / 8
	}
	keyLen += ealg.salt
	integ, hasInteg := ch.proposal.first(tfInteg)
	ialg := integAlgs[integ.ID]
	total := keyLen
	if hasInteg {
		total += ialg.key
	}
	spiI, spiR := ch.spiOut, ch.spiIn
	if sa.initiator {
		spiI, spiR = ch.spiIn, ch.spiOut
	}
	i2r, r2i := sa.childKeys(spiI, spiR, total)
	outKeys, inKeys := i2r, r2i
	if !sa.initiator {
		outKeys, inKeys = r2i, i2r
	}
	mk := func(in bool) SA {
		k := outKeys
		s := SA{Src: sa.me.Addr(), Dst: sa.other.Addr(), SPI: ch.spiOut, Proto: 50, Mode: ch.mode,
			Reqid: ch.reqid, AFUnspec: ch.mode == "tunnel", SoftAdd: uint64(rekey), HardAdd: uint64(life)}
		if in {
			k = inKeys
			s.Src, s.Dst, s.SPI, s.Inbound, s.ReplayWindow = sa.other.Addr(), sa.me.Addr(), ch.spiIn, true, uint32(c.ReplayWindow)
		}
		if ealg.icv > 0 {
			s.AEAD = &Algo{Name: ealg.kernel, Key: k[:keyLen], ICVBits: ealg.icv * 8}
		} else {
			s.Enc = &Algo{Name: ealg.kernel, Key: k[:keyLen]}
			if hasInteg {
				s.Auth = &Algo{Name: ialg.kernel, Key: k[keyLen : keyLen+ialg.key], ICVBits: ialg.trunc}
			}
		}
		if ch.encap {
			s.Encap = &Encap{Sport: sa.me.Port(), Dport: sa.other.Port()}
			if in {
				s.Encap = &Encap{Sport: sa.other.Port(), Dport: sa.me.Port()}
			}
		}
		if ch.mode == "transport" {
			s.SelSrc, s.SelDst = ch.localTS[0], ch.remoteTS[0]
			if in {
				s.SelSrc, s.SelDst = ch.remoteTS[0], ch.localTS[0]
			}
		}
		return s
	}
	inst := d.opt.Installer
	if inst != nil {
		// the inbound SA first, as child_sa.c install does for the
		// responder and initiator alike
		for _, s := range []SA{mk(true), mk(false)} {
			if err := inst.AddSA(s); err != nil {
				sa.log("IKE", "unable to install %s IPsec SA (SAD) in kernel", dirWord(s.Inbound))
				return false
			}
		}
		if !sa.installPolicies(ch) {
			sa.log("IKE", "unable to install IPsec policies (SPD) in kernel")
			return false
		}
	}
	sa.child = ch
	sa.log("IKE", "CHILD_SA %s{%d} established with SPIs %.8x_i %.8x_o and TS %s === %s",
		ch.name, ch.uid, ch.spiIn, ch.spiOut, tsString(ch.localTS), tsString(ch.remoteTS))
	return true
}

func dirWord(in bool) string {
	if in {
		return "inbound"
	}
	return "outbound"
}

// reqidFor allocates a reqid: one per distinct selector set, from 1
// (kernel_interface.c get_reqid).
func (d *Daemon) reqidFor(l, r []netip.Prefix) uint32 {
	for _, s := range d.sas {
		if s.child != nil && tsString(s.child.localTS) == tsString(l) && tsString(s.child.remoteTS) == tsString(r) {
			return s.child.reqid
		}
	}
	id := d.nextReqid
	d.nextReqid++
	return id
}

// installPolicies adds out, in and fwd policies for each pair of
// selectors and the route of each out policy (kernel_netlink_ipsec.c
// add_policy_internal, install_route).
func (sa *ikeSA) installPolicies(ch *childSA) bool {
	d := sa.d
	inst := d.opt.Installer
	tunnel := ch.mode == "tunnel"
	for _, l := range ch.localTS {
		for _, r := range ch.remoteTS {
			prio := policyPriority(l, r)
			out := Policy{Src: l, Dst: r, Dir: "out", Priority: prio, Proto: 50, Reqid: ch.reqid, Mode: ch.mode, SPI: ch.spiOut}
			in := Policy{Src: r, Dst: l, Dir: "in", Priority: prio, Proto: 50, Reqid: ch.reqid, Mode: ch.mode}
			if tunnel {
				out.TmplSrc, out.TmplDst = sa.me.Addr(), sa.other.Addr()
				in.TmplSrc, in.TmplDst = sa.other.Addr(), sa.me.Addr()
			}
			fwd := in
			fwd.Dir = "fwd"
			for _, p := range []Policy{out, in, fwd} {
				if err := inst.AddPolicy(p); err != nil {
					return false
				}
			}
			if d.settings.InstallRoutes && tunnel {
				sa.installRoute(l, r)
			}
		}
	}
	return true
}

// installRoute is install_route: the route to the remote selector via
// the next hop to the peer, with the local address inside the local
// selector as src; without such an address there is no route.
func (sa *ikeSA) installRoute(l, r netip.Prefix) {
	d := sa.d
	var src netip.Addr
	lo := netip.MustParseAddr("127.0.0.1")
	if !l.Addr().Is4() {
		lo = netip.IPv6Loopback()
	}
	if !l.Contains(lo) {
		for _, a := range d.addrs() {
			if l.Contains(a) {
				src = a
				break
			}
		}
		if !src.IsValid() {
			return
		}
	}
	rt := Route{Dst: r, Src: src, Table: d.settings.RoutingTable, Proto: "static"}
	if d.opt.Net != nil {
		_, gw, dev, ok := d.opt.Net.Route(sa.other.Addr())
		if ok {
			rt.Dev = dev
			rt.Gateway = gw
			if !gw.IsValid() {
				// get_nexthop falls back to the peer itself
				rt.Gateway = sa.other.Addr()
			}
		}
	}
	if rt.Dev == "" {
		return
	}
	if err := d.opt.Installer.AddRoute(rt); err != nil {
		sa.log("KNL", "unable to install source route for %s", src)
	}
}

var _ = fmt.Sprint
