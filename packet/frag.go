package packet

import (
	"net/netip"
	"slices"
)

// FragKey identifies the fragments of one datagram, as the kernel's
// defragmentation keys them: addresses and identification, plus the
// protocol for IPv4 (RFC 791); IPv6 fragments are keyed without it.
type FragKey struct {
	Src, Dst netip.Addr
	ID       uint32
	Proto    uint8
}

// IsFragment reports whether the packet is a fragment, not a whole
// datagram (IPv4 MF or offset set; IPv6 fragment header with M or offset;
// an IPv6 "atomic fragment" with neither is not a fragment).
func (h *Headers) IsFragment() bool {
	if h.Layers&LayerIPv6 != 0 {
		return h.Layers&LayerFragment != 0 && (h.IPv6.Frag.More || h.IPv6.Frag.Offset != 0)
	}
	return h.IPv4.Flags&IPv4MF != 0 || h.IPv4.FragOff != 0
}

// FragKey is the reassembly key of the packet.
func (h *Headers) FragKey() FragKey {
	if h.Layers&LayerIPv6 != 0 {
		return FragKey{Src: h.IPv6.Src, Dst: h.IPv6.Dst, ID: h.IPv6.Frag.ID}
	}
	return FragKey{Src: h.IPv4.Src, Dst: h.IPv4.Dst, ID: uint32(h.IPv4.ID), Proto: h.IPv4.Protocol}
}

// FragOffset is the offset in bytes of the fragment's data in the datagram.
func (h *Headers) FragOffset() int {
	if h.Layers&LayerIPv6 != 0 {
		return int(h.IPv6.Frag.Offset) * 8
	}
	return int(h.IPv4.FragOff) * 8
}

// MoreFragments reports whether fragments follow (MF / M flag).
func (h *Headers) MoreFragments() bool {
	if h.Layers&LayerIPv6 != 0 {
		return h.IPv6.Frag.More
	}
	return h.IPv4.Flags&IPv4MF != 0
}

// FragHeaderLen is the length of what precedes the fragment data: the
// IPv4 header, or the IPv6 unfragmentable part plus the fragment header.
func (h *Headers) FragHeaderLen() int {
	if h.Layers&LayerIPv6 != 0 {
		off := 40
		for i := 0; i < int(h.NumExt); i++ {
			off += len(h.Ext[i].Data)
			if h.Ext[i].Proto == ProtoFragment {
				return off
			}
		}
		return off
	}
	return int(h.IPv4.IHL) * 4
}

// FragData is the fragment's data: what reassembly places at FragOffset.
func (h *Headers) FragData() []byte {
	n := h.FragHeaderLen()
	if n > len(h.Data) {
		return nil
	}
	return h.Data[n:]
}

// FragmentIPv4 splits the IPv4 packet pkt into fragments of at most mtu
// bytes the way Linux's ip_do_fragment does: data in multiples of 8
// bytes, every fragment with the full header length, options not to be
// copied (copy bit clear) replaced by NOPs after the first fragment, MF on
// all but the last (and on the last too if pkt itself was not the last
// fragment), DF and the reserved bit cleared, checksums recomputed. The
// fragments are appended to dst (grown once) and their slices to frags.
// A packet that fits is returned unchanged as the only fragment; refusing
// to fragment DF packets is the caller's business.
func FragmentIPv4(dst []byte, frags [][]byte, pkt []byte, mtu int) ([]byte, [][]byte, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return dst, frags, encErr("ipv4", "header bytes", OpTruncated, 20, len(pkt))
	}
	hl := int(pkt[0]&0xf) * 4
	tot := int(be.Uint16(pkt[2:]))
	if hl < 20 || tot < hl || tot > len(pkt) {
		return dst, frags, encErr("ipv4", "total length", OpTruncated, tot, len(pkt))
	}
	if tot <= mtu {
		start := len(dst)
		dst = append(dst, pkt[:tot]...)
		return dst, append(frags, dst[start:]), nil
	}
	if mtu < hl+8 {
		return dst, frags, encErr("ipv4", "mtu", OpLess, mtu, hl+8)
	}
	chunk := (mtu - hl) &^ 7
	data := pkt[hl:tot]
	n := (len(data) + chunk - 1) / chunk
	start := len(dst)
	dst = slices.Grow(dst, n*hl+len(data))
	fw := be.Uint16(pkt[6:])
	base := int(fw&0x1fff) * 8
	notLast := fw&0x2000 != 0
	for i := 0; i < n; i++ {
		off := i * chunk
		part := data[off:min(off+chunk, len(data))]
		fs := len(dst)
		dst = append(dst, pkt[:hl]...)
		if i > 0 {
			nopUncopiedOptions(dst[fs+20 : fs+hl])
		}
		dst = append(dst, part...)
		f := dst[fs:]
		w := uint16((base + off) >> 3)
		if i < n-1 || notLast {
			w |= 0x2000
		}
		be.PutUint16(f[6:], w)
		be.PutUint16(f[2:], uint16(hl+len(part)))
		f[10], f[11] = 0, 0
		be.PutUint16(f[10:], Checksum(f[:hl], 0))
	}
	for i, fs := 0, start; i < n; i++ {
		l := int(be.Uint16(dst[fs+2:]))
		frags = append(frags, dst[fs:fs+l:fs+l])
		fs += l
	}
	return dst, frags, nil
}

// nopUncopiedOptions is Linux's ip_options_fragment: options whose copy
// bit is clear become NOPs.
func nopUncopiedOptions(o []byte) {
	for i := 0; i < len(o); {
		switch o[i] {
		case 0:
			return
		case 1:
			i++
			continue
		}
		if i+1 >= len(o) {
			return
		}
		l := int(o[i+1])
		if l < 2 || i+l > len(o) {
			return
		}
		if o[i]&0x80 == 0 {
			for j := i; j < i+l; j++ {
				o[j] = 1
			}
		}
		i += l
	}
}

// FragmentIPv6 splits the IPv6 packet pkt into fragments of at most mtu
// bytes, inserting a fragment header with identification id after the
// unfragmentable part as Linux's ip6_fragment does (ip6_find_1stfragopt:
// hop-by-hop, routing and destination options before a routing header stay
// in front). Fragment data is a multiple of 8 bytes except in the last.
// The fragments are appended to dst (grown once) and their slices to
// frags. Unlike FragmentIPv4 it always inserts the header, so a packet
// that fits becomes one "atomic" fragment (offset 0, M clear).
func FragmentIPv6(dst []byte, frags [][]byte, pkt []byte, mtu int, id uint32) ([]byte, [][]byte, error) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return dst, frags, encErr("ipv6", "header bytes", OpTruncated, 40, len(pkt))
	}
	tot := 40 + int(be.Uint16(pkt[4:]))
	if tot > len(pkt) {
		return dst, frags, encErr("ipv6", "payload length", OpTruncated, tot-40, len(pkt)-40)
	}
	// Find the end of the unfragmentable part and the next-header byte
	// that will point to the fragment header.
	off, nhAt := 40, 6
	rthdr := false
scan:
	for {
		nh := pkt[nhAt]
		switch nh {
		case ProtoHopByHop, ProtoRouting, ProtoDstOpts:
			if nh == ProtoDstOpts && rthdr {
				break scan
			}
			if nh == ProtoRouting {
				rthdr = true
			}
			if off+8 > tot {
				return dst, frags, encErr("ipv6", "extension header bytes", OpTruncated, off+8, tot)
			}
			n := (int(pkt[off+1]) + 1) * 8
			if off+n > tot {
				return dst, frags, encErr("ipv6", "extension header bytes", OpTruncated, off+n, tot)
			}
			nhAt = off
			off += n
		case ProtoFragment:
			return dst, frags, encErr("ipv6", "fragment headers", OpGreater, 1, 0)
		default:
			break scan
		}
	}
	chunk := (mtu - off - 8) &^ 7
	if chunk < 8 {
		return dst, frags, encErr("ipv6", "mtu", OpLess, mtu, off+16)
	}
	data := pkt[off:tot]
	if len(data) <= mtu-off-8 {
		chunk = len(data) // fits whole: one atomic fragment
	}
	n := 1
	if chunk > 0 {
		n = max(1, (len(data)+chunk-1)/chunk)
	}
	start := len(dst)
	dst = slices.Grow(dst, n*(off+8)+len(data))
	next := pkt[nhAt]
	for i := 0; i < n; i++ {
		o := i * chunk
		part := data[o:min(o+chunk, len(data))]
		fs := len(dst)
		dst = append(dst, pkt[:off]...)
		dst[fs+nhAt] = ProtoFragment
		be.PutUint16(dst[fs+4:], uint16(off+8+len(part)-40))
		w := uint16(o)
		if i < n-1 {
			w |= 1
		}
		dst = append(dst, next, 0)
		dst = be.AppendUint16(dst, w)
		dst = be.AppendUint32(dst, id)
		dst = append(dst, part...)
	}
	for i, fs := 0, start; i < n; i++ {
		l := 40 + int(be.Uint16(dst[fs+4:]))
		frags = append(frags, dst[fs:fs+l:fs+l])
		fs += l
	}
	return dst, frags, nil
}

// InsertIPv6Fragment appends pkt with a fragment header (offset 0, M
// clear, identification id) inserted after its unfragmentable part.
func InsertIPv6Fragment(dst []byte, pkt []byte, id uint32) ([]byte, error) {
	var one [1][]byte
	dst, _, err := FragmentIPv6(dst, one[:0], pkt, 1<<20, id)
	return dst, err
}
