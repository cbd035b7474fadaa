package stack

import (
	"github.com/iptwin/iptwin/host"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// IPsec on the packet path, input side. ESP delivered to the host (or
// ESP in UDP to the IKE daemon's port-4500 socket) is decapsulated and
// the inner packet received again on the same device with its secpath
// (what `-m policy --dir in` sees). The policy check (__xfrm_policy_check)
// runs at the start of ip_forward (direction fwd, before the TTL check
// and FORWARD) and where a protocol takes a packet after INPUT
// (direction in: tcp_v4_rcv, udp_rcv, icmp_rcv, raw, unknown protocols;
// ESP itself is exempt): a clear packet that a policy requiring IPsec
// covers is dropped there without an answer (no port unreachable, no
// RST), as is a decapsulated packet no policy allows.

// xfrmInput decapsulates an ESP packet (or an ESP-in-UDP datagram to a
// port-4500 socket: xfrm4_udp_encap_rcv) delivered to the host and
// receives the inner packet on the same device, with its secpath. ok is
// false when s is not IPsec the host has a state for.
func (h *Host) xfrmInput(s *skb) (Result, bool) {
	db := h.Xfrm
	if db == nil || len(db.States) == 0 {
		// Without a state the esp4/esp6 handlers are not registered (the
		// modules load with the first SA): ESP is an unknown protocol.
		return Result{}, false
	}
	p := &s.pkt
	var encap uint16
	if p.Layers&packet.LayerUDP != 0 {
		if p.UDP.DstPort != packet.PortIPsecNATT || h.socket(packet.ProtoUDP, p.Dst(), p.UDP.DstPort) == nil {
			return Result{}, false
		}
		encap = xfrm.EncapESPinUDP // the IKE daemon's socket option UDP_ENCAP
	} else if p.Proto != packet.ProtoESP {
		return Result{}, false
	}
	fam := s.fam
	c := h.newSkb(fam)
	// The inner packet keeps the outer one's secpath (secpath_set) and
	// gets the state appended.
	c.xs.sp = s.xs.sp
	inner, _, err := db.Decapsulate(c.buf[:0], s.buf, &xfrm.DecapParams{EncapType: encap, Mark: s.mark, Now: h.wallSeconds()}, &c.xs.sp)
	if err != nil {
		h.freeSkb(c)
		switch err {
		case xfrm.ErrNotESP:
			// An IKE message (after the non-ESP marker): the socket
			// takes it.
			return Result{}, false
		case xfrm.ErrKeepalive:
			return Result{Fate: FateDelivered, Reason: "NAT-T keepalive"}, true
		}
		return dropped("IPsec: " + err.Error()), true
	}
	if len(inner) > 0 && inner[0]>>4 == 6 {
		c.fam = xtables.IPv6
	} else {
		c.fam = xtables.IPv4
	}
	if err := c.setBytes(inner); err != nil && !c.ipDecoded() {
		h.freeSkb(c)
		return dropped("IPsec: undecodable inner packet"), true
	}
	c.in, c.mac, c.hasMAC, c.mark = s.in, s.mac, s.hasMAC, s.mark
	c.decap = true
	if h.Obs != nil {
		h.Obs.Note("xfrm", "decapsulated: "+c.pkt.String())
	}
	// The inner packet re-enters the stack at PREROUTING on the same
	// device (gro_cells_receive → ip_rcv; transport mode:
	// xfrm4_transport_finish's NF_HOOK).
	h.enqueue(c, "decapsulated")
	return Result{Fate: FateDelivered, Reason: "IPsec: decapsulated"}, true
}

// xfrmFlow decodes s for a policy check (__xfrm_decode_session, then
// nf_nat_decode_session: the addresses and ports the connection had on
// the wire before NAT changed them in this direction).
func (h *Host) xfrmFlow(s *skb, fl *xfrm.Flow, oif *host.Link) bool {
	if !fl.FromPacket(s.buf, false) {
		return false
	}
	if oif != nil {
		fl.Oif = oif.Index
	}
	fl.Mark = s.mark
	c := s.ct.conn
	if c == nil {
		return true
	}
	dir, bit := 0, uint32(xtables.IPSDstNAT)
	if s.ct.reply {
		dir, bit = 1, xtables.IPSSrcNAT
	}
	t := c.Tuple(dir)
	ports := false
	switch t.Proto {
	case packet.ProtoTCP, packet.ProtoUDP, 33, 132, 136: // + DCCP, SCTP, UDP-Lite
		ports = true
	}
	if c.Status()&bit != 0 {
		fl.Dst = t.Dst
		if ports {
			fl.Dport = t.DstPort
		}
	}
	if c.Status()&(bit^xtables.IPSNATMask) != 0 {
		fl.Src = t.Src
		if ports {
			fl.Sport = t.SrcPort
		}
	}
	return true
}

// xfrmPolicyFwd is xfrm4_policy_check / xfrm6_policy_check(FWD) at the
// start of ip_forward / ip6_forward (out is the route's device). A
// packet that came in on a device with disable_policy is not checked
// (IPSKB_NOPOLICY; ip6_forward's own test of the input device).
func (h *Host) xfrmPolicyFwd(s *skb, out *host.Link) (Result, bool) {
	db := h.Xfrm
	if db == nil {
		return Result{}, true
	}
	if _, _, nfwd := db.Count(); nfwd == 0 && s.xs.sp.Len == 0 && !db.DefaultBlock[xfrm.DirFwd] {
		return Result{}, true
	}
	conf := h.conf[s.in].xfrm
	if !s.v6() && conf.noPolicy4 || s.v6() && conf.noPolicy6 {
		return Result{}, true
	}
	var fl xfrm.Flow
	if !h.xfrmFlow(s, &fl, out) {
		db.Inc(xfrm.MIBInHdrError)
		return dropped("IPsec policy check: undecodable (XfrmInHdrError)"), false
	}
	return h.xfrmChecked(db.Check(xfrm.DirFwd, &fl, &s.xs.sp, h.wallSeconds()))
}

// xfrmPolicyIn is xfrm4_policy_check / xfrm6_policy_check(IN) where the
// protocol takes a packet delivered locally. A socket with a bypass
// policy (the IKE daemon's) is checked against that policy only; a
// packet received on a device with disable_policy (IPv4; IPv6: the
// device of the address it is for) is not checked; lo has it set.
func (h *Host) xfrmPolicyIn(s *skb) (Result, bool) {
	db := h.Xfrm
	if db == nil {
		return Result{}, true
	}
	if nin, _, _ := db.Count(); nin == 0 && s.xs.sp.Len == 0 && !db.DefaultBlock[xfrm.DirIn] {
		// __xfrm_check_nopolicy (a bypass socket would pass too)
		return Result{}, true
	}
	p := &s.pkt
	var sk *Socket
	switch {
	case p.Layers&packet.LayerUDP != 0:
		sk = h.socket(packet.ProtoUDP, p.Dst(), p.UDP.DstPort)
	case p.Layers&packet.LayerTCP != 0:
		sk = h.socket(packet.ProtoTCP, p.Dst(), p.TCP.DstPort)
	}
	bypass := sk != nil && sk.XfrmBypass
	if !bypass && h.noPolicyIn(s) {
		return Result{}, true
	}
	var fl xfrm.Flow
	if !h.xfrmFlow(s, &fl, h.link("lo")) {
		db.Inc(xfrm.MIBInHdrError)
		return dropped("IPsec policy check: undecodable (XfrmInHdrError)"), false
	}
	if bypass {
		return h.xfrmChecked(db.CheckBypass(&fl, &s.xs.sp))
	}
	return h.xfrmChecked(db.Check(xfrm.DirIn, &fl, &s.xs.sp, h.wallSeconds()))
}

// noPolicyIn: IPSKB_NOPOLICY from the input device (IPv4), DST_NOPOLICY
// of the local route of the address (IPv6, addrconf_f6i_alloc).
func (h *Host) noPolicyIn(s *skb) bool {
	if !s.v6() {
		return h.conf[s.in].xfrm.noPolicy4
	}
	dev := s.in
	if r := h.localRoute(s.pkt.Dst(), ""); r != nil {
		if l := h.Net.LinkByIndex(r.Dev); l != nil {
			dev = l.Name
		}
	}
	return h.conf[dev].xfrm.noPolicy6
}

// xfrmChecked turns a policy check's result into the packet's fate.
func (h *Host) xfrmChecked(r xfrm.CheckResult) (Result, bool) {
	if r == xfrm.CheckOK {
		return Result{}, true
	}
	res := dropped(checkReasons[r])
	if h.Obs != nil {
		h.Obs.Note("xfrm", res.Reason)
	}
	return res, false
}

var checkReasons = [...]string{
	xfrm.CheckStateMismatch: "IPsec policy check (XfrmInStateMismatch)",
	xfrm.CheckNoPolicy:      "IPsec policy check (XfrmInNoPols)",
	xfrm.CheckBlocked:       "IPsec policy check (XfrmInPolBlock)",
	xfrm.CheckTmplMismatch:  "IPsec policy check (XfrmInTmplMismatch)",
}
