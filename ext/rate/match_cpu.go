package rate

import "github.com/iptwin/iptwin/xtables"

// cpu match (libxt_cpu.c, xt_cpu.h).

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "cpu",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "cpu", ID: 0, Type: xtables.TypeUint32, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &CPU{} },
	})
}

// CPU is struct xt_cpu_info.
type CPU struct {
	CPU    uint32
	Invert uint32
}

func (m *CPU) Parse(c *xtables.OptionCall) error {
	m.CPU = uint32(c.Val.U64)
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *CPU) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " cpu "...)
	if m.Invert != 0 {
		b = append(b, "! "...)
	}
	return xtables.AppendUint(b, uint64(m.CPU))
}

func (m *CPU) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --cpu "...)
	return xtables.AppendUint(b, uint64(m.CPU))
}

// MatchPacket is cpu_mt: the twin handles every packet on CPU 0.
func (m *CPU) MatchPacket(st *xtables.PacketState) bool {
	return (m.CPU == 0) != (m.Invert != 0)
}
