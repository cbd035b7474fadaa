package xtables

import "net/netip"

// Family is the address family a rule set belongs to.
type Family uint8

const (
	IPv4 Family = 1 << iota
	IPv6
)

// AnyFamily is for extensions that serve both (the libxt_* ones).
const AnyFamily = IPv4 | IPv6

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "unspec"
}

// Program is the command name the family is driven by.
func (f Family) Program() string {
	if f == IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// Bits is the address length of the family.
func (f Family) Bits() int {
	if f == IPv6 {
		return 128
	}
	return 32
}

// Invert flags of the IP header part (IPT_INV_* / IP6T_INV_*).
const (
	InvViaIn  uint8 = 0x01
	InvViaOut uint8 = 0x02
	InvTOS    uint8 = 0x04
	InvSrcIP  uint8 = 0x08
	InvDstIP  uint8 = 0x10
	InvFrag   uint8 = 0x20
	InvProto  uint8 = 0x40
)

// Flags of the IP header part.
const (
	FlagFrag  uint8 = 0x01 // IPT_F_FRAG: -f
	FlagGoto  uint8 = 0x02 // IPT_F_GOTO: -g
	FlagProto uint8 = 0x01 // IP6T_F_PROTO shares the value; kept apart by family
)

// Counters are a rule's or policy's packet and byte counts.
type Counters struct {
	Packets uint64
	Bytes   uint64
}

// Iface is an interface match as the kernel keeps it: a name with an
// optional trailing "+" wildcard.
type Iface struct {
	Name     string // without the "+"
	Wildcard bool   // "eth+" matches every name starting with "eth"
}

// Empty reports whether the rule does not constrain this interface.
func (i Iface) Empty() bool { return i.Name == "" && !i.Wildcard }

// String renders the interface as iptables prints it.
func (i Iface) String() string {
	if i.Wildcard {
		return i.Name + "+"
	}
	return i.Name
}

// Header is the fixed part of a rule (struct ipt_ip / ip6t_ip6): addresses
// with masks, interfaces, protocol and flags. Masks are kept as addresses
// because IPv4 allows non-contiguous ones.
type Header struct {
	Src, SrcMask netip.Addr
	Dst, DstMask netip.Addr
	In, Out      Iface
	Proto        uint8
	Flags        uint8
	Inv          uint8
}

// Rule is one rule of a chain.
type Rule struct {
	Header
	Matches []*Match
	// Target is nil for a rule without -j/-g (it only counts), otherwise
	// a standard verdict, a jump, or an extension target.
	Target   *Target
	Counters Counters
}

// Goto reports whether the rule was given with -g.
func (r *Rule) Goto() bool { return r.Flags&FlagGoto != 0 }

// Match is one -m instance in a rule.
type Match struct {
	Type *MatchType
	Info MatchInfo
}

// Verdict names of the standard target.
const (
	VerdictAccept = "ACCEPT"
	VerdictDrop   = "DROP"
	VerdictQueue  = "QUEUE"
	VerdictReturn = "RETURN"
)

// Target is the action of a rule: either an extension target (Type != nil),
// or a standard one named by Name (a verdict or a user chain).
type Target struct {
	Name string
	Type *TargetType
	Info TargetInfo
}

// IsStandard reports whether the target is one of the built-in verdicts.
func IsStandard(name string) bool {
	switch name {
	case VerdictAccept, VerdictDrop, VerdictQueue, VerdictReturn:
		return true
	}
	return false
}
