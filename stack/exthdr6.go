package stack

import (
	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
)

// exthdrs6 is the IPv6 extension header processing of local delivery
// (net/ipv6/exthdrs.c): destination options and hop-by-hop TLVs whose
// unknown types say to discard (and maybe answer), routing headers of an
// unknown type with segments left. ok is false when the packet ends here.
func (h *Host) exthdrs6(s *skb) (Result, bool) {
	p := &s.pkt
	off := 40
	for i := 0; i < int(p.NumExt); i++ {
		e := &p.Ext[i]
		switch e.Proto {
		case packet.ProtoHopByHop, packet.ProtoDstOpts:
			if ptr, action := tlvCheck(e.Data); action != 0 {
				// Action 2 answers always, 3 unless the destination is
				// multicast (ip6_tlvopt_unknown).
				if action == 2 || action == 3 && !p.Dst().IsMulticast() {
					h.sendParamProblem(s, icmpgen.ICMPv6UnkOption, uint32(off+ptr))
				}
				return dropped("unknown IPv6 option"), false
			}
		case packet.ProtoRouting:
			// ipv6_rthdr_rcv: with segments left, a type the host does
			// not process is a parameter problem at its type field.
			if len(e.Data) >= 4 && e.Data[3] != 0 {
				h.sendParamProblem(s, icmpgen.ICMPv6HdrField, uint32(off+2))
				return dropped("IPv6 routing header of an unknown type"), false
			}
		}
		off += len(e.Data)
	}
	if p.Proto == packet.ProtoNoNext {
		// nodata_protocol: "no next header" is taken and discarded.
		return Result{Fate: FateDelivered, Reason: "no next header"}, false
	}
	return Result{}, true
}

// tlvCheck is ip6_parse_tlv over an options header: the offset and the
// action bits (1-3: discard) of the first unknown option that is not to
// be skipped; action 0 when the packet goes on.
func tlvCheck(d []byte) (ptr int, action uint8) {
	for i := 2; i < len(d); {
		t := d[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		if i+1 >= len(d) {
			return i, 1
		}
		switch t {
		case 1, 4, 5, 0xc2, 0xc9: // PadN, tunnel limit, router alert, jumbo, home address
		default:
			if a := t >> 6; a != 0 {
				return i, a
			}
		}
		i += 2 + int(d[i+1])
	}
	return 0, 0
}

// sendParamProblem sends an ICMPv6 parameter problem about s.
func (h *Host) sendParamProblem(s *skb, code uint8, ptr uint32) {
	o := h.replyOptions(s)
	r := h.newSkb(s.fam)
	var ok bool
	r.buf, ok = icmpgen.Error(r.buf[:0], &s.pkt, icmpgen.ICMPv6ParamProblem, code, ptr, o)
	if ok && !h.rateAllowed(s, r.buf) {
		ok = false
	}
	r.sock = sockCtl
	attachCt(r, s)
	h.queueReply(r, ok, "icmp error")
}
