package report

import "github.com/iptwin/iptwin/xtables"

// TRACE target (libxt_TRACE.c): no options, nothing printed or saved.
// The kernel takes it in any table here, not only raw.

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "TRACE",
		Family: xtables.AnyFamily,
		New:    func() xtables.TargetInfo { return &Trace{} },
	})
}

// Trace has no data (XT_ALIGN(0)).
type Trace struct{}

func (*Trace) Parse(c *xtables.OptionCall) error { return nil }

func (*Trace) Print(b []byte, ctx *xtables.Context) []byte { return b }

func (*Trace) Save(b []byte, ctx *xtables.Context) []byte { return b }

// TargetPacket is what iptables-nft's native "meta nftrace set 1" does:
// the packet is traced from here on.
func (*Trace) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	st.Trace = true
	return xtables.VerdictCodeContinue
}
