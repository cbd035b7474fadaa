package defrag

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// IPv6 defrag users (enum ip6_defrag_users).
const (
	userLocal6        = 0
	userConntrackIn6  = 1
	userConntrackOut6 = userConntrackIn6 + 0xffff + 1
)

// fragHeader finds the fragment header of the IPv6 packet b as
// find_prev_fhdr does: its offset and the offset of the next-header byte
// pointing to it; ok false when b has none (or the chain is unreadable).
func fragHeader(b []byte) (fhoff, nhoff int, ok bool) {
	next, off, nh := b[6], 40, 6
	for next != packet.ProtoFragment {
		switch next {
		case packet.ProtoHopByHop, packet.ProtoRouting, packet.ProtoDstOpts, packet.ProtoAH:
		default:
			return 0, 0, false // not an extension header, or NONE
		}
		if off+2 > len(b) {
			return 0, 0, false
		}
		n := (int(b[off+1]) + 1) * 8
		if next == packet.ProtoAH {
			n = (int(b[off+1]) + 2) * 4
		}
		next, nh = b[off], off
		off += n
	}
	if off > len(b) {
		return 0, 0, false
	}
	return off, nh, true
}

// thdrTruncated is ipv6frag_thdr_truncated: a first fragment must hold
// its transport header (20 bytes of TCP, 8 of UDP or ICMPv6, 1 of
// anything else; RFC 8200 4.5).
func thdrTruncated(b []byte, fhoff int) bool {
	off := fhoff
	next := uint8(packet.ProtoFragment)
	for {
		switch next {
		case packet.ProtoHopByHop, packet.ProtoRouting, packet.ProtoDstOpts, packet.ProtoAH, packet.ProtoFragment:
		case packet.ProtoNoNext:
			return false
		default:
			switch next {
			case packet.ProtoTCP:
				off += 20
			case packet.ProtoUDP, packet.ProtoICMPv6:
				off += 8
			default:
				off++
			}
			return off > len(b)
		}
		if off+2 > len(b) {
			return false // ipv6_skip_exthdr fails: not truncated
		}
		var n int
		switch next {
		case packet.ProtoFragment:
			if off+4 > len(b) {
				return false
			}
			if be.Uint16(b[off+2:])&^7 != 0 {
				return false // not the first fragment
			}
			n = 8
		case packet.ProtoAH:
			n = (int(b[off+1]) + 2) * 4
		default:
			n = (int(b[off+1]) + 1) * 8
		}
		next = b[off]
		off += n
	}
}

// add6 is nf_ct_frag6_gather + nf_ct_frag6_queue (IPv6Conntrack) or
// ipv6_frag_rcv + ip6_frag_queue (IPv6Local).
func (q *Queue) add6(b []byte, now int64, m Meta) ([]byte, int, bool, error) {
	nf := q.cfg.Kind == IPv6Conntrack
	if len(b) < 40 || b[0]>>4 != 6 {
		return nil, 0, false, q.fail(ReasonMalformed)
	}
	plen := int(be.Uint16(b[4:]))
	if plen == 0 || 40+plen > len(b) {
		return b, 0, true, nil // jumbogram: no fragment header allowed
	}
	b = b[:40+plen]
	fhoff, nhoff, ok := fragHeader(b)
	if !ok {
		return b, 0, true, nil
	}
	if nf {
		if thdrTruncated(b, fhoff) {
			return b, 0, true, nil // passed on unreassembled
		}
		if fhoff+8 > len(b) {
			return nil, 0, false, q.fail(ReasonMalformed) // pskb_may_pull fails: dropped
		}
	} else {
		if fhoff+8 > len(b) {
			return nil, 0, false, q.paramProblem(ReasonMalformed, 0, fhoff)
		}
		if be.Uint16(b[fhoff+2:])&0xfff9 == 0 {
			// An atomic fragment: local delivery goes on past the header.
			return b, plen + 40, true, nil
		}
		if thdrTruncated(b, fhoff) {
			return nil, 0, false, q.paramProblem(ReasonTruncated, 3, 0)
		}
	}
	fw := be.Uint16(b[fhoff+2:])
	k := key{src: netip.AddrFrom16([16]byte(b[8:24])), dst: netip.AddrFrom16([16]byte(b[24:40])),
		id: be.Uint32(b[fhoff+4:])}
	if nf {
		k.user = userConntrackIn6 + uint32(m.Zone)
		if m.Out {
			k.user = userConntrackOut6 + uint32(m.Zone)
		}
		k.dev = m.IfIndex
	} else if b[24] == 0xff || b[24] == 0xfe && b[25]&0xc0 == 0x80 {
		k.dev = m.IfIndex // multicast and link-local destinations only
	}
	f := q.find(k, now)
	if f == nil {
		return nil, 0, false, q.fail(ReasonNoMemory)
	}
	off := int(fw &^ 7)
	end := off + plen - (fhoff + 8 - 40)
	if end > 65535 {
		if nf {
			return nil, 0, false, q.fail(ReasonTooBig)
		}
		return nil, 0, false, q.paramProblem(ReasonTooBig, 0, fhoff+2)
	}
	// Where conntrack drops a fragment alone (goto err) local delivery
	// discards the datagram (discard_fq).
	drop := func(r Reason) ([]byte, int, bool, error) {
		if !nf {
			q.kill(f)
		}
		return nil, 0, false, q.fail(r)
	}
	if fw&1 == 0 {
		if end < f.length || f.flags&flagLast != 0 && end != f.length {
			return drop(ReasonCorrupt)
		}
		f.flags |= flagLast
		f.length = end
	} else {
		if end&7 != 0 {
			if nf {
				// The queue is killed and the fragment goes on alone.
				q.kill(f)
				return b, 0, true, nil
			}
			// Parameter problem at the payload length; the queue stays
			// (even one this fragment created, until it times out).
			return nil, 0, false, q.paramProblem(ReasonUnaligned, 0, 4)
		}
		if end > f.length {
			if f.flags&flagLast != 0 {
				return drop(ReasonCorrupt)
			}
			f.length = end
		}
	}
	if end == off {
		return drop(ReasonEmpty)
	}
	switch r := f.insert(off, end); r {
	case ReasonDuplicate:
		return nil, 0, false, q.fail(r)
	case ReasonOverlap:
		q.kill(f)
		return nil, 0, false, q.fail(r)
	}
	f.keep(off, end, b[fhoff+8:fhoff+8+end-off])
	f.meat += end - off
	f.ecn |= 1 << (uint8(be.Uint32(b)>>20) & 3)
	f.maxSize = max(f.maxSize, 40+plen)
	ts := int64(q.cfg.Truesize(40 + plen + 14))
	f.mem += ts
	q.mem += ts
	if off == 0 {
		f.flags |= flagFirst
		f.head = append(f.head[:0], b[:fhoff+8]...)
		f.nhoff = nhoff
	}
	if f.flags != flagFirst|flagLast || f.meat != f.length {
		return nil, 0, false, nil
	}
	return q.reasm6(f)
}

// reasm6 is nf_ct_frag6_reasm / ip6_frag_reasm: the fragment header is
// removed and the header before it names what followed it.
func (q *Queue) reasm6(f *fq) ([]byte, int, bool, error) {
	ecn := ecnTable[f.ecn]
	if ecn == 0xff {
		q.kill(f)
		return nil, 0, false, q.fail(ReasonECN)
	}
	fhoff := len(f.head) - 8
	plen := fhoff - 40 + f.length
	if plen > 65535 {
		q.kill(f)
		return nil, 0, false, q.fail(ReasonTooBig)
	}
	w := q.assemble(f, f.head[:fhoff])
	w[f.nhoff] = f.head[fhoff]
	be.PutUint16(w[4:], uint16(plen))
	w[1] |= ecn << 4
	maxFrag := f.maxSize
	q.kill(f)
	return w, maxFrag, true, nil
}

// checksum is the IPv4 header checksum of h (its field zeroed).
func checksum(h []byte) uint16 { return packet.Checksum(h, 0) }
