package mangle

import "github.com/iptwin/iptwin/xtables"

// CHECKSUM target (libxt_CHECKSUM.c, struct xt_CHECKSUM_info). Mangle
// table only.

// ChecksumOpFill is XT_CHECKSUM_OP_FILL.
const ChecksumOpFill = 0x01

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "CHECKSUM",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "checksum-fill", ID: 0, Type: xtables.TypeNone, Flags: xtables.Mand},
		},
		New: func() xtables.TargetInfo { return &Checksum{} },
	})
}

// Checksum is struct xt_CHECKSUM_info.
type Checksum struct {
	Operation uint8
}

func (t *Checksum) Parse(c *xtables.OptionCall) error {
	t.Operation = ChecksumOpFill
	return nil
}

func (t *Checksum) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " CHECKSUM"...)
	if t.Operation&ChecksumOpFill != 0 {
		b = append(b, " fill"...)
	}
	return b
}

func (t *Checksum) Save(b []byte, ctx *xtables.Context) []byte {
	if t.Operation&ChecksumOpFill != 0 {
		b = append(b, " --checksum-fill"...)
	}
	return b
}

func (t *Checksum) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" || t.Operation&^ChecksumOpFill != 0 || t.Operation == 0 {
		return errInval
	}
	return nil
}

// TargetPacket is checksum_tg: it fills in a checksum left to the device
// (CHECKSUM_PARTIAL); the twin's packets always carry theirs, so the
// bytes are what the kernel's would be after it.
func (t *Checksum) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
