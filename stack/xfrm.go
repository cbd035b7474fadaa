package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xfrm"
	"github.com/iptwin/iptwin/xtables"
)

// IPsec on the packet path (package xfrm's doc gives the kernel's call
// points). Output: the xfrm look-up runs on the packet as it leaves
// POSTROUTING — after NAT, which is why a MASQUERADE ahead of it sends a
// LAN packet out in clear (seed 000) — and a bundle turns it into an ESP
// packet that goes round OUTPUT and POSTROUTING again as a new packet.
// Input: ESP (or ESP in UDP on 4500) delivered to the host is
// decapsulated and the inner packet received again on the same device.

// xfrmState is what a host keeps for IPsec.
type xfrmState struct {
	bundle xfrm.Bundle
	sp     xfrm.SecPath
	buf    []byte
	src    xfrm.SourceFunc
}

// wallSeconds is the host's clock as the xfrm use times read it.
func (h *Host) wallSeconds() int64 { return h.Now / 1e9 }

// xfrmSource picks the source of a tunnel template that has none, as
// routing would (xfrm4_get_saddr).
func (h *Host) xfrmSource(dst netip.Addr, oif int) (netip.Addr, bool) {
	oifName := ""
	if l := h.Net.LinkByIndex(oif); l != nil {
		oifName = l.Name
	}
	_, src, err := h.Net.Lookup(dst, netip.Addr{}, "", oifName, 0)
	return src, err == nil && src.IsValid()
}

// xfrmOutput is the look-up after POSTROUTING and, with a bundle, the
// transform. done says the packet's way ends here (res is its fate).
func (h *Host) xfrmOutput(s *skb) (res Result, done bool) {
	db := h.Xfrm
	if db == nil || s.out == "lo" {
		return Result{}, false
	}
	x := &h.xfrm
	var fl xfrm.Flow
	if !fl.FromPacket(s.buf, false) {
		return Result{}, false
	}
	if l := h.link(s.out); l != nil {
		fl.Oif = l.Index
	}
	fl.Mark = s.mark
	if x.src == nil {
		x.src = h.xfrmSource
	}
	switch db.OutputPolicy(&fl, h.wallSeconds(), x.src, &x.bundle) {
	case xfrm.Pass:
		return Result{}, false
	case xfrm.Transform:
	case xfrm.Blocked:
		res := dropped("IPsec policy blocks it")
		if s.local {
			res.SendErr = "operation not permitted"
		}
		return res, true
	default:
		// No SA yet: the kernel asks the key manager (ACQUIRE) and the
		// packet is lost.
		return dropped("no IPsec SA for the policy (acquire)"), true
	}
	inner := s.buf
	for i := 0; i < x.bundle.N; i++ {
		sa := x.bundle.SAs[i]
		out, err := sa.Encapsulate(x.buf[:0], inner, &xfrm.EncapParams{
			TTL: uint8(h.defaultTTL(sa.Family == xfrm.Inet6)), ID: uint16(h.random()),
			IgnoreDF: s.local, Now: h.wallSeconds()})
		if err != nil {
			return dropped("IPsec: " + err.Error()), true
		}
		x.buf = out
		inner = out
	}
	fam := xtables.IPv4
	if len(inner) > 0 && inner[0]>>4 == 6 {
		fam = xtables.IPv6
	}
	e := h.newSkb(fam)
	if err := e.setBytes(inner); err != nil {
		h.freeSkb(e)
		return dropped("IPsec: undecodable ESP packet"), true
	}
	e.local, e.mark, e.sock = true, s.mark, sockNone
	if h.Obs != nil {
		h.Obs.Note("xfrm", "encapsulated: "+e.pkt.String())
	}
	// The ESP packet is a new packet: OUTPUT, routing to the tunnel's
	// end, POSTROUTING, with its own conntrack entry (nf_reset_ct).
	res = h.output(e)
	h.release(e)
	h.freeSkb(e)
	return res, true
}

// xfrmInput decapsulates an ESP packet (or an ESP-in-UDP datagram on a
// port-4500 socket) delivered to the host and receives the inner packet
// on the same device, with its secpath. ok is false when s is not IPsec
// the host has a state for.
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
		if p.UDP.DstPort != packet.PortIPsecNATT {
			return Result{}, false
		}
		encap = 2 // UDP_ENCAP_ESPINUDP
	} else if p.Proto != packet.ProtoESP {
		return Result{}, false
	}
	x := &h.xfrm
	x.sp.Reset()
	inner, sa, err := db.Decapsulate(x.buf[:0], s.buf, &xfrm.DecapParams{EncapType: encap, Mark: s.mark, Now: h.wallSeconds()}, &x.sp)
	if err != nil {
		if encap != 0 && sa == nil {
			// Not ESP (an IKE message after the non-ESP marker): the
			// socket takes it.
			return Result{}, false
		}
		return dropped("IPsec: " + err.Error()), true
	}
	x.buf = inner
	fam := xtables.IPv4
	if len(inner) > 0 && inner[0]>>4 == 6 {
		fam = xtables.IPv6
	}
	c := h.newSkb(fam)
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
	// device (gro_cells_receive → ip_rcv).
	h.enqueue(c, "decapsulated")
	return Result{Fate: FateDelivered, Reason: "IPsec: decapsulated"}, true
}
