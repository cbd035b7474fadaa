package iphdr

import (
	"fmt"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// tos match, revision 1 (libxt_tos.c, xt_dscp.h struct xt_tos_match_info).
// Symbolic values get the mask 0x3f.

func init() {
	var h strings.Builder
	h.WriteString("tos match options:\n" +
		"[!] --tos value[/mask]    Match Type of Service/Priority field value\n" +
		"[!] --tos symbol          Match TOS field (IPv4 only) by symbol\n" +
		"                          Accepted symbolic names for value are:\n")
	for _, v := range []uint8{0x10, 0x08, 0x04, 0x02, 0x00} {
		name, _ := xtables.TOSSymbol(v)
		fmt.Fprintf(&h, "                          (0x%02x) %2d %s\n", v, v, name)
	}
	h.WriteString("\n")
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "tos",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "tos", ID: 1, Type: xtables.TypeTOSMask, Flags: xtables.Invert | xtables.Mand, Max: 0x3f},
		},
		New:  func() xtables.MatchInfo { return &TOS{} },
		Help: h.String(),
	})
}

// TOS is struct xt_tos_match_info.
type TOS struct {
	Mask, Value uint8
	Invert      uint8
}

func (m *TOS) Parse(c *xtables.OptionCall) error {
	m.Value, m.Mask = c.Val.TOS, c.Val.TOSMask
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *TOS) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " tos match"...)
	b = appendInvBang(b, m.Invert != 0)
	if !ctx.Numeric && m.Mask == 0x3f {
		if name, ok := xtables.TOSSymbol(m.Value); ok {
			return append(append(b, ' '), name...)
		}
	}
	b = appendHex02(b, uint64(m.Value))
	b = append(b, '/')
	return appendHex02(b, uint64(m.Mask))
}

func (m *TOS) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --tos "...)
	b = appendHex02(b, uint64(m.Value))
	b = append(b, '/')
	return appendHex02(b, uint64(m.Mask))
}

// MatchPacket is tos_mt (xt_dscp.c): the TOS byte or traffic class under
// the mask.
func (m *TOS) MatchPacket(st *xtables.PacketState) bool {
	ds, ok := dsfield(st)
	return ok && (ds&m.Mask == m.Value) != (m.Invert != 0)
}
