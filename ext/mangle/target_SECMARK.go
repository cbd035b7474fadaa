package mangle

import "github.com/iptwin/iptwin/xtables"

// SECMARK target, revision 1 (libxt_SECMARK.c, struct
// xt_secmark_target_info_v1).

// SecmarkModeSel is SECMARK_MODE_SEL.
const SecmarkModeSel = 1

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:     "SECMARK",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "selctx", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand},
		},
		New: func() xtables.TargetInfo { return &Secmark{} },
	})
}

// Secmark is struct xt_secmark_target_info_v1 (secid is the kernel's).
type Secmark struct {
	Mode   uint8
	SecCtx string // char[256]
}

func (s *Secmark) Parse(c *xtables.OptionCall) error {
	s.SecCtx = putString(c.Arg, 256)
	s.Mode = SecmarkModeSel
	return nil
}

func (s *Secmark) Print(b []byte, ctx *xtables.Context) []byte {
	return append(b, " SECMARK selctx "+s.SecCtx...)
}

func (s *Secmark) Save(b []byte, ctx *xtables.Context) []byte {
	return append(b, " --selctx "+s.SecCtx...)
}

// Check is secmark_tg_check: mangle or security table; then the context
// must map to a secid, which it never does on a host without an LSM that
// supports secmarks (as the twin hosts are): ENOENT.
func (s *Secmark) Check(ctx *xtables.Context) error {
	if (ctx.Table != "mangle" && ctx.Table != "security") || s.Mode != SecmarkModeSel {
		return errInval
	}
	return errNoEnt
}

// TargetPacket is secmark_tg: skb->secmark = the context's id. Without a
// security module the kernel refuses the rule (checkentry), so a loaded
// rule only continues.
func (s *Secmark) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
