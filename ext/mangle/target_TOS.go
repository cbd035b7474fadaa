package mangle

import "github.com/iptwin/iptwin/xtables"

// TOS target, revision 1 (libxt_TOS.c tos_tg_*, struct xt_tos_target_info):
// zero the mask bits, then XOR the value. Mangle table only.

const (
	tosOptSet uint = iota
	tosOptAnd
	tosOptOr
	tosOptXor
	tosAny = 1<<tosOptSet | 1<<tosOptAnd | 1<<tosOptOr | 1<<tosOptXor
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "TOS",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			// Max is the mask a symbolic name gets (rev 1: 0x3f).
			{Name: "set-tos", ID: tosOptSet, Type: xtables.TypeTOSMask, Excl: tosAny, Max: 0x3f},
			{Name: "and-tos", ID: tosOptAnd, Type: xtables.TypeUint8, Excl: tosAny},
			{Name: "or-tos", ID: tosOptOr, Type: xtables.TypeUint8, Excl: tosAny},
			{Name: "xor-tos", ID: tosOptXor, Type: xtables.TypeUint8, Excl: tosAny},
		},
		New: func() xtables.TargetInfo { return &TOS{} },
	})
}

// TOS is struct xt_tos_target_info.
type TOS struct {
	Value, Mask uint8
}

func (t *TOS) Parse(c *xtables.OptionCall) error {
	u8 := uint8(c.Val.U64)
	switch c.Opt.ID {
	case tosOptSet:
		t.Value, t.Mask = c.Val.TOS, c.Val.TOSMask
	case tosOptAnd:
		t.Value, t.Mask = 0, ^u8
	case tosOptOr:
		t.Value, t.Mask = u8, u8
	case tosOptXor:
		t.Value, t.Mask = u8, 0
	}
	return nil
}

func (t *TOS) Final(f *xtables.FinalCall) error {
	if f.XFlags&tosAny == 0 {
		return xtables.Errorf("TOS: An action is required")
	}
	return nil
}

func (t *TOS) Print(b []byte, ctx *xtables.Context) []byte {
	setHex := func(b []byte) []byte {
		b = append(b, " TOS set "...)
		b = appendHexN(b, uint64(t.Value), 2)
		b = append(b, '/')
		return appendHexN(b, uint64(t.Mask), 2)
	}
	if ctx.Numeric {
		return setHex(b)
	}
	if t.Mask == 0x3f {
		if name, ok := xtables.TOSSymbol(t.Value); ok {
			// tos_try_print_symbolic(" TOS set", ...) prints " %s%s".
			return append(b, "  TOS set"+name...)
		}
	}
	switch {
	case t.Value == 0:
		return appendHexN(append(b, " TOS and "...), uint64(^t.Mask), 2)
	case t.Value == t.Mask:
		return appendHexN(append(b, " TOS or "...), uint64(t.Value), 2)
	case t.Mask == 0:
		return appendHexN(append(b, " TOS xor "...), uint64(t.Value), 2)
	}
	return setHex(b)
}

func (t *TOS) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --set-tos "...)
	b = appendHexN(b, uint64(t.Value), 2)
	b = append(b, '/')
	return appendHexN(b, uint64(t.Mask), 2)
}

// Check: xt_DSCP registers TOS for the mangle table only.
func (t *TOS) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" {
		return errInval
	}
	return nil
}

// TargetPacket is tos_tg / tos_tg6: tos = (tos & ~mask) ^ value, written
// when it changes.
func (t *TOS) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	h := &st.Pkt.Headers
	orig := dsField(h)
	nv := orig&^t.Mask ^ t.Value
	if orig != nv {
		if h.IsIPv4() {
			setIPv4DSField(h, 0, nv)
		} else {
			setIPv6DSField(h, 0, nv)
		}
	}
	return xtables.VerdictCodeContinue
}
