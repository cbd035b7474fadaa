package mangle

import "github.com/iptwin/iptwin/xtables"

// MARK target, revision 2 (libxt_MARK.c mark_tg_*, struct xt_mark_tginfo2):
// every form is stored as "zero the mask bits, then XOR the value".

const (
	markOptSet uint = iota
	markOptAnd
	markOptOr
	markOptXor
	markOptSetX
	markAny = 1<<markOptSet | 1<<markOptAnd | 1<<markOptOr | 1<<markOptXor | 1<<markOptSetX
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "MARK",
		Revision: 2,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "set-xmark", ID: markOptSetX, Type: xtables.TypeString, Excl: markAny},
			{Name: "set-mark", ID: markOptSet, Type: xtables.TypeString, Excl: markAny},
			{Name: "and-mark", ID: markOptAnd, Type: xtables.TypeUint32, Excl: markAny},
			{Name: "or-mark", ID: markOptOr, Type: xtables.TypeUint32, Excl: markAny},
			{Name: "xor-mark", ID: markOptXor, Type: xtables.TypeUint32, Excl: markAny},
		},
		New: func() xtables.TargetInfo { return &Mark{} },
		Help: `MARK target options:
  --set-xmark value[/mask]  Clear bits in mask and XOR value into nfmark
  --set-mark value[/mask]   Clear bits in mask and OR value into nfmark
  --and-mark bits           Binary AND the nfmark with bits
  --or-mark bits            Binary OR the nfmark with bits
  --xor-mark bits           Binary XOR the nfmark with bits
`,
	})
}

// Mark is struct xt_mark_tginfo2.
type Mark struct {
	Mark, Mask uint32
}

func (m *Mark) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case markOptSetX, markOptSet:
		v, mask, err := parseValMask(c)
		if err != nil {
			return err
		}
		m.Mark, m.Mask = v, mask
		if c.Opt.ID == markOptSet {
			m.Mask = v | mask
		}
	case markOptAnd:
		m.Mark, m.Mask = 0, ^uint32(c.Val.U64)
	case markOptOr:
		m.Mark, m.Mask = uint32(c.Val.U64), uint32(c.Val.U64)
	case markOptXor:
		m.Mark, m.Mask = uint32(c.Val.U64), 0
	}
	return nil
}

func (m *Mark) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
	}
	return nil
}

// appendMarkOp is the -L form shared with CONNMARK's set modes.
func appendMarkOp(b []byte, name string, mark, mask uint32) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	switch {
	case mark == 0:
		b = append(b, " and "...)
		return xtables.AppendHex(b, uint64(^mask))
	case mark == mask:
		b = append(b, " or "...)
	case mask == 0:
		b = append(b, " xor "...)
	case mask == 0xffffffff:
		b = append(b, " set "...)
	default:
		b = append(b, " xset "...)
		b = xtables.AppendHex(b, uint64(mark))
		b = append(b, '/')
		return xtables.AppendHex(b, uint64(mask))
	}
	return xtables.AppendHex(b, uint64(mark))
}

func (m *Mark) Print(b []byte, ctx *xtables.Context) []byte {
	return appendMarkOp(b, "MARK", m.Mark, m.Mask)
}

func (m *Mark) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --set-xmark "...)
	b = xtables.AppendHex(b, uint64(m.Mark))
	b = append(b, '/')
	return xtables.AppendHex(b, uint64(m.Mask))
}

// TargetPacket is mark_tg: clear the mask's bits, XOR the value.
func (m *Mark) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	st.Mark = st.Mark&^m.Mask ^ m.Mark
	return xtables.VerdictCodeContinue
}
