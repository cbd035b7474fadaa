package xfrm

import (
	"encoding/binary"
	"errors"

	"github.com/iptwin/iptwin/packet"
)

// Errors of the data path (each stands for the LINUX_MIB_XFRM* counter the
// kernel increments when it drops the packet).
var (
	ErrUnsupported  = errors.New("xfrm: transform not modelled (ESP tunnel and transport mode only)")
	ErrBadPacket    = errors.New("xfrm: not an IP packet of a family the state takes")
	ErrExpired      = errors.New("xfrm: state expired (XfrmOutStateExpired)")
	ErrSeqOverflow  = errors.New("xfrm: sequence number overflow (XfrmOutStateSeqError)")
	ErrTooBig       = errors.New("xfrm: result longer than 65535 bytes (EMSGSIZE)")
	ErrNoState      = errors.New("xfrm: no state for SPI (XfrmInNoStates)")
	ErrStateInvalid = errors.New("xfrm: state not valid (XfrmInStateInvalid)")
	ErrEncapType    = errors.New("xfrm: encapsulation does not match the state (XfrmInStateMismatch)")
	ErrReplay       = errors.New("xfrm: replayed or out-of-window sequence number (XfrmInStateSeqError)")
	ErrIntegrity    = errors.New("xfrm: ICV check failed (XfrmInStateProtoError, integrity_failed)")
	ErrProto        = errors.New("xfrm: malformed ESP payload (XfrmInStateProtoError)")
	ErrInnerMode    = errors.New("xfrm: inner packet not of the state's mode (XfrmInStateModeError)")
	ErrSecPathFull  = errors.New("xfrm: secpath full (XfrmInBufferError)")
	// ErrNotESP: a UDP datagram to the encapsulation socket that is not
	// ESP (IKE after the non-ESP marker): the socket receives it.
	ErrNotESP = errors.New("xfrm: not ESP (IKE): deliver to the socket")
	// ErrKeepalive: a NAT-T keepalive (one byte 0xff), eaten.
	ErrKeepalive = errors.New("xfrm: NAT-T keepalive")
)

// EncapParams is what Encapsulate takes from the packet path.
type EncapParams struct {
	// TTL is the outer header's TTL or hop limit: the hop limit of the
	// route to the tunnel's end (ip4_dst_hoplimit: its hoplimit metric or
	// net.ipv4.ip_default_ttl; ip6_dst_hoplimit for IPv6).
	TTL uint8
	// ID is the outer IPv4 identification when the kernel draws one
	// (__ip_select_ident): without DF, or with DF when IgnoreDF is set.
	// With DF and not IgnoreDF the outer ID is 0 (ip_select_ident).
	ID uint16
	// IgnoreDF is skb->ignore_df: set on packets of a local socket whose
	// path MTU discovery is not "do" (ip_sk_ignore_df), clear on
	// forwarded packets.
	IgnoreDF bool
	// ChildMTU is the MTU below the state (the bundle child's), which
	// bounds TFC padding; 0 disables TFC padding.
	ChildMTU int
	// Now is the wall clock in seconds (lastused, the use time).
	Now int64
}

// Encapsulate is xfrm_output_one for an ESP state: the outer header of the
// state's mode (xfrm4_tunnel_encap_add / xfrm6_tunnel_encap_add, or the
// inner header kept in transport mode), the expiry check, the next
// sequence number (xfrm_replay_overflow: 1 for the first packet), the
// accounting, and esp_output: UDP encapsulation (RFC 3948) when the
// state has it, the ESP header, IV, the inner packet padded with 1, 2, 3…
// to the cipher's block (4 for stream modes), the pad length, the next
// header (4 or 41 in tunnel mode, the transport protocol in transport
// mode), and the ICV. It appends the packet to dst and returns it; it
// allocates nothing when dst has room.
//
// Outer header (tunnel mode, IPv4): TOS is the inner DSCP (0 with the
// dont-encap-dscp extra flag) with the inner ECN bits, CE becoming ECT(0)
// (INET_ECN_encapsulate), cleared with the noecn flag; DF is the inner
// packet's (always for an IPv6 inner packet longer than 1280 bytes),
// never with nopmtudisc; the ID is 0 when DF is set and the packet may
// not be fragmented, else p.ID; TTL is p.TTL; the addresses are the
// state's. IPv6: the same traffic class, the inner flow label (0 for an
// IPv4 inner packet), hop limit p.TTL; a UDP checksum (esp6_output_encap_csum).
func (x *State) Encapsulate(dst, inner []byte, p *EncapParams) ([]byte, error) {
	if x.Larval {
		return dst, ErrExpired
	}
	if x.Proto != ProtoESP || x.blk == 0 {
		return dst, ErrUnsupported
	}
	if x.Mode != ModeTunnel && x.Mode != ModeTransport {
		return dst, ErrUnsupported
	}
	if x.Encap != nil && x.Encap.Type == EncapESPinTCP {
		return dst, ErrUnsupported
	}
	if x.Expired {
		return dst, ErrExpired
	}
	var in innerHdr
	if !in.parse(inner) {
		return dst, ErrBadPacket
	}
	if x.Mode == ModeTransport && in.family != x.Family {
		return dst, ErrBadPacket
	}
	if x.Sel.Family != Unspec && in.family != x.Sel.Family {
		return dst, ErrBadPacket
	}

	// Split the inner packet: what stays in front (transport mode) and
	// what is encrypted.
	keep := 0
	nexthdr := uint8(protoIPIP)
	if in.family == Inet6 {
		nexthdr = protoIPv6
	}
	if x.Mode == ModeTransport {
		keep, nexthdr = in.hdrLen, in.proto
	}
	payload := inner[keep:]

	// xfrm_state_check_expire (before the sequence number).
	if x.Cur.UseTime == 0 {
		x.Cur.UseTime = p.Now
	}
	if x.Cur.Bytes >= x.Lft.HardBytes || x.Cur.Packets >= x.Lft.HardPackets {
		x.Expired = true
		return dst, ErrExpired
	}
	if !x.Dying && (x.Cur.Bytes >= x.Lft.SoftBytes || x.Cur.Packets >= x.Lft.SoftPackets) {
		x.Dying = true
	}
	seq, seqHi, err := x.nextSeq()
	if err != nil {
		return dst, err
	}
	// skb->len at xfrm_output_one's accounting: the inner packet in tunnel
	// mode, the transport payload in transport mode (the header pulled).
	x.Cur.Bytes += uint64(len(payload))
	x.Cur.Packets++
	x.LastUsed = p.Now

	// esp_output: sizes.
	tfclen := 0
	if x.TFCPad != 0 && p.ChildMTU > 0 {
		padto := x.MTU(p.ChildMTU)
		if int(x.TFCPad) < padto {
			padto = int(x.TFCPad)
		}
		if len(payload) < padto {
			tfclen = padto - len(payload)
		}
	}
	clen := align(len(payload)+2+tfclen, x.blk)
	plen := clen - len(payload) - tfclen
	alen := x.icvLen

	outerIP := 0
	if x.Mode == ModeTunnel {
		outerIP = ipHeaderLen(x.Family)
	} else {
		outerIP = keep
	}
	encapLen := 0
	if x.Encap != nil {
		encapLen = 8
		if x.Encap.Type == EncapESPinUDPNonIKE {
			encapLen = 16
		}
	}
	espLen := 8 + x.ivLen + clen + alen
	total := outerIP + encapLen + espLen
	if x.Family == Inet && total > 0xffff || x.Family == Inet6 && total-40 > 0xffff {
		return dst, ErrTooBig
	}

	start := len(dst)
	dst = grow(dst, total)
	out := dst[start:]

	// Outer IP header.
	proto := uint8(ProtoESP)
	if x.Encap != nil {
		proto = protoUDP
	}
	if x.Mode == ModeTunnel {
		x.tunnelHeader(out, &in, p, total, proto)
	} else {
		copy(out, inner[:keep])
		setTransportHeader(out[:keep], &in, total, proto)
	}
	o := outerIP

	// UDP encapsulation (esp_output_udp_encap).
	if x.Encap != nil {
		u := out[o:]
		binary.BigEndian.PutUint16(u, x.Encap.Sport)
		binary.BigEndian.PutUint16(u[2:], x.Encap.Dport)
		binary.BigEndian.PutUint16(u[4:], uint16(encapLen+espLen))
		u[6], u[7] = 0, 0
		if encapLen == 16 {
			clear(u[8:16])
		}
		o += encapLen
	}

	// ESP header, IV, payload and trailer.
	esp := out[o:]
	binary.BigEndian.PutUint32(esp, x.SPI)
	binary.BigEndian.PutUint32(esp[4:], seq)
	iv := esp[8 : 8+x.ivLen]
	fillIV(iv, x.encKey, uint64(seqHi)<<32|uint64(seq))
	body := esp[8+x.ivLen : 8+x.ivLen+clen]
	copy(body, payload)
	t := body[len(payload):]
	clear(t[:tfclen])
	t = t[tfclen:]
	for i := 0; i < plen-2; i++ {
		t[i] = byte(i + 1)
	}
	t[plen-2] = byte(plen - 2)
	t[plen-1] = nexthdr
	if x.encrypt {
		xorStream(body, x.encKey, iv)
	}
	if alen > 0 {
		icv(esp[8+x.ivLen+clen:8+x.ivLen+clen+alen], x.authKey, esp[:8+x.ivLen+clen], seqHi, x.Flags&StateESN != 0)
	}

	// The UDP checksum of IPv6 encapsulation covers the finished datagram.
	if x.Encap != nil && x.Family == Inet6 {
		u := out[outerIP:]
		sum := packet.Sum(u[:encapLen+espLen], packet.PseudoSum(x.Src, x.Dst, protoUDP, encapLen+espLen))
		cs := fold(sum)
		if cs == 0 {
			cs = 0xffff
		}
		binary.BigEndian.PutUint16(u[6:], cs)
	}
	return dst, nil
}

// fold is the one's complement of a 32-bit partial sum.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// grow extends b by n bytes (reusing its capacity).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, (len(b)+n)*2)
	copy(nb, b)
	return nb
}

// nextSeq is xfrm_replay_overflow (legacy, bmp and esn): the outbound
// sequence number of the next packet.
func (x *State) nextSeq() (lo, hi uint32, err error) {
	r := &x.Replay
	if !r.ESN || x.Flags&StateESN == 0 {
		r.OSeq++
		if r.OSeq == 0 && x.ExtraFlags&ExtraOSeqMayWrap == 0 {
			r.OSeq--
			return 0, 0, ErrSeqOverflow
		}
		return r.OSeq, 0, nil
	}
	r.OSeq++
	if r.OSeq == 0 {
		r.OSeqHi++
		if r.OSeqHi == 0 && x.ExtraFlags&ExtraOSeqMayWrap == 0 {
			r.OSeq--
			r.OSeqHi--
			return 0, 0, ErrSeqOverflow
		}
	}
	return r.OSeq, r.OSeqHi, nil
}

// tunnelHeader writes the outer IP header of tunnel mode.
func (x *State) tunnelHeader(out []byte, in *innerHdr, p *EncapParams, total int, proto uint8) {
	ds := in.dsfield
	if x.ExtraFlags&ExtraDontEncapDSCP != 0 {
		ds = 0
	}
	ds = ecnEncapsulate(ds, in.dsfield)
	if x.Flags&StateNoECN != 0 {
		ds &^= 3
	}
	if x.Family == Inet {
		h := out[:20]
		h[0], h[1] = 0x45, ds
		binary.BigEndian.PutUint16(h[2:], uint16(total))
		df := in.df
		if x.Flags&StateNoPMTUDisc != 0 || in.family == Inet6 && len(in.pkt) <= 1280 {
			df = false
		}
		id := p.ID
		if df && !p.IgnoreDF {
			id = 0
		}
		binary.BigEndian.PutUint16(h[4:], id)
		if df {
			binary.BigEndian.PutUint16(h[6:], 0x4000)
		} else {
			h[6], h[7] = 0, 0
		}
		h[8], h[9] = p.TTL, proto
		h[10], h[11] = 0, 0
		s, d := x.Src.As4(), x.Dst.As4()
		copy(h[12:16], s[:])
		copy(h[16:20], d[:])
		binary.BigEndian.PutUint16(h[10:], packet.Checksum(h, 0))
		return
	}
	h := out[:40]
	binary.BigEndian.PutUint32(h, 6<<28|uint32(ds)<<20|in.flowLabel)
	binary.BigEndian.PutUint16(h[4:], uint16(total-40))
	h[6], h[7] = proto, p.TTL
	s, d := x.Src.As16(), x.Dst.As16()
	copy(h[8:24], s[:])
	copy(h[24:40], d[:])
}

// ecnEncapsulate is INET_ECN_encapsulate: the inner ECN bits go out,
// except CE, which becomes ECT(0).
func ecnEncapsulate(outer, inner uint8) uint8 {
	outer &^= 3
	if inner&3 == 3 {
		return outer | 2
	}
	return outer | inner&3
}

// setTransportHeader fixes the kept header of transport mode: the
// protocol (or the last next-header field) becomes ESP or UDP, the
// lengths grow, the IPv4 checksum is recomputed.
func setTransportHeader(h []byte, in *innerHdr, total int, proto uint8) {
	if in.family == Inet {
		h[9] = proto
		binary.BigEndian.PutUint16(h[2:], uint16(total))
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], packet.Checksum(h, 0))
		return
	}
	h[in.nextOff] = proto
	binary.BigEndian.PutUint16(h[4:], uint16(total-40))
}

// innerHdr is what the output transforms read of the inner packet
// (xfrm4_extract_header, xfrm6_extract_header; ip6_find_1stfragopt for
// transport mode).
type innerHdr struct {
	pkt       []byte
	family    Family
	dsfield   uint8
	df        bool
	flowLabel uint32
	// hdrLen is the header transport mode keeps; proto the protocol after
	// it and nextOff the offset of the byte that names it.
	hdrLen  int
	proto   uint8
	nextOff int
}

func (in *innerHdr) parse(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	in.pkt = b
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return false
		}
		hl := int(b[0]&0xf) * 4
		if hl < 20 || hl > len(b) || int(binary.BigEndian.Uint16(b[2:])) != len(b) {
			return false
		}
		in.family, in.dsfield = Inet, b[1]
		in.df = binary.BigEndian.Uint16(b[6:])&0x4000 != 0
		in.hdrLen, in.proto, in.nextOff = hl, b[9], 9
		return true
	case 6:
		if len(b) < 40 || int(binary.BigEndian.Uint16(b[4:]))+40 != len(b) {
			return false
		}
		w := binary.BigEndian.Uint32(b)
		in.family, in.dsfield, in.flowLabel, in.df = Inet6, uint8(w>>20), w&0xfffff, true
		// ip6_find_1stfragopt: hop-by-hop and routing headers (and
		// destination options before a routing header) stay in front.
		off, nextOff, proto := 40, 6, b[6]
		sawRouting := false
		for {
			if proto != 0 && proto != 43 && proto != 60 {
				break
			}
			if len(b) < off+8 {
				return false
			}
			n := (int(b[off+1]) + 1) * 8
			if off+n > len(b) {
				return false
			}
			if proto == 60 {
				// destination options stay only before a routing header
				if sawRouting || b[off] != 43 {
					break
				}
			}
			if proto == 43 {
				sawRouting = true
			}
			nextOff, proto = off, b[off]
			off += n
		}
		in.hdrLen, in.proto, in.nextOff = off, proto, nextOff
		return true
	}
	return false
}
