package xfrm

import "net/netip"

// Algo is an algorithm of a state as the kernel keeps it (struct
// xfrm_algo, xfrm_algo_auth, xfrm_algo_aead): the canonical name, the key
// exactly as given, and the truncation (auth) or ICV length (AEAD) in
// bits.
type Algo struct {
	Name     string `json:"name"`
	Key      []byte `json:"key,omitempty"`
	KeyBits  int    `json:"key_bits"`
	TruncLen int    `json:"trunc_len,omitempty"` // auth: alg_trunc_len
	ICVLen   int    `json:"icv_len,omitempty"`   // aead: alg_icv_len
}

// Encap is struct xfrm_encap_tmpl: UDP (or TCP) encapsulation of ESP
// (RFC 3948) with the ports in host order and the original address of a
// NAT-T peer.
type Encap struct {
	Type  uint16     `json:"type"`
	Sport uint16     `json:"sport"`
	Dport uint16     `json:"dport"`
	OA    netip.Addr `json:"oa,omitzero"`
}

// Replay is the anti-replay state of an SA: struct xfrm_replay_state
// (Seq, OSeq, Bitmap) or, when the SA was given a window longer than 32
// or the esn flag, struct xfrm_replay_state_esn (the high halves and a
// bitmap of Window bits).
type Replay struct {
	Seq    uint32 `json:"seq,omitempty"`
	OSeq   uint32 `json:"oseq,omitempty"`
	Bitmap uint32 `json:"bitmap,omitempty"`
	// ESN state: present when ESN is true.
	ESN    bool     `json:"esn,omitempty"`
	SeqHi  uint32   `json:"seq_hi,omitempty"`
	OSeqHi uint32   `json:"oseq_hi,omitempty"`
	Window uint32   `json:"window,omitempty"`
	Bmp    []uint32 `json:"bmp,omitempty"`
}

// Stats is struct xfrm_stats.
type Stats struct {
	ReplayWindow    uint32 `json:"replay_window,omitempty"`
	Replay          uint32 `json:"replay,omitempty"`
	IntegrityFailed uint32 `json:"integrity_failed,omitempty"`
}

// State is a security association (struct xfrm_state): its identity
// (destination, SPI, protocol), source, mode, reqid, algorithms and keys,
// encapsulation, selector, mark, interface id, lifetimes and its running
// counters (sequence numbers, replay window, bytes and packets).
type State struct {
	Dst   netip.Addr `json:"dst"`
	SPI   uint32     `json:"spi"`
	Proto uint8      `json:"proto"`
	Src   netip.Addr `json:"src"`
	// Family is props.family, the family of Src and Dst.
	Family       Family      `json:"family"`
	Mode         Mode        `json:"mode"`
	Reqid        uint32      `json:"reqid,omitempty"`
	ReplayWindow uint32      `json:"replay_window,omitempty"`
	Flags        uint8       `json:"flags,omitempty"`
	ExtraFlags   uint32      `json:"extra_flags,omitempty"`
	Sel          Selector    `json:"sel"`
	Lft          LifetimeCfg `json:"lft"`
	Cur          LifetimeCur `json:"cur"`
	Stats        Stats       `json:"stats"`
	Replay       Replay      `json:"replay"`
	Auth         *Algo       `json:"auth,omitempty"`
	Enc          *Algo       `json:"enc,omitempty"`
	AEAD         *Algo       `json:"aead,omitempty"`
	Comp         *Algo       `json:"comp,omitempty"`
	Encap        *Encap      `json:"encap,omitempty"`
	Coaddr       netip.Addr  `json:"coaddr,omitzero"`
	Mark         Mark        `json:"mark"`
	SetMark      Mark        `json:"set_mark"`
	IfID         uint32      `json:"if_id,omitempty"`
	TFCPad       uint32      `json:"tfcpad,omitempty"`
	// KmSeq is the "seq" of ip xfrm state add (km.seq).
	KmSeq    uint32 `json:"km_seq,omitempty"`
	LastUsed int64  `json:"lastused,omitempty"`
	// Dying is km.dying (a soft limit was reached); Expired is
	// XFRM_STATE_EXPIRED (a hard limit: the state is unusable and removed
	// by DB.Expire).
	Dying   bool `json:"dying,omitempty"`
	Expired bool `json:"expired,omitempty"`
	// Larval is XFRM_STATE_ACQ: a placeholder the key manager is
	// negotiating (an ACQUIRE, or ip xfrm state allocspi); it carries no
	// traffic and a later add or update replaces it.
	Larval bool `json:"larval,omitempty"`

	// Derived from the algorithms by prepare (esp_init_state): not stored.
	blk     int // ALIGN(crypto_aead_blocksize, 4)
	rawBlk  int // crypto_aead_blocksize
	ivLen   int
	icvLen  int
	hdrLen  int // props.header_len
	encrypt bool
	encKey  uint64
	authKey uint64
}

// HeaderLen is props.header_len: the bytes an ESP state puts before the
// packet (outer IP header in tunnel mode, UDP and non-IKE marker, ESP
// header, IV).
func (s *State) HeaderLen() int { return s.hdrLen }

// TrailerLen is props.trailer_len: the most an ESP state puts after the
// packet (a block of padding, the pad-length and next-header bytes less
// one, the ICV).
func (s *State) TrailerLen() int {
	if s.Proto != ProtoESP {
		return 0
	}
	return s.blk + 1 + s.icvLen
}

// ICVLen is the integrity check value's length in bytes
// (crypto_aead_authsize).
func (s *State) ICVLen() int { return s.icvLen }

// IVLen is the per-packet IV length in bytes (crypto_aead_ivsize).
func (s *State) IVLen() int { return s.ivLen }

// BlockSize is the padding boundary, ALIGN(crypto_aead_blocksize, 4).
func (s *State) BlockSize() int { return s.blk }

// MTU is xfrm_state_mtu: the largest inner packet an ESP state can carry
// without its result exceeding mtu.
func (s *State) MTU(mtu int) int {
	if s.Proto != ProtoESP || s.blk == 0 {
		return mtu - s.hdrLen
	}
	netAdj := 0
	if s.Mode == ModeTransport || s.Mode == ModeBEET {
		netAdj = 20
		if s.Family == Inet6 {
			netAdj = 40
		}
	}
	return ((mtu - s.hdrLen - s.icvLen - netAdj) &^ (s.blk - 1)) + netAdj - 2
}

// Overhead is how many bytes State.Encapsulate adds to an inner packet of
// innerLen bytes (headers, padding, trailer and ICV; tunnel and transport
// mode, without TFC padding).
func (s *State) Overhead(innerLen int) int {
	if s.Proto != ProtoESP || s.blk == 0 {
		return s.hdrLen
	}
	payload := innerLen
	if s.Mode == ModeTransport {
		payload = innerLen - s.netHeaderGuess()
	}
	clen := align(payload+2, s.blk)
	return s.hdrLen + (clen - payload) + s.icvLen
}

// netHeaderGuess is the size of the IP header transport mode keeps in
// front (without options or extension headers).
func (s *State) netHeaderGuess() int {
	if s.Family == Inet6 {
		return 40
	}
	return 20
}

func align(n, a int) int { return (n + a - 1) / a * a }

// prepare computes the derived parameters (esp_init_state), or reports
// the kernel's error for keys the cipher would not take.
func (s *State) prepare() *Error {
	s.blk, s.rawBlk, s.ivLen, s.icvLen, s.hdrLen, s.encrypt = 0, 0, 0, 0, 0, false
	if s.Larval {
		return nil
	}
	switch s.Proto {
	case ProtoESP:
	case ProtoAH:
		// ah4/ah6: the AH header (12 bytes) and the ICV rounded to 4 (8 for
		// IPv6); tunnel mode adds the outer IP header.
		if s.Auth != nil {
			d := LookupAlgo(KindAuth, s.Auth.Name, 0)
			if d != nil {
				s.icvLen = s.Auth.TruncLen / 8
			}
		}
		r := 4
		if s.Family == Inet6 {
			r = 8
		}
		s.hdrLen = align(12+s.icvLen, r)
		if s.Mode == ModeTunnel {
			s.hdrLen += ipHeaderLen(s.Family)
		}
		return nil
	case ProtoComp:
		s.hdrLen = 4
		if s.Mode == ModeTunnel {
			s.hdrLen += ipHeaderLen(s.Family)
		}
		return nil
	default:
		return nil
	}
	cryptoErr := kerr(EINVAL, "Kernel was unable to initialize cryptographic operations")
	switch {
	case s.AEAD != nil:
		d := LookupAlgo(KindAEAD, s.AEAD.Name, s.AEAD.ICVLen)
		if d == nil || !d.keyOK(len(s.AEAD.Key)) {
			return cryptoErr
		}
		s.blk, s.rawBlk, s.ivLen, s.icvLen, s.encrypt = align(d.Block, 4), d.Block, d.IV, s.AEAD.ICVLen/8, !d.NoEncrypt
		s.encKey = keyHash(s.AEAD.Key, 0xae)
		s.authKey = keyHash(s.AEAD.Key, 0xa1)
	case s.Enc != nil:
		d := LookupAlgo(KindCrypt, s.Enc.Name, 0)
		if d == nil || !d.keyOK(len(s.Enc.Key)) {
			return cryptoErr
		}
		s.blk, s.rawBlk, s.ivLen = align(d.Block, 4), d.Block, d.IV
		s.encrypt = d.Name != "ecb(cipher_null)"
		s.encKey = keyHash(s.Enc.Key, 0xe1)
		if s.Auth != nil {
			a := LookupAlgo(KindAuth, s.Auth.Name, 0)
			if a == nil || !a.keyOK(len(s.Auth.Key)) {
				return cryptoErr
			}
			s.icvLen = s.Auth.TruncLen / 8
			s.authKey = keyHash(s.Auth.Key, 0xa2)
		}
	default:
		return kerr(EINVAL, "ESP: AEAD or CRYPT must be provided")
	}
	s.hdrLen = 8 + s.ivLen
	switch s.Mode {
	case ModeTunnel:
		s.hdrLen += ipHeaderLen(s.Family)
	case ModeBEET:
		if s.Sel.Family != Inet6 {
			s.hdrLen += 8 // IPV4_BEET_PHMAXLEN
		}
	}
	if s.Encap != nil {
		switch s.Encap.Type {
		case EncapESPinUDP:
			s.hdrLen += 8
		case EncapESPinUDPNonIKE:
			s.hdrLen += 16
		case EncapESPinTCP:
			s.hdrLen += 2
		default:
			return kerr(EINVAL, "Unsupported encapsulation type for ESP")
		}
	}
	return nil
}

func ipHeaderLen(f Family) int {
	if f == Inet6 {
		return 40
	}
	return 20
}

// Info is what the policy match reads of the state (the fields of
// ctmatch.XfrmState, in the same order and types, so that one converts
// to the other).
func (s *State) Info() SAInfo {
	return SAInfo{Src: s.Src, Dst: s.Dst, Proto: s.Proto, Mode: uint8(s.Mode), SPI: s.SPI, Reqid: s.Reqid}
}

// SAInfo is what `-m policy` compares of an SA: outer addresses, protocol,
// mode (0 transport, 1 tunnel), SPI and reqid. Its underlying type is that
// of ctmatch.XfrmState: ctmatch.XfrmState(info) converts.
type SAInfo struct {
	Src, Dst netip.Addr
	Proto    uint8
	Mode     uint8
	SPI      uint32
	Reqid    uint32
}

// OutputMark is the mark a packet leaving through this state carries
// (xfrm_smark_get: the output-mark bits replace the packet's).
func (s *State) OutputMark(mark uint32) uint32 {
	if s.SetMark.V|s.SetMark.M == 0 {
		return mark
	}
	return mark&^s.SetMark.M | s.SetMark.V&s.SetMark.M
}

// Tmpl is a policy template (struct xfrm_tmpl / xfrm_user_tmpl): which SA
// a packet needs, by destination, SPI, protocol, source, reqid and mode,
// with its level (Optional is "level use") and algorithm masks.
type Tmpl struct {
	Family   Family     `json:"family"`
	Dst      netip.Addr `json:"dst,omitzero"`
	SPI      uint32     `json:"spi,omitempty"`
	Proto    uint8      `json:"proto"`
	Src      netip.Addr `json:"src,omitzero"`
	Reqid    uint32     `json:"reqid,omitempty"`
	Mode     Mode       `json:"mode"`
	Share    uint8      `json:"share,omitempty"`
	Optional uint8      `json:"optional,omitempty"`
	AAlgos   uint32     `json:"aalgos"`
	EAlgos   uint32     `json:"ealgos"`
	CAlgos   uint32     `json:"calgos"`
}

// Policy is a security policy (struct xfrm_policy): a selector, a
// direction, an action and the templates of the SAs the traffic needs.
type Policy struct {
	Sel      Selector    `json:"sel"`
	Dir      Dir         `json:"dir"`
	Action   Action      `json:"action,omitempty"`
	Index    uint32      `json:"index"`
	Priority uint32      `json:"priority,omitempty"`
	Type     uint8       `json:"type,omitempty"`
	Flags    uint8       `json:"flags,omitempty"`
	Share    uint8       `json:"share,omitempty"`
	Lft      LifetimeCfg `json:"lft"`
	Cur      LifetimeCur `json:"cur"`
	Mark     Mark        `json:"mark"`
	IfID     uint32      `json:"if_id,omitempty"`
	Tmpls    []Tmpl      `json:"tmpls,omitempty"`
	// Seq orders policies by creation: of two policies of equal priority
	// the older wins a lookup.
	Seq uint64 `json:"seq"`
}

// family is xp->family (the selector's).
func (p *Policy) family() Family { return p.Sel.Family }
