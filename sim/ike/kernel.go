package ike

import "net/netip"

// Rule is an ip rule charon adds: "220: from all lookup 220".
type Rule struct {
	Priority int
	Table    int
}

// Algo is an xfrm algorithm with its key (ip xfrm state's enc, auth-trunc
// and aead).
type Algo struct {
	Name    string // kernel name: cbc(aes), hmac(sha1), rfc4106(gcm(aes))
	Key     []byte
	ICVBits int // auth-trunc truncation, or the AEAD's ICV length
}

// Encap is an SA's UDP encapsulation (espinudp, RFC 3948).
type Encap struct {
	Sport, Dport uint16
}

// SA is an xfrm state as charon installs it (kernel_netlink_ipsec.c
// add_sa).
type SA struct {
	Src, Dst     netip.Addr
	SPI          uint32
	Proto        uint8  // 50 (ESP)
	Mode         string // "tunnel" or "transport"
	Reqid        uint32
	Inbound      bool
	Enc          *Algo // encryption (nil for an AEAD)
	Auth         *Algo // auth-trunc
	AEAD         *Algo
	Encap        *Encap
	ReplayWindow uint32 // 32 inbound, 0 outbound (no ESN)
	AFUnspec     bool   // XFRM_STATE_AF_UNSPEC, set in tunnel mode
	// Selector of a transport-mode SA (the first traffic selectors).
	SelSrc, SelDst netip.Prefix
	// Lifetime: seconds after adding (soft: rekey, hard: expiry).
	SoftAdd, HardAdd uint64
}

// Policy is an xfrm policy with its one template (ESP).
type Policy struct {
	Src, Dst netip.Prefix
	Dir      string // "out", "in", "fwd"
	Priority uint32
	// Template.
	TmplSrc, TmplDst netip.Addr // tunnel mode only
	Proto            uint8
	Reqid            uint32
	Mode             string
	SPI              uint32 // out policies only
}

// Route is a route charon installs in its table (install_route).
type Route struct {
	Dst     netip.Prefix
	Gateway netip.Addr // invalid: none
	Src     netip.Addr // invalid: none
	Dev     string
	Table   int
	Proto   string // "static"
}

// policyPriority is kernel_netlink_ipsec.c get_priority for an IPsec
// policy of the default priority class without protocol, ports or
// interface: PRIO_BASE 200000, twice for POLICY_PRIORITY_DEFAULT, minus
// 512 per prefix bit, minus 1 for not being a routed (trap) policy.
func policyPriority(src, dst netip.Prefix) uint32 {
	const base = 200000
	p := uint32(2 * base)
	p -= uint32(src.Bits()+dst.Bits()) * 512
	return p - 1
}
