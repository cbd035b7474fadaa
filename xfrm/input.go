package xfrm

import (
	"encoding/binary"
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// DecapParams is what Decapsulate takes from the packet path.
type DecapParams struct {
	// EncapType is the encapsulation type of the UDP socket a UDP datagram
	// was delivered to (UDP_ENCAP_ESPINUDP on the IKE daemon's port 4500
	// socket; 0 for a socket without it, whose datagrams are not ESP).
	// Ignored for a packet whose protocol is ESP.
	EncapType uint16
	// Mark is skb->mark (the state lookup's mark).
	Mark uint32
	// Now is the wall clock in seconds.
	Now int64
}

// Decapsulate is the ESP input path for one packet delivered to the host:
// xfrm4_rcv / xfrm6_rcv for protocol ESP, or xfrm4_udp_encap_rcv for a
// UDP datagram to a socket with an encapsulation type (keepalives are
// eaten: ErrKeepalive; IKE after the non-ESP marker goes to the socket:
// ErrNotESP), then xfrm_input: the state by (destination, SPI, ESP,
// family) and mark, its encapsulation type, the replay window
// (xfrm_replay_check), the expiry, esp_input (ICV, then decryption, then
// the trailer: esp_remove_trailer), the replay window's advance and the
// accounting, and the inner mode (xfrm4_remove_tunnel_encap with the ECN
// and decap-dscp rules, or transport mode's header). It appends the inner
// packet to dst (the outer bytes are not changed), pushes the state onto
// sp and returns both. The inner packet re-enters PREROUTING on the same
// device with sp. A drop is counted in db.MIB (XfrmIn*). It allocates
// nothing when dst has room.
func (db *DB) Decapsulate(dst, outer []byte, p *DecapParams, sp *SecPath) ([]byte, *State, error) {
	dst, x, err := db.decapsulate(dst, outer, p, sp)
	if err != nil {
		db.countInError(err)
	}
	return dst, x, err
}

func (db *DB) decapsulate(dst, outer []byte, p *DecapParams, sp *SecPath) ([]byte, *State, error) {
	var o outerHdr
	if !o.parse(outer) {
		return dst, nil, ErrBadPacket
	}
	encapType := uint16(0)
	espOff := o.transOff
	switch o.proto {
	case ProtoESP:
	case protoUDP:
		if p.EncapType == 0 {
			return dst, nil, ErrNotESP
		}
		u := outer[o.transOff:o.end]
		if len(u) < 8 {
			return dst, nil, ErrBadPacket
		}
		data := u[8:]
		if ul := int(binary.BigEndian.Uint16(u[4:])); ul >= 8 && ul <= len(u) {
			data = u[8:ul]
		}
		switch p.EncapType {
		case EncapESPinUDPNonIKE:
			switch {
			case len(data) == 1 && data[0] == 0xff:
				return dst, nil, ErrKeepalive
			case len(data) > 16 && binary.BigEndian.Uint32(data) == 0 && binary.BigEndian.Uint32(data[4:]) == 0:
				espOff += 16
			default:
				return dst, nil, ErrNotESP
			}
		default:
			switch {
			case len(data) == 1 && data[0] == 0xff:
				return dst, nil, ErrKeepalive
			case len(data) > 8 && binary.BigEndian.Uint32(data) != 0:
				espOff += 8
			default:
				return dst, nil, ErrNotESP
			}
		}
		encapType = p.EncapType
	default:
		return dst, nil, ErrBadPacket
	}
	if sp.Len >= MaxDepth {
		return dst, nil, ErrSecPathFull
	}
	esp := outer[espOff:o.end]
	if len(esp) < 8 {
		return dst, nil, ErrProto
	}
	spi := binary.BigEndian.Uint32(esp)
	seq := binary.BigEndian.Uint32(esp[4:])
	x := db.LookupSPI(o.dst, spi, ProtoESP, p.Mark)
	if x == nil {
		return dst, nil, ErrNoState
	}
	if x.Expired || x.Larval || x.blk == 0 {
		return dst, x, ErrStateInvalid
	}
	st := uint16(0)
	if x.Encap != nil {
		st = x.Encap.Type
	}
	if st != encapType {
		return dst, x, ErrEncapType
	}
	if x.Mode != ModeTunnel && x.Mode != ModeTransport {
		return dst, x, ErrUnsupported
	}
	if !x.replayCheck(seq) {
		return dst, x, ErrReplay
	}
	if x.Cur.UseTime == 0 {
		x.Cur.UseTime = p.Now
	}
	if x.Cur.Bytes >= x.Lft.HardBytes || x.Cur.Packets >= x.Lft.HardPackets {
		x.Expired = true
		return dst, x, ErrExpired
	}
	if !x.Dying && (x.Cur.Bytes >= x.Lft.SoftBytes || x.Cur.Packets >= x.Lft.SoftPackets) {
		x.Dying = true
	}

	// esp_input
	ivlen, alen := x.ivLen, x.icvLen
	elen := len(esp) - 8 - ivlen
	if elen <= 0 || elen < alen {
		return dst, x, ErrProto
	}
	clen := elen - alen
	if x.rawBlk > 1 && clen%x.rawBlk != 0 {
		return dst, x, ErrProto
	}
	seqHi := x.seqHi(seq)
	if alen > 0 {
		var want [64]byte
		icv(want[:alen], x.authKey, esp[:8+ivlen+clen], seqHi, x.Flags&StateESN != 0)
		if string(want[:alen]) != string(esp[8+ivlen+clen:8+ivlen+clen+alen]) {
			x.Stats.IntegrityFailed++
			return dst, x, ErrIntegrity
		}
	}
	start := len(dst)
	keep := 0
	if x.Mode == ModeTransport {
		keep = o.transOff
	}
	dst = grow(dst, keep+clen)
	out := dst[start:]
	copy(out, outer[:keep])
	body := out[keep : keep+clen]
	copy(body, esp[8+ivlen:8+ivlen+clen])
	if x.encrypt {
		xorStream(body, x.encKey, esp[8:8+ivlen])
	}
	// esp_remove_trailer
	padlen := int(body[clen-1-1])
	nexthdr := body[clen-1]
	if padlen+2+alen >= elen {
		return dst[:start], x, ErrProto
	}
	innerLen := clen - padlen - 2

	// xfrm_replay_recheck, xfrm_replay_advance, the accounting.
	if !x.replayCheck(seq) {
		return dst[:start], x, ErrReplay
	}
	x.replayAdvance(seq, seqHi)
	x.Cur.Bytes += uint64(innerLen)
	x.Cur.Packets++
	x.LastUsed = p.Now

	dst = dst[:start+keep+innerLen]
	out = dst[start:]
	if x.Mode == ModeTransport {
		if !o.fixTransport(out, nexthdr) {
			return dst[:start], x, ErrInnerMode
		}
	} else if !x.removeTunnel(out, nexthdr, o.dsfield) {
		return dst[:start], x, ErrInnerMode
	}
	sp.push(x)
	return dst, x, nil
}

// removeTunnel is the tunnel inner mode's input (xfrm4/6_remove_tunnel_encap):
// the next header says the inner family, which the state must take; the
// outer DSCP replaces the inner one with decap-dscp; an outer CE marks an
// ECN-capable inner packet CE (ipip_ecn_decapsulate) unless noecn.
func (x *State) removeTunnel(in []byte, nexthdr uint8, outerDS uint8) bool {
	var fam Family
	switch nexthdr {
	case protoIPIP:
		fam = Inet
	case protoIPv6:
		fam = Inet6
	default:
		return false
	}
	if x.Sel.Family != Unspec && x.Sel.Family != fam {
		return false
	}
	if fam == Inet {
		if len(in) < 20 || in[0]>>4 != 4 {
			return false
		}
		tos := in[1]
		if x.Flags&StateDecapDSCP != 0 {
			tos = tos&3 | outerDS&^3
		}
		if x.Flags&StateNoECN == 0 && outerDS&3 == 3 && tos&3 != 0 {
			tos |= 3
		}
		if tos != in[1] {
			in[1] = tos
			hl := int(in[0]&0xf) * 4
			if hl < 20 || hl > len(in) {
				return false
			}
			in[10], in[11] = 0, 0
			binary.BigEndian.PutUint16(in[10:], packet.Checksum(in[:hl], 0))
		}
		return true
	}
	if len(in) < 40 || in[0]>>4 != 6 {
		return false
	}
	w := binary.BigEndian.Uint32(in)
	ds := uint8(w >> 20)
	if x.Flags&StateDecapDSCP != 0 {
		ds = ds&3 | outerDS&^3
	}
	if x.Flags&StateNoECN == 0 && outerDS&3 == 3 && ds&3 != 0 {
		ds |= 3
	}
	binary.BigEndian.PutUint32(in, w&^(0xff<<20)|uint32(ds)<<20)
	return true
}

// outerHdr is what the input path reads of the received packet.
type outerHdr struct {
	family   Family
	dst      netip.Addr
	proto    uint8
	transOff int // where ESP (or UDP) starts
	nextOff  int // the byte that names it
	end      int // end of the IP packet
	dsfield  uint8
}

func (o *outerHdr) parse(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return false
		}
		hl := int(b[0]&0xf) * 4
		tot := int(binary.BigEndian.Uint16(b[2:]))
		if hl < 20 || tot < hl || tot > len(b) {
			return false
		}
		if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 {
			return false // a fragment: reassembled before the protocol sees it
		}
		o.family, o.dsfield = Inet, b[1]
		o.dst = netip.AddrFrom4([4]byte(b[16:20]))
		o.proto, o.transOff, o.nextOff, o.end = b[9], hl, 9, tot
		return true
	case 6:
		if len(b) < 40 {
			return false
		}
		end := 40 + int(binary.BigEndian.Uint16(b[4:]))
		if end > len(b) {
			return false
		}
		o.family = Inet6
		o.dsfield = uint8(binary.BigEndian.Uint32(b) >> 20)
		o.dst = netip.AddrFrom16([16]byte(b[24:40]))
		off, nextOff, proto := 40, 6, b[6]
		for proto == 0 || proto == 43 || proto == 60 {
			if end < off+8 {
				return false
			}
			n := (int(b[off+1]) + 1) * 8
			if off+n > end {
				return false
			}
			nextOff, proto = off, b[off]
			off += n
		}
		if proto == 44 {
			return false
		}
		o.proto, o.transOff, o.nextOff, o.end = proto, off, nextOff, end
		return true
	}
	return false
}

// fixTransport turns the kept outer header into the header of the
// decapsulated transport-mode packet (xfrm4_transport_finish: protocol,
// total length, checksum; IPv6: next header and payload length).
func (o *outerHdr) fixTransport(b []byte, nexthdr uint8) bool {
	if o.family == Inet {
		b[9] = nexthdr
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], packet.Checksum(b[:o.transOff], 0))
		return true
	}
	b[o.nextOff] = nexthdr
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	return true
}

// ---- anti-replay (xfrm_replay.c) ----

// replayCheck is xfrm_replay_check (legacy, bmp and esn modes): false when
// the sequence number is 0, too old for the window or already seen.
func (x *State) replayCheck(seq uint32) bool {
	r := &x.Replay
	if !r.ESN {
		if x.ReplayWindow == 0 {
			return true
		}
		if seq == 0 {
			return false
		}
		if seq > r.Seq {
			return true
		}
		diff := r.Seq - seq
		if diff >= x.ReplayWindow {
			x.Stats.ReplayWindow++
			return false
		}
		if r.Bitmap&(1<<diff) != 0 {
			x.Stats.Replay++
			return false
		}
		return true
	}
	w := r.Window
	if w == 0 {
		return true
	}
	diff := r.Seq - seq
	if x.Flags&StateESN == 0 {
		// bitmap mode
		if seq == 0 {
			return false
		}
		if seq > r.Seq {
			return true
		}
	} else {
		top, bottom := r.Seq, r.Seq-w+1
		if seq == 0 && r.SeqHi == 0 && r.Seq < w-1 {
			return false
		}
		if top >= w-1 {
			if seq > top || seq < bottom {
				return true
			}
		} else {
			if seq > top && seq < bottom {
				return true
			}
			if seq >= bottom {
				diff = ^seq + top + 1
			}
		}
	}
	if diff >= w {
		x.Stats.ReplayWindow++
		return false
	}
	if r.bit(r.bitnr(diff)) {
		x.Stats.Replay++
		return false
	}
	return true
}

// bitnr is the bitmap position of the number diff below the top.
func (r *Replay) bitnr(diff uint32) uint32 {
	pos := (r.Seq - 1) % r.Window
	if pos >= diff {
		return (pos - diff) % r.Window
	}
	return r.Window - (diff - pos)
}

func (r *Replay) bit(n uint32) bool {
	if int(n>>5) >= len(r.Bmp) {
		return false
	}
	return r.Bmp[n>>5]&(1<<(n&31)) != 0
}

func (r *Replay) setBit(n uint32, on bool) {
	if int(n>>5) >= len(r.Bmp) {
		return
	}
	if on {
		r.Bmp[n>>5] |= 1 << (n & 31)
	} else {
		r.Bmp[n>>5] &^= 1 << (n & 31)
	}
}

// seqHi is xfrm_replay_seqhi: the high half an ESN state infers for a
// received sequence number.
func (x *State) seqHi(seq uint32) uint32 {
	r := &x.Replay
	if x.Flags&StateESN == 0 || !r.ESN {
		return 0
	}
	hi := r.SeqHi
	bottom := r.Seq - r.Window + 1
	if r.Seq >= r.Window-1 {
		if seq < bottom {
			hi++
		}
	} else if seq >= bottom {
		hi--
	}
	return hi
}

// replayAdvance is xfrm_replay_advance: the window moves to a newer
// number and the number is marked seen.
func (x *State) replayAdvance(seq, seqHi uint32) {
	r := &x.Replay
	if !r.ESN {
		if x.ReplayWindow == 0 {
			return
		}
		if seq > r.Seq {
			diff := seq - r.Seq
			if diff < x.ReplayWindow {
				r.Bitmap = r.Bitmap<<diff | 1
			} else {
				r.Bitmap = 1
			}
			r.Seq = seq
		} else {
			r.Bitmap |= 1 << (r.Seq - seq)
		}
		return
	}
	w := r.Window
	if w == 0 {
		return
	}
	pos := (r.Seq - 1) % w
	var bitnr uint32
	newer := seq > r.Seq
	var diff uint32
	if x.Flags&StateESN != 0 {
		wrap := seqHi - r.SeqHi
		newer = wrap == 0 && seq > r.Seq || wrap == 1
		if newer {
			if wrap == 0 {
				diff = seq - r.Seq
			} else {
				diff = ^r.Seq + seq + 1
			}
		} else {
			diff = r.Seq - seq
		}
	} else if newer {
		diff = seq - r.Seq
	} else {
		diff = r.Seq - seq
	}
	if newer {
		if diff < w {
			for i := uint32(1); i < diff; i++ {
				r.setBit((pos+i)%w, false)
			}
		} else {
			for i := range r.Bmp {
				r.Bmp[i] = 0
			}
		}
		bitnr = (pos + diff) % w
		r.Seq = seq
		if x.Flags&StateESN != 0 && seqHi != r.SeqHi {
			r.SeqHi = seqHi
		}
	} else if pos >= diff {
		bitnr = (pos - diff) % w
	} else {
		bitnr = w - (diff - pos)
	}
	r.setBit(bitnr, true)
}
