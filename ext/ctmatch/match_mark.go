package ctmatch

import "github.com/iptwin/iptwin/xtables"

// mark (libxt_mark.c, revision 1) and connmark (libxt_connmark.c,
// revision 1) matches: value/mask with the generic mark parser.

func init() {
	opts := []xtables.Option{
		{Name: "mark", ID: 0, Type: xtables.TypeMarkMask32, Flags: xtables.Mand | xtables.Invert},
	}
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "mark",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Help:     "mark match options:\n[!] --mark value[/mask]    Match nfmark value with optional mask\n",
		Options:  opts,
		New:      func() xtables.MatchInfo { return &Mark{} },
	})
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "connmark",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Help:     "connmark match options:\n[!] --mark value[/mask]    Match ctmark value with optional mask\n",
		Options:  opts,
		New:      func() xtables.MatchInfo { return &Connmark{} },
	})
}

// Mark is struct xt_mark_mtinfo1.
type Mark struct {
	Mark, Mask uint32
	Invert     uint8
}

func (m *Mark) Parse(c *xtables.OptionCall) error {
	if c.Invert {
		m.Invert = 1
	}
	m.Mark, m.Mask = c.Val.Mark, c.Val.MarkMask
	return nil
}

func (m *Mark) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " mark match"...)
	if m.Invert != 0 {
		b = append(b, " !"...)
	}
	return appendMarkMask(b, m.Mark, m.Mask)
}

func (m *Mark) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Invert != 0 {
		b = append(b, " !"...)
	}
	b = append(b, " --mark"...)
	return appendMarkMask(b, m.Mark, m.Mask)
}

// Connmark is struct xt_connmark_mtinfo1.
type Connmark struct {
	Mark, Mask uint32
	Invert     uint8
}

func (m *Connmark) Parse(c *xtables.OptionCall) error {
	if c.Invert {
		m.Invert = 1
	}
	m.Mark, m.Mask = c.Val.Mark, c.Val.MarkMask
	return nil
}

func (m *Connmark) Print(b []byte, ctx *xtables.Context) []byte {
	// connmark_mt_print: "match " then "!" with no space before the value's.
	b = append(b, " connmark match "...)
	if m.Invert != 0 {
		b = append(b, '!')
	}
	return appendMarkMask(b, m.Mark, m.Mask)
}

func (m *Connmark) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Invert != 0 {
		b = append(b, " !"...)
	}
	b = append(b, " --mark"...)
	return appendMarkMask(b, m.Mark, m.Mask)
}

// NFTNative: iptables-nft turns the mark match into meta mark expressions
// (add_nft_mark) and its rule parser rebuilds one mark match from them
// (parse_meta_mark) with the same value, mask and inversion.
func (m *Mark) NFTNative(*xtables.Context) (bool, error) { return true, nil }

// NFTRebuild returns the rebuilt match; marks are never merged.
func (m *Mark) NFTRebuild(xtables.MatchInfo) (xtables.MatchInfo, bool) {
	c := *m
	return &c, false
}

// MatchPacket is what iptables-nft's meta mark expressions do (the same
// as mark_mt): (skb->mark & mask) == mark, inverted by "!".
func (m *Mark) MatchPacket(st *xtables.PacketState) bool {
	return (st.Mark&m.Mask == m.Mark) != (m.Invert != 0)
}

// MatchPacket is connmark_mt: no connection, no match (even inverted).
func (m *Connmark) MatchPacket(st *xtables.PacketState) bool {
	if st.Ct == nil {
		return false
	}
	return (st.Ct.Mark()&m.Mask == m.Mark) != (m.Invert != 0)
}
