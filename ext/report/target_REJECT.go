package report

import (
	"fmt"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// REJECT target, IPv4 (libipt_REJECT.c, ipt_REJECT.h) and IPv6
// (libip6t_REJECT.c, ip6t_REJECT.h). The kernel module is for the filter
// table only and refuses tcp-reset unless the rule matches -p tcp.

const rejectOptWith uint = 0

// ipt_reject_with values.
const (
	RejectICMPNetUnreachable = iota
	RejectICMPHostUnreachable
	RejectICMPProtUnreachable
	RejectICMPPortUnreachable
	RejectICMPEchoReply // no longer supported
	RejectICMPNetProhibited
	RejectICMPHostProhibited
	RejectTCPReset
	RejectICMPAdminProhibited
)

// ip6t_reject_with values.
const (
	Reject6ICMPNoRoute = iota
	Reject6ICMPAdmProhibited
	Reject6ICMPNotNeighbor // not offered
	Reject6ICMPAddrUnreach
	Reject6ICMPPortUnreach
	Reject6ICMPEchoReply // not offered
	Reject6TCPReset
	Reject6ICMPPolicyFail
	Reject6ICMPRejectRoute
)

type rejectName struct {
	name, alias, desc string
}

// The tables are indexed by the "with" value; holes are the types
// userspace no longer offers.
var rejectTable4 = []rejectName{
	RejectICMPNetUnreachable:  {"icmp-net-unreachable", "net-unreach", "ICMP network unreachable"},
	RejectICMPHostUnreachable: {"icmp-host-unreachable", "host-unreach", "ICMP host unreachable"},
	RejectICMPProtUnreachable: {"icmp-proto-unreachable", "proto-unreach", "ICMP protocol unreachable"},
	RejectICMPPortUnreachable: {"icmp-port-unreachable", "port-unreach", "ICMP port unreachable (default)"},
	RejectICMPNetProhibited:   {"icmp-net-prohibited", "net-prohib", "ICMP network prohibited"},
	RejectICMPHostProhibited:  {"icmp-host-prohibited", "host-prohib", "ICMP host prohibited"},
	RejectTCPReset:            {"tcp-reset", "tcp-rst", "TCP RST packet"},
	RejectICMPAdminProhibited: {"icmp-admin-prohibited", "admin-prohib", "ICMP administratively prohibited (*)"},
}

var rejectTable6 = []rejectName{
	Reject6ICMPNoRoute:       {"icmp6-no-route", "no-route", "ICMPv6 no route"},
	Reject6ICMPAdmProhibited: {"icmp6-adm-prohibited", "adm-prohibited", "ICMPv6 administratively prohibited"},
	Reject6ICMPAddrUnreach:   {"icmp6-addr-unreachable", "addr-unreach", "ICMPv6 address unreachable"},
	Reject6ICMPPortUnreach:   {"icmp6-port-unreachable", "port-unreach", "ICMPv6 port unreachable"},
	Reject6TCPReset:          {"tcp-reset", "tcp-reset", "TCP RST packet"},
	Reject6ICMPPolicyFail:    {"icmp6-policy-fail", "policy-fail", "ICMPv6 policy fail"},
	Reject6ICMPRejectRoute:   {"icmp6-reject-route", "reject-route", "ICMPv6 reject route"},
}

func rejectHelp(table []rejectName, tail string) string {
	var b strings.Builder
	b.WriteString("REJECT target options:\n" +
		"--reject-with type              drop input packet and send back\n" +
		"                                a reply packet according to type:\n" +
		"Valid reject types:\n")
	for _, r := range table {
		if r.name == "" {
			continue
		}
		fmt.Fprintf(&b, "    %-25s\t%s\n", r.name, r.desc)
		fmt.Fprintf(&b, "    %-25s\talias\n", r.alias)
	}
	b.WriteString("\n" + tail)
	return b.String()
}

func init() {
	opts := []xtables.Option{{Name: "reject-with", ID: rejectOptWith, Type: xtables.TypeString}}
	xtables.RegisterTarget(&xtables.TargetType{
		Name:    "REJECT",
		Family:  xtables.IPv4,
		Options: opts,
		New:     func() xtables.TargetInfo { return &Reject{With: RejectICMPPortUnreachable} },
		Help:    rejectHelp(rejectTable4, "(*) See man page or read the INCOMPATIBILITES file for compatibility issues.\n"),
	})
	xtables.RegisterTarget(&xtables.TargetType{
		Name:    "REJECT",
		Family:  xtables.IPv6,
		Options: opts,
		New:     func() xtables.TargetInfo { return &Reject6{With: Reject6ICMPPortUnreach} },
		Help:    rejectHelp(rejectTable6, ""),
	})
}

// lookupReject is the REJECT_parse loop: the first type whose name or
// alias starts with the argument, ignoring case (so "" and "icmp" pick
// the first entry).
func lookupReject(table []rejectName, arg string) (uint32, bool) {
	for i, r := range table {
		if r.name == "" {
			continue
		}
		if hasPrefixFold(r.name, arg) || hasPrefixFold(r.alias, arg) {
			return uint32(i), true
		}
	}
	return 0, false
}

// hasPrefixFold is strncasecmp(s, prefix, strlen(prefix)) == 0.
func hasPrefixFold(s, prefix string) bool {
	return len(prefix) <= len(s) && strings.EqualFold(s[:len(prefix)], prefix)
}

func rejectTypeName(table []rejectName, with uint32) string {
	if int(with) < len(table) {
		return table[with].name
	}
	return ""
}

// Reject is struct ipt_reject_info.
type Reject struct {
	With uint32
}

func (r *Reject) Parse(c *xtables.OptionCall) error {
	if w, ok := lookupReject(rejectTable4, c.Arg); ok {
		r.With = w
		return nil
	}
	if hasPrefixFold("echo-reply", c.Arg) || hasPrefixFold("echoreply", c.Arg) {
		warn(c.Ctx, "--reject-with echo-reply no longer supported")
	}
	return xtables.Errorf("unknown reject type \"%s\"", c.Arg)
}

func (r *Reject) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " reject-with "...)
	return append(b, rejectTypeName(rejectTable4, r.With)...)
}

func (r *Reject) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --reject-with "...)
	return append(b, rejectTypeName(rejectTable4, r.With)...)
}

// Check is the target's table ("filter") and reject_tg_check.
func (r *Reject) Check(ctx *xtables.Context) error {
	if ctx.Table != "filter" || r.With == RejectICMPEchoReply {
		return xtables.ErrInvalidArgument
	}
	if r.With == RejectTCPReset && !matchesTCPOnly(ctx.Header) {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// matchesTCPOnly says whether the rule is "-p tcp", not inverted.
func matchesTCPOnly(h *xtables.Header) bool {
	return h != nil && h.Proto == 6 && h.Inv&xtables.InvProto == 0
}

// Reject6 is struct ip6t_reject_info.
type Reject6 struct {
	With uint32
}

func (r *Reject6) Parse(c *xtables.OptionCall) error {
	if w, ok := lookupReject(rejectTable6, c.Arg); ok {
		r.With = w
		return nil
	}
	return xtables.Errorf("unknown reject type \"%s\"", c.Arg)
}

func (r *Reject6) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " reject-with "...)
	return append(b, rejectTypeName(rejectTable6, r.With)...)
}

func (r *Reject6) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --reject-with "...)
	return append(b, rejectTypeName(rejectTable6, r.With)...)
}

// Check is the table check and reject_tg_check of ip6t_REJECT.
func (r *Reject6) Check(ctx *xtables.Context) error {
	if ctx.Table != "filter" || r.With == Reject6ICMPEchoReply {
		return xtables.ErrInvalidArgument
	}
	if r.With == Reject6TCPReset && !matchesTCPOnly(ctx.Header) {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// reject6Types maps ip6t_reject_with to the host's reply kinds.
var reject6Types = [...]xtables.RejectType{
	Reject6ICMPNoRoute:       xtables.RejectNoRoute,
	Reject6ICMPAdmProhibited: xtables.RejectAdminProhibited,
	Reject6ICMPNotNeighbor:   xtables.RejectNoRoute, // not offered by iptables
	Reject6ICMPAddrUnreach:   xtables.RejectAddrUnreach,
	Reject6ICMPPortUnreach:   xtables.RejectPortUnreach,
	Reject6ICMPEchoReply:     xtables.RejectEchoReply,
	Reject6TCPReset:          xtables.RejectTCPReset,
	Reject6ICMPPolicyFail:    xtables.RejectPolicyFail,
	Reject6ICMPRejectRoute:   xtables.RejectRejectRoute,
}

// TargetPacket is reject_tg: the host builds and sends the reply (its
// reply builder decides, as nf_send_unreach and nf_send_reset do, which
// packets get one), and the packet is dropped. The ipt_reject_with values
// are the host's RejectType values.
func (r *Reject) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if r.With != RejectICMPEchoReply && r.With <= RejectICMPAdminProhibited {
		st.Env.Reject(st, xtables.RejectType(r.With))
	}
	return xtables.VerdictCodeDrop
}

// TargetPacket is reject_tg6.
func (r *Reject6) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if int(r.With) < len(reject6Types) && r.With != Reject6ICMPEchoReply && r.With != Reject6ICMPNotNeighbor {
		st.Env.Reject(st, reject6Types[r.With])
	}
	return xtables.VerdictCodeDrop
}
