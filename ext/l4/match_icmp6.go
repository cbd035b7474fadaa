package l4

import "github.com/iptwin/iptwin/xtables"

// icmp6 match (libip6t_icmp6.c, struct ip6t_icmp), IPv6 only; -m icmpv6
// and -m ipv6-icmp find it too.

const icmp6Inv = 0x01 // IP6T_ICMP_INV

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "icmp6",
		Family:    xtables.IPv6,
		Options: []xtables.Option{
			{Name: "icmpv6-type", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &ICMP6{Code: [2]uint8{0, 0xFF}} },
		Help: "icmpv6 match options:\n" +
			"[!] --icmpv6-type typename\tmatch icmpv6 type\n" +
			"\t\t\t\t(or numeric type or type/code)\n" +
			"Valid ICMPv6 Types:" + icmpTypesHelp(icmpv6Codes),
	})
}

// ICMP6 is struct ip6t_icmp.
type ICMP6 struct {
	Type     uint8
	Code     [2]uint8
	InvFlags uint8
}

func (m *ICMP6) Parse(c *xtables.OptionCall) error {
	t, code, err := parseICMPType(icmpv6Codes, "ICMPv6", c.Arg)
	if err != nil {
		return err
	}
	m.Type, m.Code = t, code
	if c.Invert {
		m.InvFlags |= icmp6Inv
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p icmpv6).
func (m *ICMP6) Check(ctx *xtables.Context) error { return checkProto(ctx, 58) }

func (m *ICMP6) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ipv6-icmp"...)
	b = appendICMPType(b, icmpv6Codes, m.Type, m.Code, m.InvFlags&icmp6Inv != 0, ctx.Numeric)
	if m.InvFlags&^icmp6Inv != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(m.InvFlags&^icmp6Inv))
	}
	return b
}

func (m *ICMP6) Save(b []byte, ctx *xtables.Context) []byte {
	if ctx.State { // keep the code range the save form drops
		return appendICMPState(b, "--icmpv6-type", m.Type, m.Code, m.InvFlags&icmp6Inv != 0)
	}
	b = xtables.AppendInv(b, m.InvFlags&icmp6Inv != 0)
	b = append(b, " --icmpv6-type "...)
	b = xtables.AppendUint(b, uint64(m.Type))
	if m.Code[0] != 0 || m.Code[1] != 0xFF {
		b = append(b, '/')
		b = xtables.AppendUint(b, uint64(m.Code[0]))
	}
	return b
}

// MatchPacket is icmp6_match (ip6_tables.c): no "any" type here.
func (m *ICMP6) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	ic := in.header(8)
	if ic == nil {
		st.HotDrop = true
		return false
	}
	ok := ic[0] == m.Type && ic[1] >= m.Code[0] && ic[1] <= m.Code[1]
	return ok != (m.InvFlags&icmp6Inv != 0)
}
