package mangle

import "github.com/iptwin/iptwin/xtables"

// CONNMARK target, revision 2 (libxt_CONNMARK.c connmark_tg_*_v2, struct
// xt_connmark_tginfo2).

const (
	cmOptSetMark uint = iota
	cmOptSave
	cmOptRestore
	cmOptAnd
	cmOptOr
	cmOptXor
	cmOptLShift
	cmOptRShift
	cmOptSetX
	cmOptCtMask
	cmOptNfMask
	cmOptMask
	cmOpAny = 1<<cmOptSetMark | 1<<cmOptSave | 1<<cmOptRestore | 1<<cmOptAnd |
		1<<cmOptOr | 1<<cmOptXor | 1<<cmOptSetX
)

// Modes of xt_connmark_tginfo2.
const (
	ConnmarkSet uint8 = iota
	ConnmarkSave
	ConnmarkRestore
)

// Shift directions.
const (
	ShiftLeft uint8 = iota
	ShiftRight
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "CONNMARK",
		Revision: 2,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "set-xmark", ID: cmOptSetX, Type: xtables.TypeString, Excl: cmOpAny},
			{Name: "set-mark", ID: cmOptSetMark, Type: xtables.TypeString, Excl: cmOpAny},
			{Name: "and-mark", ID: cmOptAnd, Type: xtables.TypeUint32, Excl: cmOpAny},
			{Name: "or-mark", ID: cmOptOr, Type: xtables.TypeUint32, Excl: cmOpAny},
			{Name: "xor-mark", ID: cmOptXor, Type: xtables.TypeUint32, Excl: cmOpAny},
			{Name: "save-mark", ID: cmOptSave, Type: xtables.TypeNone, Excl: cmOpAny},
			{Name: "restore-mark", ID: cmOptRestore, Type: xtables.TypeNone, Excl: cmOpAny},
			{Name: "left-shift-mark", ID: cmOptLShift, Type: xtables.TypeUint8, Min: 0, Max: 32},
			{Name: "right-shift-mark", ID: cmOptRShift, Type: xtables.TypeUint8, Min: 0, Max: 32},
			{Name: "ctmask", ID: cmOptCtMask, Type: xtables.TypeUint32, Excl: 1 << cmOptMask},
			{Name: "nfmask", ID: cmOptNfMask, Type: xtables.TypeUint32, Excl: 1 << cmOptMask},
			{Name: "mask", ID: cmOptMask, Type: xtables.TypeUint32, Excl: 1<<cmOptCtMask | 1<<cmOptNfMask},
		},
		New: func() xtables.TargetInfo { return &Connmark{CtMask: 0xffffffff, NfMask: 0xffffffff} },
	})
}

// Connmark is struct xt_connmark_tginfo2.
type Connmark struct {
	CtMark, CtMask, NfMask uint32
	ShiftDir, ShiftBits    uint8
	Mode                   uint8
}

func (m *Connmark) Parse(c *xtables.OptionCall) error {
	u32 := uint32(c.Val.U64)
	switch c.Opt.ID {
	case cmOptSetX, cmOptSetMark:
		v, mask, err := parseValMask(c)
		if err != nil {
			return err
		}
		m.Mode, m.CtMark, m.CtMask = ConnmarkSet, v, mask
		if c.Opt.ID == cmOptSetMark {
			m.CtMask = v | mask
		}
	case cmOptAnd:
		m.Mode, m.CtMark, m.CtMask = ConnmarkSet, 0, ^u32
	case cmOptOr:
		m.Mode, m.CtMark, m.CtMask = ConnmarkSet, u32, u32
	case cmOptXor:
		m.Mode, m.CtMark, m.CtMask = ConnmarkSet, u32, 0
	case cmOptSave:
		m.Mode = ConnmarkSave
	case cmOptRestore:
		m.Mode = ConnmarkRestore
	case cmOptMask:
		m.NfMask, m.CtMask = u32, u32
	case cmOptCtMask:
		m.CtMask = u32
	case cmOptNfMask:
		m.NfMask = u32
	case cmOptLShift:
		m.ShiftDir, m.ShiftBits = ShiftLeft, uint8(c.Val.U64)
	case cmOptRShift:
		m.ShiftDir, m.ShiftBits = ShiftRight, uint8(c.Val.U64)
	}
	return nil
}

func (m *Connmark) Final(f *xtables.FinalCall) error {
	if f.XFlags&cmOpAny == 0 {
		return xtables.Errorf("CONNMARK target: No operation specified")
	}
	return nil
}

var shiftOps = [2]string{"left-shift-mark", "right-shift-mark"}

func (m *Connmark) appendShift(b []byte, pfx string) []byte {
	if m.Mode > ConnmarkRestore || m.ShiftBits == 0 {
		return b
	}
	b = append(b, ' ')
	b = append(b, pfx...)
	b = append(b, shiftOps[m.ShiftDir&1]...)
	b = append(b, ' ')
	return xtables.AppendUint(b, uint64(m.ShiftBits))
}

func (m *Connmark) Print(b []byte, ctx *xtables.Context) []byte {
	hex := func(b []byte, v uint32) []byte { return xtables.AppendHex(b, uint64(v)) }
	switch m.Mode {
	case ConnmarkSet:
		b = appendMarkOp(b, "CONNMARK", m.CtMark, m.CtMask)
	case ConnmarkSave:
		switch {
		case m.NfMask == 0xffffffff && m.CtMask == 0xffffffff:
			b = append(b, " CONNMARK save"...)
		case m.NfMask == m.CtMask:
			b = hex(append(b, " CONNMARK save mask "...), m.NfMask)
		default:
			b = hex(append(b, " CONNMARK save nfmask "...), m.NfMask)
			b = hex(append(b, " ctmask ~"...), m.CtMask)
		}
	case ConnmarkRestore:
		switch {
		case m.CtMask == 0xffffffff && m.NfMask == 0xffffffff:
			b = append(b, " CONNMARK restore"...)
		case m.CtMask == m.NfMask:
			b = hex(append(b, " CONNMARK restore mask "...), m.CtMask)
		default:
			b = hex(append(b, " CONNMARK restore ctmask "...), m.CtMask)
			b = hex(append(b, " nfmask ~"...), m.NfMask)
		}
	default:
		b = append(b, " ERROR: UNKNOWN CONNMARK MODE"...)
	}
	return m.appendShift(b, "")
}

func (m *Connmark) Save(b []byte, ctx *xtables.Context) []byte {
	hex := func(b []byte, v uint32) []byte { return xtables.AppendHex(b, uint64(v)) }
	switch m.Mode {
	case ConnmarkSet:
		b = hex(append(b, " --set-xmark "...), m.CtMark)
		b = hex(append(b, '/'), m.CtMask)
	case ConnmarkSave, ConnmarkRestore:
		if m.Mode == ConnmarkSave {
			b = append(b, " --save-mark"...)
		} else {
			b = append(b, " --restore-mark"...)
		}
		b = hex(append(b, " --nfmask "...), m.NfMask)
		b = hex(append(b, " --ctmask "...), m.CtMask)
	default:
		b = append(b, " ERROR: UNKNOWN CONNMARK MODE"...)
	}
	return m.appendShift(b, "--")
}

// shift moves v by the rule's shift; C's u32 shift on x86 takes the count
// modulo 32 (--left-shift-mark 32 shifts nothing).
func (m *Connmark) shift(v uint32) uint32 {
	n := m.ShiftBits & 31
	if m.ShiftDir == ShiftRight {
		return v >> n
	}
	return v << n
}

// TargetPacket is connmark_tg_shift: set the connection mark, save the
// packet mark into it, or restore it into the packet mark, under the
// masks and shift. A packet without a connection is left alone.
func (m *Connmark) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	ct := st.Ct
	if ct == nil {
		return xtables.VerdictCodeContinue
	}
	switch m.Mode {
	case ConnmarkSet:
		nm := m.shift(ct.Mark()&^m.CtMask ^ m.CtMark)
		if ct.Mark() != nm {
			ct.SetMark(nm)
		}
	case ConnmarkSave:
		nm := ct.Mark()&^m.CtMask ^ m.shift(st.Mark&m.NfMask)
		if ct.Mark() != nm {
			ct.SetMark(nm)
		}
	case ConnmarkRestore:
		st.Mark = st.Mark&^m.NfMask ^ m.shift(ct.Mark()&m.CtMask)
	}
	return xtables.VerdictCodeContinue
}
