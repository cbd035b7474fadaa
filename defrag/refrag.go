package defrag

import (
	"errors"
	"slices"

	"github.com/iptwin/iptwin/packet"
)

// ErrFragSize is returned when a datagram cannot be fragmented to the
// MTU: the kernel answers with fragmentation needed / packet too big.
var ErrFragSize = errors.New("defrag: datagram does not fit the MTU and may not be fragmented")

// firstLen is the length of the head skb of a reassembled datagram of
// len(pkt) bytes made of fragments of the given data sizes: everything
// but the frag_list.
func firstLen(pkt []byte, sizes []int) int {
	n := len(pkt)
	for _, s := range sizes[1:] {
		n -= s
	}
	return n
}

// fastGeometry says whether ip_do_fragment / ip6_fragment can send the
// original fragments again (the frag_list fast path): the head's data and
// every fragment fit space bytes and all but the last are multiples of 8.
func fastGeometry(first int, sizes []int, space int) bool {
	if len(sizes) < 2 || first > space || first&7 != 0 || first < 0 {
		return false
	}
	for i, s := range sizes[1:] {
		if s < 0 || s > space || s&7 != 0 && i < len(sizes)-2 {
			return false
		}
	}
	return true
}

// Refragment4 fragments the IPv4 datagram pkt for a link of MTU mtu as
// ip_do_fragment does once ip_finish_output calls it (pkt larger than
// the MTU, or reassembled: maxFrag != 0). A reassembled datagram (sizes
// its fragments' data lengths, Queue.Sizes) whose fragments all fit
// min(mtu, maxFrag) leaves as the same fragments again (the frag_list
// fast path: first with MF only, DF dropped); otherwise it is cut into
// fragments of at most that size, keeping DF if the reassembled header
// has it (IPSKB_FRAG_PMTU). Options not to be copied become NOPs after
// the first fragment. Fragments are appended to dst and their slices to
// frags. Refusing a DF datagram (ip_fragment's ICMP) is the caller's
// business, as is the TTL decrement of forwarding.
func Refragment4(dst []byte, frags [][]byte, pkt []byte, sizes []int, maxFrag, mtu int) ([]byte, [][]byte, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return dst, frags, ErrMalformed
	}
	hlen := int(pkt[0]&0xf) * 4
	if hlen < 20 || hlen > len(pkt) || int(be.Uint16(pkt[2:])) != len(pkt) {
		return dst, frags, ErrMalformed
	}
	if maxFrag != 0 && maxFrag < mtu {
		mtu = maxFrag
	}
	space := mtu - hlen
	if space < 8 {
		return dst, frags, ErrFragSize
	}
	dst = slices.Grow(dst, len(pkt)+(len(pkt)/(space&^7)+len(sizes)+1)*hlen)
	// Fragments after the first carry the header with the options not
	// to be copied turned to NOPs (ip_options_fragment).
	var later [60]byte
	copy(later[:], pkt[:hlen])
	nopUncopied(later[20:hlen])
	fw := be.Uint16(pkt[6:])
	emit := func(first bool, off int, data []byte, w uint16) {
		fs := len(dst)
		if first {
			dst = append(dst, pkt[:hlen]...)
		} else {
			dst = append(dst, later[:hlen]...)
		}
		dst = append(dst, data...)
		finish4(dst[fs:], w|uint16(off>>3))
		frags = appendFrag(frags, dst, fs)
	}
	if len(sizes) > 1 && fw&0x3fff == 0 && fastGeometry(firstLen(pkt, sizes)-hlen, sizes, space) {
		// ip_fraglist_init / ip_fraglist_prepare: the first fragment has
		// MF only, the others their offset and MF but on the last.
		data := pkt[hlen:]
		off := 0
		for i, s := range sizes {
			if i == 0 {
				s = firstLen(pkt, sizes) - hlen
			}
			var w uint16
			if i < len(sizes)-1 {
				w = 0x2000
			}
			emit(i == 0, off, data[off:off+s], w)
			off += s
		}
		return dst, frags, nil
	}
	// The slow path: ip_frag_init / ip_frag_next.
	var df uint16
	if maxFrag != 0 && fw&0x4000 != 0 {
		df = 0x4000
	}
	left := len(pkt) - hlen
	offset := int(fw&0x1fff) * 8
	notLast := fw&0x2000 != 0
	for ptr := hlen; left > 0; {
		n := min(left, space)
		if n < left {
			n &^= 7
		}
		left -= n
		w := df
		if left > 0 || notLast {
			w |= 0x2000
		}
		emit(ptr == hlen, offset, pkt[ptr:ptr+n], w)
		ptr += n
		offset += n
	}
	return dst, frags, nil
}

// appendFrag records the fragment starting at fs, the end of dst.
func appendFrag(frags [][]byte, dst []byte, fs int) [][]byte {
	return append(frags, dst[fs:len(dst):len(dst)])
}

// finish4 sets an IPv4 fragment's fragment word, total length and
// checksum.
func finish4(f []byte, w uint16) {
	hlen := int(f[0]&0xf) * 4
	be.PutUint16(f[6:], w)
	be.PutUint16(f[2:], uint16(len(f)))
	f[10], f[11] = 0, 0
	be.PutUint16(f[10:], checksum(f[:hlen]))
}

// nopUncopied is ip_options_fragment: options whose copy bit is clear
// become NOPs.
func nopUncopied(o []byte) {
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

// unfragmentable is ip6_find_1stfragopt: the length of the IPv6
// datagram's unfragmentable part and the offset of the next-header byte
// that names the first fragmentable header.
func unfragmentable(pkt []byte) (hlen, nhoff int, ok bool) {
	off, nh := 40, 6
	rthdr := false
	for off <= len(pkt) {
		switch pkt[nh] {
		case packet.ProtoHopByHop:
		case packet.ProtoRouting:
			rthdr = true
		case packet.ProtoDstOpts:
			if rthdr {
				return off, nh, true
			}
		default:
			return off, nh, true
		}
		if off+2 > len(pkt) {
			return 0, 0, false
		}
		nh = off
		off += (int(pkt[off+1]) + 1) * 8
	}
	return 0, 0, false
}

// Refragment6 fragments the IPv6 datagram pkt for a link of MTU mtu as
// ip6_fragment does once ip6_finish_output calls it (pkt larger than the
// MTU or, reassembled by conntrack, than maxFrag), with fragment
// identification id (ipv6_select_ident in the kernel: a keyed hash, the
// caller's random source here). A reassembled datagram is cut to maxFrag
// (at least 1280) and fails with ErrFragSize if maxFrag exceeds the MTU;
// its original fragments are sent again when they all fit (the
// frag_list fast path), else it is cut into fragments of at most that
// size. The fragment header goes after the unfragmentable part
// (hop-by-hop, routing, destination options before a routing header).
func Refragment6(dst []byte, frags [][]byte, pkt []byte, sizes []int, maxFrag, mtu int, id uint32) ([]byte, [][]byte, error) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 || 40+int(be.Uint16(pkt[4:])) != len(pkt) {
		return dst, frags, ErrMalformed
	}
	hlen, nhoff, ok := unfragmentable(pkt)
	if !ok {
		return dst, frags, ErrMalformed
	}
	if maxFrag != 0 {
		if maxFrag > mtu {
			return dst, frags, ErrFragSize
		}
		mtu = max(maxFrag, 1280)
	}
	if mtu < hlen+8+8 {
		return dst, frags, ErrFragSize
	}
	space := mtu - hlen - 8
	dst = slices.Grow(dst, len(pkt)+(len(pkt)/(space&^7)+len(sizes)+1)*(hlen+8))
	next := pkt[nhoff]
	emit := func(off int, data []byte, more bool) {
		fs := len(dst)
		dst = append(dst, pkt[:hlen]...)
		dst[fs+nhoff] = packet.ProtoFragment
		w := uint16(off)
		if more {
			w |= 1
		}
		dst = append(dst, next, 0, byte(w>>8), byte(w))
		dst = be.AppendUint32(dst, id)
		dst = append(dst, data...)
		be.PutUint16(dst[fs+4:], uint16(len(dst)-fs-40))
		frags = appendFrag(frags, dst, fs)
	}
	if len(sizes) > 1 && fastGeometry(firstLen(pkt, sizes)-hlen, sizes, space) {
		// ip6_fraglist_init / ip6_fraglist_prepare.
		off := 0
		data := pkt[hlen:]
		for i, s := range sizes {
			if i == 0 {
				s = firstLen(pkt, sizes) - hlen
			}
			emit(off, data[off:off+s], i < len(sizes)-1)
			off += s
		}
		return dst, frags, nil
	}
	// ip6_frag_init / ip6_frag_next.
	left := len(pkt) - hlen
	for off := 0; left > 0; {
		n := min(left, space)
		if n < left {
			n &^= 7
		}
		left -= n
		emit(off, pkt[hlen+off:hlen+off+n], left > 0)
		off += n
	}
	return dst, frags, nil
}
