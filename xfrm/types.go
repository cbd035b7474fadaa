package xfrm

import (
	"net/netip"
)

// Family is an address family as the kernel's xfrm structures carry it
// (AF_UNSPEC, AF_INET, AF_INET6), written 0, 4 and 6.
type Family uint8

const (
	Unspec Family = 0
	Inet   Family = 4
	Inet6  Family = 6
)

// familyOf is the family of an address (Unspec for the zero Addr).
func familyOf(a netip.Addr) Family {
	switch {
	case !a.IsValid():
		return Unspec
	case a.Is4():
		return Inet
	}
	return Inet6
}

// anyAddr is the all-zero address of a family (the zero Addr for Unspec).
func anyAddr(f Family) netip.Addr {
	switch f {
	case Inet:
		return netip.IPv4Unspecified()
	case Inet6:
		return netip.IPv6Unspecified()
	}
	return netip.Addr{}
}

// isAny reports whether a is unset or all zeros (xfrm_addr_any).
func isAny(a netip.Addr) bool { return !a.IsValid() || a.IsUnspecified() }

// Dir is a policy direction (XFRM_POLICY_IN, _OUT, _FWD).
type Dir uint8

const (
	DirIn  Dir = 0
	DirOut Dir = 1
	DirFwd Dir = 2
	// numDirs is XFRM_POLICY_MAX.
	numDirs = 3
	// DirSocketIn and DirSocketOut are the directions of a per-socket
	// policy as the kernel's dumps report them (XFRM_POLICY_MAX + dir).
	DirSocketIn  Dir = numDirs + DirIn
	DirSocketOut Dir = numDirs + DirOut
)

// Socket reports whether d is a per-socket policy's direction.
func (d Dir) Socket() bool { return d == DirSocketIn || d == DirSocketOut }

func (d Dir) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	case DirFwd:
		return "fwd"
	}
	return itoa(uint64(d))
}

// Mode is an SA's or template's mode (XFRM_MODE_*).
type Mode uint8

const (
	ModeTransport Mode = 0
	ModeTunnel    Mode = 1
	ModeRO        Mode = 2 // route optimization (Mobile IPv6)
	ModeInTrigger Mode = 3
	ModeBEET      Mode = 4
	numModes           = 5 // XFRM_MODE_MAX
)

func (m Mode) String() string {
	switch m {
	case ModeTransport:
		return "transport"
	case ModeTunnel:
		return "tunnel"
	case ModeRO:
		return "ro"
	case ModeInTrigger:
		return "in_trigger"
	case ModeBEET:
		return "beet"
	}
	return itoa(uint64(m))
}

// Action is a policy's action (XFRM_POLICY_ALLOW, _BLOCK).
type Action uint8

const (
	Allow Action = 0
	Block Action = 1
)

// Policy types (XFRM_POLICY_TYPE_MAIN, _SUB): a sub policy is looked up
// first and combined with the main one (CONFIG_XFRM_SUB_POLICY).
const (
	TypeMain uint8 = 0
	TypeSub  uint8 = 1
)

// IP protocols of the xfrm world (the "proto" of states and templates).
const (
	ProtoESP      = 50
	ProtoAH       = 51
	ProtoComp     = 108
	ProtoRouting  = 43  // route2 (Mobile IPv6)
	ProtoDstOpts  = 60  // hao (Mobile IPv6)
	ProtoIPsecAny = 255 // IPSEC_PROTO_ANY
	protoIPIP     = 4
	protoIPv6     = 41
	protoICMP     = 1
	protoICMPv6   = 58
	protoGRE      = 47
	protoMH       = 135
	protoUDP      = 17
	protoTCP      = 6
)

// isIPsecProto is xfrm_id_proto_match(proto, IPSEC_PROTO_ANY): the
// protocols whose states are found by SPI.
func isIPsecProto(p uint8) bool { return p == ProtoESP || p == ProtoAH || p == ProtoComp }

// State flags (xfrm_usersa_info.flags, XFRM_STATE_*).
const (
	StateNoECN      = 1
	StateDecapDSCP  = 2
	StateNoPMTUDisc = 4
	StateWildRecv   = 8
	StateICMP       = 16
	StateAFUnspec   = 32
	StateAlign4     = 64
	StateESN        = 128
)

// State extra flags (XFRMA_SA_EXTRA_FLAGS).
const (
	ExtraDontEncapDSCP = 1
	ExtraOSeqMayWrap   = 2
)

// Policy flags (XFRM_POLICY_LOCALOK, XFRM_POLICY_ICMP).
const (
	PolicyLocalOK = 1
	PolicyICMP    = 2
)

// Encapsulation types (UDP_ENCAP_*, TCP_ENCAP_ESPINTCP).
const (
	EncapESPinUDPNonIKE = 1
	EncapESPinUDP       = 2
	EncapESPinTCP       = 7
)

// MaxDepth is XFRM_MAX_DEPTH: templates of a policy, states of a bundle
// or a secpath.
const MaxDepth = 6

// ReplayESNMax is XFRMA_REPLAY_ESN_MAX, the largest replay window (bits).
const ReplayESNMax = 4096

// Inf is XFRM_INF, an unlimited byte or packet lifetime.
const Inf = ^uint64(0)

// Mark is struct xfrm_mark: a packet matches when mark & M == V.
type Mark struct {
	V uint32 `json:"v,omitempty"`
	M uint32 `json:"m,omitempty"`
}

// matches is (mark & m->m) == m->v.
func (m Mark) matches(mark uint32) bool { return mark&m.M == m.V }

// LifetimeCfg is struct xfrm_lifetime_cfg (byte and packet limits,
// seconds after adding and after first use).
type LifetimeCfg struct {
	SoftBytes   uint64 `json:"soft_bytes"`
	HardBytes   uint64 `json:"hard_bytes"`
	SoftPackets uint64 `json:"soft_packets"`
	HardPackets uint64 `json:"hard_packets"`
	SoftAdd     uint64 `json:"soft_add,omitempty"`
	HardAdd     uint64 `json:"hard_add,omitempty"`
	SoftUse     uint64 `json:"soft_use,omitempty"`
	HardUse     uint64 `json:"hard_use,omitempty"`
}

// DefaultLifetime is what ip(8) sends when no limit is given: no byte or
// packet limit, no expiry.
func DefaultLifetime() LifetimeCfg {
	return LifetimeCfg{SoftBytes: Inf, HardBytes: Inf, SoftPackets: Inf, HardPackets: Inf}
}

// LifetimeCur is struct xfrm_lifetime_cur: what was used and when (wall
// clock seconds; 0 is never).
type LifetimeCur struct {
	Bytes   uint64 `json:"bytes,omitempty"`
	Packets uint64 `json:"packets,omitempty"`
	AddTime int64  `json:"add_time,omitempty"`
	UseTime int64  `json:"use_time,omitempty"`
}

// Selector is struct xfrm_selector: the traffic a policy or a state
// applies to. Addresses are kept as given (the kernel does not mask them);
// ports are in host order with their masks; for ICMP the "ports" are the
// type and code, for GRE the two halves of the key (xfrm_flowi_sport).
type Selector struct {
	Family    Family     `json:"family,omitempty"`
	Src       netip.Addr `json:"src,omitzero"`
	Dst       netip.Addr `json:"dst,omitzero"`
	SrcLen    uint8      `json:"src_len,omitempty"`
	DstLen    uint8      `json:"dst_len,omitempty"`
	Proto     uint8      `json:"proto,omitempty"`
	Sport     uint16     `json:"sport,omitempty"`
	SportMask uint16     `json:"sport_mask,omitempty"`
	Dport     uint16     `json:"dport,omitempty"`
	DportMask uint16     `json:"dport_mask,omitempty"`
	Ifindex   int        `json:"ifindex,omitempty"`
	User      uint32     `json:"user,omitempty"`
}

// IsZero is xfrm_selector_iszero.
func (s *Selector) IsZero() bool { return *s == Selector{} || s.sameAsZero() }

// sameAsZero treats unset and all-zero addresses alike (the kernel's
// selector holds bytes, not typed addresses).
func (s *Selector) sameAsZero() bool {
	return s.Family == 0 && isAny(s.Src) && isAny(s.Dst) && s.SrcLen == 0 && s.DstLen == 0 &&
		s.Proto == 0 && s.Sport == 0 && s.SportMask == 0 && s.Dport == 0 && s.DportMask == 0 &&
		s.Ifindex == 0 && s.User == 0
}

// equal is !selector_cmp: the same bytes. Addresses compare as the
// kernel's 16-byte fields do: an unset address equals zeros.
func (s *Selector) equal(o *Selector) bool {
	return s.Family == o.Family && addrBytesEqual(s.Src, o.Src) && addrBytesEqual(s.Dst, o.Dst) &&
		s.SrcLen == o.SrcLen && s.DstLen == o.DstLen && s.Proto == o.Proto &&
		s.Sport == o.Sport && s.SportMask == o.SportMask && s.Dport == o.Dport &&
		s.DportMask == o.DportMask && s.Ifindex == o.Ifindex && s.User == o.User
}

// addrBytesEqual compares two addresses as xfrm_address_t bytes: an IPv4
// address is its 4 bytes followed by zeros.
func addrBytesEqual(a, b netip.Addr) bool {
	return addrBytes(a) == addrBytes(b)
}

func addrBytes(a netip.Addr) [16]byte {
	var r [16]byte
	switch {
	case !a.IsValid():
	case a.Is4():
		b := a.As4()
		copy(r[:], b[:])
	default:
		r = a.As16()
	}
	return r
}

// Match is xfrm_selector_match for a flow of family f
// (__xfrm4_selector_match, __xfrm6_selector_match).
func (s *Selector) Match(fl *Flow) bool {
	return PrefixMatch(fl.Dst, s.Dst, s.DstLen) &&
		PrefixMatch(fl.Src, s.Src, s.SrcLen) &&
		(fl.Dport^s.Dport)&s.DportMask == 0 &&
		(fl.Sport^s.Sport)&s.SportMask == 0 &&
		(fl.Proto == s.Proto || s.Proto == 0) &&
		(fl.Oif == s.Ifindex || s.Ifindex == 0)
}

// PrefixMatch is addr4_match / addr_match: the first bits of a equal
// those of p (an unset p is all zeros).
func PrefixMatch(a, p netip.Addr, bits uint8) bool {
	if bits == 0 {
		return true
	}
	x, y := addrBytes(a), addrBytes(p)
	n := int(bits)
	if a.Is4() || !a.IsValid() && p.Is4() {
		if n > 32 {
			n = 32
		}
	} else if n > 128 {
		n = 128
	}
	for i := 0; n > 0; i++ {
		if n >= 8 {
			if x[i] != y[i] {
				return false
			}
			n -= 8
			continue
		}
		m := byte(0xff << (8 - n))
		return (x[i]^y[i])&m == 0
	}
	return true
}

// itoa formats a small number without fmt (no allocation in callers that
// append).
func itoa(v uint64) string { return string(appendUint(nil, v)) }

func appendUint(b []byte, v uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}
