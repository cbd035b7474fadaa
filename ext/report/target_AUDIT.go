package report

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// AUDIT target (libxt_AUDIT.c, xt_AUDIT.h).

const auditOptType uint = 0

// XT_AUDIT_TYPE_* values.
const (
	AuditAccept = iota
	AuditDrop
	AuditReject
)

var auditTypeNames = [...]string{AuditAccept: "accept", AuditDrop: "drop", AuditReject: "reject"}

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "AUDIT",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "type", ID: auditOptType, Type: xtables.TypeString, Flags: xtables.Mand},
		},
		New: func() xtables.TargetInfo { return &Audit{} },
		Help: "AUDIT target options\n" +
			"  --type TYPE		Action type to be recorded.\n",
	})
}

// Audit is struct xt_audit_info.
type Audit struct {
	Type uint8
}

func (a *Audit) Parse(c *xtables.OptionCall) error {
	for i, n := range auditTypeNames {
		if strings.EqualFold(c.Arg, n) {
			a.Type = uint8(i)
			return nil
		}
	}
	return xtables.Errorf("Bad action type value \"%s\"", c.Arg)
}

func (a *Audit) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " AUDIT "...)
	if int(a.Type) < len(auditTypeNames) {
		b = append(b, auditTypeNames[a.Type]...)
	}
	return b
}

func (a *Audit) Save(b []byte, ctx *xtables.Context) []byte {
	if int(a.Type) < len(auditTypeNames) {
		b = append(b, " --type "...)
		b = append(b, auditTypeNames[a.Type]...)
	}
	return b
}

// Check is audit_tg_check.
func (a *Audit) Check(ctx *xtables.Context) error {
	if int(a.Type) >= len(auditTypeNames) {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// TargetPacket is audit_tg: an audit record when the audit subsystem is
// on (the twin has none); the packet goes on.
func (a *Audit) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	return xtables.VerdictCodeContinue
}
