package xtables

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// The packet semantics of extensions: what the kernel's match and target
// functions (xt_match.match, xt_target.target) do with a packet. The rule
// model is what iptables parses and prints; these interfaces are the hook
// through which the packet path evaluates the same rules. An extension
// implements them next to its Parse/Print/Save, in its own file; one whose
// data is rebuilt from native nf_tables expressions (tcp and udp on the
// payload path, see NFTNative) must follow nft's semantics there, not xt's
// (no hot drop of a tiny fragment, for one).
//
// Effects that reach beyond the packet (a LOG line, a REJECT reply, a NAT
// binding, an address of the host) go through Env and the request fields
// of PacketState, which the host's packet path (package stack) carries out
// as the kernel does after the target returns.

// PacketState is what a match or target sees of the packet being
// evaluated (struct xt_action_param and the sk_buff fields extensions
// read). The packet path owns it and reuses it from packet to packet, so
// extensions must not keep a pointer to it.
type PacketState struct {
	Family Family
	Hook   int // Hook* constant of the hook being run
	Table  string
	// Pkt is the packet as it is at this point of the path (rewritten by
	// NAT and mangle targets before it). Targets that change header
	// fields do it through Pkt's setters, which keep checksums right.
	Pkt *packet.Packet
	// In and Out are the interface names ("" when there is none at this
	// hook, as the kernel's in/out devices).
	In, Out string
	// MAC is the link-layer header the packet arrived with (nil for a
	// locally generated packet): 14 bytes, dst, src, ethertype.
	MAC []byte
	// Mark is the packet mark (skb->mark), which MARK may change.
	Mark uint32
	// L4Proto is what nft's "meta l4proto" reads (pkt->tprot): the
	// IPv4 protocol field; for IPv6 the header where ipv6_find_hdr(-1,
	// IP6_FH_F_AUTH) stops, or -1 when it fails (no -p rule matches
	// then, inverted or not).
	L4Proto int
	// FragOff is the fragment offset in 8-byte units (par->fragoff):
	// matches on transport headers do not match a later fragment.
	FragOff int
	// HotDrop is set by a match that finds the packet malformed
	// (par->hotdrop): the packet is dropped at once.
	HotDrop bool

	// Ct is the packet's connection (nil when it has none: untracked,
	// invalid, or conntrack not in use); CtInfo its state.
	Ct     Conn
	CtInfo CtInfo

	// Sock describes the local socket of a locally generated packet
	// (owner match); HasSock is false when there is none. SockNoFile
	// marks one of the kernel's control sockets (ICMP errors, RSTs,
	// echo replies), which exists but has no file and so no owner.
	HasSock    bool
	SockNoFile bool
	UID, GID   uint32

	// Trace is the packet's nf_trace flag (TRACE target).
	Trace bool

	// Request fields, set by targets for the path to act on after the
	// walk (the kernel's target functions do this work themselves).
	NAT       NATRequest
	Notrack   bool // raw NOTRACK / CT --notrack: skb becomes untracked
	CtZone    uint16
	CtZoneSet bool

	// Env is the host around the packet; never nil while a rule is
	// evaluated.
	Env Env
}

// Reset clears the per-packet fields (Env is kept).
func (st *PacketState) Reset() {
	env := st.Env
	*st = PacketState{Env: env}
}

// CtInfo is a packet's conntrack state as the state and conntrack matches
// see it (enum ip_conntrack_info plus untracked and invalid).
type CtInfo uint8

const (
	CtInvalid     CtInfo = iota // no connection: INVALID
	CtNew                       // IP_CT_NEW
	CtEstablished               // IP_CT_ESTABLISHED
	CtRelated                   // IP_CT_RELATED
	CtUntracked                 // the skb is untracked (NOTRACK)
)

// Conntrack status bits (enum ip_conntrack_status).
const (
	IPSExpected     = 1 << 0
	IPSSeenReply    = 1 << 1
	IPSAssured      = 1 << 2
	IPSConfirmed    = 1 << 3
	IPSSrcNAT       = 1 << 4
	IPSDstNAT       = 1 << 5
	IPSNATMask      = IPSSrcNAT | IPSDstNAT
	IPSSeqAdjust    = 1 << 6
	IPSSrcNATDone   = 1 << 7
	IPSDstNATDone   = 1 << 8
	IPSNATDoneMask  = IPSSrcNATDone | IPSDstNATDone
	IPSDying        = 1 << 9
	IPSFixedTimeout = 1 << 10
	IPSTemplate     = 1 << 11
	IPSNATClash     = 1 << 12
	IPSHelper       = 1 << 13
	IPSOffload      = 1 << 14
	IPSHWOffload    = 1 << 15
)

// Tuple is one direction of a connection (struct nf_conntrack_tuple):
// addresses, protocol, ports (the ICMP id in Src port and type/code in
// Dst port's high/low bytes, as the kernel keeps them).
type Tuple struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
}

// Conn is the view of a conntrack entry that extensions get (the
// conntrack, state, connmark, connbytes, connlabel … matches and the
// CONNMARK, CONNSECMARK targets). Dir is 0 for original, 1 for reply.
type Conn interface {
	Tuple(dir int) Tuple
	Status() uint32
	// Reply reports whether the current packet travels in the reply
	// direction (CTINFO2DIR).
	Reply() bool
	Mark() uint32
	SetMark(uint32)
	// Expires is the time left in seconds, as ctnetlink reports it.
	Expires() uint32
	// Counters are the packets and bytes seen in one direction.
	Counters(dir int) (packets, bytes uint64)
	// Helper is the name of the conntrack helper ("" for none).
	Helper() string
	// Labels is the connlabel bit set (128 bits).
	Labels() *[2]uint64
}

// NAT kinds a target can request.
type NATKind uint8

const (
	NATNone NATKind = iota
	NATSource
	NATDestination
	NATMasquerade // source NAT to the out interface's address
	NATRedirect   // destination NAT to the in interface's address (or loopback in OUTPUT)
)

// NAT range flags (NF_NAT_RANGE_*).
const (
	NATRangeMapIPs           = 1 << 0
	NATRangeProtoSpecified   = 1 << 1
	NATRangeProtoRandom      = 1 << 2
	NATRangePersistent       = 1 << 3
	NATRangeProtoRandomFully = 1 << 4
	NATRangeProtoOffset      = 1 << 5
	NATRangeNetmap           = 1 << 6
)

// NATRange is struct nf_nat_range2.
type NATRange struct {
	Flags            uint32
	MinAddr, MaxAddr netip.Addr
	MinPort, MaxPort uint16
	BasePort         uint16
}

// NATRequest is the mapping a NAT target asks for; the path performs
// nf_nat_setup_info with it when the target returns.
type NATRequest struct {
	Kind  NATKind
	Range NATRange
}

// RejectType is what REJECT sends (enum ipt_reject_with / ip6t_reject_with
// folded into one list).
type RejectType uint8

const (
	RejectNetUnreach RejectType = iota
	RejectHostUnreach
	RejectProtoUnreach
	RejectPortUnreach
	RejectEchoReply // obsolete, refused by the kernel
	RejectNetProhibited
	RejectHostProhibited
	RejectTCPReset
	RejectAdminProhibited
	// IPv6 only
	RejectNoRoute
	RejectAddrUnreach
	RejectPolicyFail
	RejectRejectRoute
)

// Address types (RTN_*), as the addrtype match tests them.
const (
	RTNUnspec = iota
	RTNUnicast
	RTNLocal
	RTNBroadcast
	RTNAnycast
	RTNMulticast
	RTNBlackhole
	RTNUnreachable
	RTNProhibit
	RTNThrow
	RTNNAT
	RTNXResolve
)

// LogRequest is what a LOG target asks the host to log (struct
// nf_loginfo): level, prefix and the NF_LOG_* flags.
type LogRequest struct {
	Level  uint8
	Prefix string
	Flags  uint8
}

// NF_LOG_* flags of struct nf_loginfo.
const (
	LogTCPSeq    = 0x01
	LogTCPOpt    = 0x02
	LogIPOpt     = 0x04
	LogUID       = 0x08
	LogNFLog     = 0x10 // unsupported by LOG
	LogMACDecode = 0x20
)

// Env is the host around a packet being evaluated: its clock, its
// randomness, its addresses and routes, and the effects targets have
// outside the packet. The packet path implements it without allocating.
type Env interface {
	// Now is the host's clock in nanoseconds (virtual in simulations).
	Now() int64
	// Random is the host's seeded random source (statistic, random NAT).
	Random() uint32
	// AddrType is the route type of addr as seen from dev ("" for any
	// device), as inet_addr_type_dev_table / ipv6 addrtype compute it.
	AddrType(addr netip.Addr, dev string) int
	// Log writes the LOG target's line for the current packet.
	Log(st *PacketState, req LogRequest)
	// Reject sends REJECT's reply to the current packet through OUTPUT.
	Reject(st *PacketState, t RejectType)
}

// PacketMatcher is implemented by the data of a match that can evaluate
// packets.
type PacketMatcher interface {
	MatchPacket(st *PacketState) bool
}

// VerdictCode is what a target returns (NF_DROP, NF_ACCEPT, NF_STOLEN,
// NF_QUEUE, XT_CONTINUE, XT_RETURN).
type VerdictCode uint8

const (
	VerdictCodeDrop VerdictCode = iota
	VerdictCodeAccept
	VerdictCodeStolen
	VerdictCodeQueue
	VerdictCodeContinue
	VerdictCodeReturn
)

// PacketTargeter is implemented by the data of a target that can act on
// packets; it may change st.Pkt and st.Mark, set the request fields, and
// returns the verdict.
type PacketTargeter interface {
	TargetPacket(st *PacketState) VerdictCode
}
