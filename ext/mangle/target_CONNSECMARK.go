package mangle

import "github.com/iptwin/iptwin/xtables"

// CONNSECMARK target (libxt_CONNSECMARK.c, struct
// xt_connsecmark_target_info). Mangle or security table.

const (
	csmOptSave uint = iota
	csmOptRestore
)

// Modes of CONNSECMARK.
const (
	ConnsecmarkSave    = 1
	ConnsecmarkRestore = 2
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "CONNSECMARK",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "save", ID: csmOptSave, Type: xtables.TypeNone, Excl: 1 << csmOptRestore},
			{Name: "restore", ID: csmOptRestore, Type: xtables.TypeNone, Excl: 1 << csmOptSave},
		},
		New: func() xtables.TargetInfo { return &Connsecmark{} },
	})
}

// Connsecmark is struct xt_connsecmark_target_info.
type Connsecmark struct {
	Mode uint8
}

func (s *Connsecmark) Parse(c *xtables.OptionCall) error {
	if c.Opt.ID == csmOptSave {
		s.Mode = ConnsecmarkSave
	} else {
		s.Mode = ConnsecmarkRestore
	}
	return nil
}

func (s *Connsecmark) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("CONNSECMARK target: parameter required")
	}
	return nil
}

func (s *Connsecmark) name() string {
	if s.Mode == ConnsecmarkSave {
		return "save"
	}
	return "restore"
}

func (s *Connsecmark) Print(b []byte, ctx *xtables.Context) []byte {
	return append(b, " CONNSECMARK "+s.name()...)
}

func (s *Connsecmark) Save(b []byte, ctx *xtables.Context) []byte {
	return append(b, " --"+s.name()...)
}

func (s *Connsecmark) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" && ctx.Table != "security" {
		return errInval
	}
	if s.Mode != ConnsecmarkSave && s.Mode != ConnsecmarkRestore {
		return errInval
	}
	return nil
}

// TargetPacket is connsecmark_tg: it copies the security mark between
// packet and connection; the twin has no security module, so both are 0
// and nothing changes.
func (s *Connsecmark) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
