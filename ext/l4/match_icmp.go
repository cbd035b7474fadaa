package l4

import "github.com/iptwin/iptwin/xtables"

// icmp match (libipt_icmp.c, struct ipt_icmp), IPv4 only.

const icmpInv = 0x01 // IPT_ICMP_INV

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "icmp",
		Family:    xtables.IPv4,
		Options: []xtables.Option{
			{Name: "icmp-type", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &ICMP{Type: 0xFF, Code: [2]uint8{0, 0xFF}} },
		Help: "icmp match options:\n" +
			"[!] --icmp-type typename\tmatch icmp type\n" +
			"[!] --icmp-type type[/code]\t(or numeric type or type/code)\n" +
			"Valid ICMP Types:" + icmpTypesHelp(icmpCodes),
	})
}

// ICMP is struct ipt_icmp.
type ICMP struct {
	Type     uint8
	Code     [2]uint8
	InvFlags uint8
}

func (m *ICMP) Parse(c *xtables.OptionCall) error {
	t, code, err := parseICMPType(icmpCodes, "ICMP", c.Arg)
	if err != nil {
		return err
	}
	m.Type, m.Code = t, code
	if c.Invert {
		m.InvFlags |= icmpInv
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p icmp).
func (m *ICMP) Check(ctx *xtables.Context) error { return checkProto(ctx, 1) }

func (m *ICMP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " icmp"...)
	b = appendICMPType(b, icmpCodes, m.Type, m.Code, m.InvFlags&icmpInv != 0, ctx.Numeric)
	if m.InvFlags&^icmpInv != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(m.InvFlags&^icmpInv))
	}
	return b
}

func (m *ICMP) Save(b []byte, ctx *xtables.Context) []byte {
	if ctx.State { // keep the code range the save form drops
		return appendICMPState(b, "--icmp-type", m.Type, m.Code, m.InvFlags&icmpInv != 0)
	}
	b = xtables.AppendInv(b, m.InvFlags&icmpInv != 0)
	if m.Type == 0xFF { // the C code's "special hack for 'any' case"
		return append(b, " --icmp-type any"...)
	}
	b = append(b, " --icmp-type "...)
	b = xtables.AppendUint(b, uint64(m.Type))
	if m.Code[0] != 0 || m.Code[1] != 0xFF {
		b = append(b, '/')
		b = xtables.AppendUint(b, uint64(m.Code[0]))
	}
	return b
}

// MatchPacket is icmp_match (ip_tables.c): type 0xFF is any type; a
// later fragment never matches and a header shorter than 8 bytes drops
// the packet.
func (m *ICMP) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	ic := in.header(8)
	if ic == nil {
		st.HotDrop = true
		return false
	}
	ok := m.Type == 0xFF || ic[0] == m.Type && ic[1] >= m.Code[0] && ic[1] <= m.Code[1]
	return ok != (m.InvFlags&icmpInv != 0)
}
