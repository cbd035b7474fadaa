package rate

import "github.com/iptwin/iptwin/xtables"

// quota match (libxt_quota.c, xt_quota.h).

const quotaInvert = 0x1 // XT_QUOTA_INVERT

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "quota",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "quota", ID: 0, Type: xtables.TypeUint64, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Quota{} },
	})
}

// Quota is struct xt_quota_info (the user part).
type Quota struct {
	Flags uint32
	Quota uint64

	remain  uint64 // struct xt_quota_priv: what is left
	started bool
}

func (q *Quota) Parse(c *xtables.OptionCall) error {
	q.Quota = c.Val.U64
	if c.Invert {
		q.Flags |= quotaInvert
	}
	return nil
}

// Print shows no "!": quota_print ignores the flag.
func (q *Quota) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " quota: "...)
	b = xtables.AppendUint(b, q.Quota)
	return append(b, " bytes"...)
}

func (q *Quota) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, q.Flags&quotaInvert != 0)
	b = append(b, " --quota "...)
	return xtables.AppendUint(b, q.Quota)
}

// MatchPacket is quota_mt: the packet's length comes off the remaining
// quota while it lasts; once a packet does not fit, nothing more does.
func (q *Quota) MatchPacket(st *xtables.PacketState) bool {
	if !q.started {
		q.started, q.remain = true, q.Quota
	}
	ret := q.Flags&quotaInvert != 0
	n := uint64(len(st.Pkt.Data))
	if q.remain >= n {
		q.remain -= n
		return !ret
	}
	q.remain = 0
	return ret
}
