package iphdr

import "github.com/iptwin/iptwin/xtables"

// length match (libxt_length.c, xt_length.h).

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "length",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "length", ID: 0, Type: xtables.TypeUint16RC, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Length{} },
		Help: "length match options:\n" +
			"[!] --length length[:length]    Match packet length against value or range\n" +
			"                                of values (inclusive)\n",
	})
}

// Length is struct xt_length_info. A reversed range is accepted, as by
// the real tool and the kernel; it never matches.
type Length struct {
	Min, Max uint16
	Invert   uint8
}

func (m *Length) Parse(c *xtables.OptionCall) error {
	m.Min = uint16(c.Val.Range[0])
	m.Max = uint16(c.Val.Range[0])
	if c.Val.NVals >= 2 {
		m.Max = uint16(c.Val.Range[1])
	}
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *Length) appendRange(b []byte) []byte {
	b = appendU(b, uint64(m.Min))
	if m.Min != m.Max {
		b = append(b, ':')
		b = appendU(b, uint64(m.Max))
	}
	return b
}

func (m *Length) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " length "...)
	b = appendInvBang(b, m.Invert != 0)
	return m.appendRange(b)
}

func (m *Length) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --length "...)
	return m.appendRange(b)
}

// MatchPacket is length_mt/length_mt6 (xt_length.c): the IPv4 total
// length field, the IPv6 packet's length (skb->len, the header included).
func (m *Length) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	var n int
	if st.Family == xtables.IPv6 {
		n = len(d)
	} else {
		if len(d) < 4 {
			return false
		}
		n = int(be16(d[2:]))
	}
	return (n >= int(m.Min) && n <= int(m.Max)) != (m.Invert != 0)
}
