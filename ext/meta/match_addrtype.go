package meta

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// addrtype match, revision 1 (libxt_addrtype.c, xt_addrtype.h): the
// revision iptables-nft uses for both families.

const (
	addrtypeInvSrc   = 0x1
	addrtypeInvDst   = 0x2
	addrtypeLimitIn  = 0x4
	addrtypeLimitOut = 0x8
)

const (
	addrtypeOptSrc uint = iota
	addrtypeOptDst
	addrtypeOptLimitIn
	addrtypeOptLimitOut
)

// rtnNames are the route types of linux/rtnetlink.h, in order.
var rtnNames = []string{
	"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
	"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
}

func init() {
	help := "Address type match options:\n" +
		" [!] --src-type type[,...]      Match source address type\n" +
		" [!] --dst-type type[,...]      Match destination address type\n" +
		"     --limit-iface-in           Match only on the packet's incoming device\n" +
		"     --limit-iface-out          Match only on the packet's outgoing device\n" +
		"\n" +
		"Valid types:           \n"
	for _, n := range rtnNames {
		help += "                                " + n + "\n"
	}
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "addrtype",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "src-type", ID: addrtypeOptSrc, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "dst-type", ID: addrtypeOptDst, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "limit-iface-in", ID: addrtypeOptLimitIn, Type: xtables.TypeNone, Excl: 1 << addrtypeOptLimitOut},
			{Name: "limit-iface-out", ID: addrtypeOptLimitOut, Type: xtables.TypeNone, Excl: 1 << addrtypeOptLimitIn},
		},
		New:  func() xtables.MatchInfo { return &AddrType{} },
		Help: help,
	})
}

// AddrType is struct xt_addrtype_info_v1.
type AddrType struct {
	Source, Dest uint16
	Flags        uint32
}

// parseAddrType is parse_type: the first route type the text is a
// case-insensitive prefix of (strncasecmp with the text's length).
func parseAddrType(s string, mask *uint16) bool {
	for i, n := range rtnNames {
		if len(s) <= len(n) && strings.EqualFold(s, n[:len(s)]) {
			*mask |= 1 << i
			return true
		}
	}
	return false
}

// parseAddrTypes is parse_types, with its two different error texts.
func parseAddrTypes(arg string, mask *uint16) error {
	for {
		comma := strings.IndexByte(arg, ',')
		if comma < 0 {
			break
		}
		if comma == 0 || !parseAddrType(arg[:comma], mask) {
			return xtables.Errorf("addrtype: bad type `%s'", arg)
		}
		arg = arg[comma+1:]
	}
	if arg == "" || !parseAddrType(arg, mask) {
		return xtables.Errorf("addrtype: bad type \"%s\"", arg)
	}
	return nil
}

func (m *AddrType) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case addrtypeOptSrc:
		if err := parseAddrTypes(c.Arg, &m.Source); err != nil {
			return err
		}
		if c.Invert {
			m.Flags |= addrtypeInvSrc
		}
	case addrtypeOptDst:
		if err := parseAddrTypes(c.Arg, &m.Dest); err != nil {
			return err
		}
		if c.Invert {
			m.Flags |= addrtypeInvDst
		}
	case addrtypeOptLimitIn:
		m.Flags |= addrtypeLimitIn
	case addrtypeOptLimitOut:
		m.Flags |= addrtypeLimitOut
	}
	return nil
}

func (m *AddrType) Final(f *xtables.FinalCall) error {
	if !f.Has(addrtypeOptSrc) && !f.Has(addrtypeOptDst) {
		return xtables.Errorf("addrtype: you must specify --src-type or --dst-type")
	}
	return nil
}

func appendAddrTypes(b []byte, mask uint16) []byte {
	sep := false
	for i, n := range rtnNames {
		if mask&(1<<i) != 0 {
			if sep {
				b = append(b, ',')
			}
			b = append(b, n...)
			sep = true
		}
	}
	return b
}

func (m *AddrType) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ADDRTYPE match"...)
	if m.Source != 0 {
		b = append(b, " src-type "...)
		if m.Flags&addrtypeInvSrc != 0 {
			b = append(b, '!')
		}
		b = appendAddrTypes(b, m.Source)
	}
	if m.Dest != 0 {
		b = append(b, " dst-type "...)
		if m.Flags&addrtypeInvDst != 0 {
			b = append(b, '!')
		}
		b = appendAddrTypes(b, m.Dest)
	}
	if m.Flags&addrtypeLimitIn != 0 {
		b = append(b, " limit-in"...)
	}
	if m.Flags&addrtypeLimitOut != 0 {
		b = append(b, " limit-out"...)
	}
	return b
}

func (m *AddrType) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Source != 0 {
		b = xtables.AppendInv(b, m.Flags&addrtypeInvSrc != 0)
		b = append(b, " --src-type "...)
		b = appendAddrTypes(b, m.Source)
	}
	if m.Dest != 0 {
		b = xtables.AppendInv(b, m.Flags&addrtypeInvDst != 0)
		b = append(b, " --dst-type "...)
		b = appendAddrTypes(b, m.Dest)
	}
	if m.Flags&addrtypeLimitIn != 0 {
		b = append(b, " --limit-iface-in"...)
	}
	if m.Flags&addrtypeLimitOut != 0 {
		b = append(b, " --limit-iface-out"...)
	}
	return b
}

// Check is addrtype_mt_checkentry_v1.
func (m *AddrType) Check(ctx *xtables.Context) error {
	if m.Flags&addrtypeLimitIn != 0 && m.Flags&addrtypeLimitOut != 0 {
		return xtables.ErrInvalidArgument
	}
	if ctx.Hooks&(1<<xtables.HookPrerouting|1<<xtables.HookInput) != 0 && m.Flags&addrtypeLimitOut != 0 {
		return xtables.ErrInvalidArgument
	}
	if ctx.Hooks&(1<<xtables.HookPostrouting|1<<xtables.HookOutput) != 0 && m.Flags&addrtypeLimitIn != 0 {
		return xtables.ErrInvalidArgument
	}
	if ctx.Family == xtables.IPv6 {
		const blackhole, prohibit, broadcast = 1 << 6, 1 << 8, 1 << 3
		all := m.Source | m.Dest
		if all&blackhole != 0 || all >= prohibit || all&broadcast != 0 {
			return xtables.ErrInvalidArgument
		}
	}
	return nil
}

// XT_ADDRTYPE_* bits (1 << RTN_*).
const (
	addrtypeUnspec      = 1 << xtables.RTNUnspec
	addrtypeUnicast     = 1 << xtables.RTNUnicast
	addrtypeLocal       = 1 << xtables.RTNLocal
	addrtypeAnycast     = 1 << xtables.RTNAnycast
	addrtypeMulticast   = 1 << xtables.RTNMulticast
	addrtypeUnreachable = 1 << xtables.RTNUnreachable
)

// MatchPacket is addrtype_mt_v1 (xt_addrtype.c). IPv4: the address's
// route type (inet_dev_addr_type, through Env.AddrType) must be one of
// the given ones. IPv6 (match_type6): every given one of multicast,
// unicast and unspecified must hold of the address itself, and one of
// local, anycast and unreachable of its route.
func (m *AddrType) MatchPacket(st *xtables.PacketState) bool {
	src, dst, ok := packetAddrs(st)
	if !ok {
		return false
	}
	dev := ""
	if m.Flags&addrtypeLimitIn != 0 {
		dev = st.In
	} else if m.Flags&addrtypeLimitOut != 0 {
		dev = st.Out
	}
	if m.Source != 0 && m.matchType(st, src, dev, m.Source) == (m.Flags&addrtypeInvSrc != 0) {
		return false
	}
	if m.Dest != 0 && m.matchType(st, dst, dev, m.Dest) == (m.Flags&addrtypeInvDst != 0) {
		return false
	}
	return true
}

func (m *AddrType) matchType(st *xtables.PacketState, a netip.Addr, dev string, mask uint16) bool {
	if st.Family != xtables.IPv6 {
		t := st.Env.AddrType(a, dev)
		return t >= 0 && t < 16 && mask&(1<<t) != 0
	}
	if mask&addrtypeMulticast != 0 && !a.IsMulticast() {
		return false
	}
	// ipv6_addr_type: IPV6_ADDR_UNICAST is every address but multicast,
	// :: and the IPv4-mapped ones.
	if mask&addrtypeUnicast != 0 && (a.IsMulticast() || a.IsUnspecified() || a.Is4In6()) {
		return false
	}
	if mask&addrtypeUnspec != 0 && !a.IsUnspecified() {
		return false
	}
	if mask&(addrtypeLocal|addrtypeAnycast|addrtypeUnreachable) == 0 {
		return true
	}
	// match_lookup_rt6: the route to the address (restricted to dev when
	// one is given) as Env.AddrType reports its type.
	var got uint16
	switch st.Env.AddrType(a, dev) {
	case xtables.RTNLocal:
		got = addrtypeLocal
	case xtables.RTNAnycast:
		got = addrtypeAnycast
	case xtables.RTNUnreachable, xtables.RTNProhibit, xtables.RTNBlackhole, xtables.RTNThrow:
		got = addrtypeUnreachable
	}
	return mask&got != 0
}
