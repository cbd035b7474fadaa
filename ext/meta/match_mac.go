package meta

import "github.com/iptwin/iptwin/xtables"

// mac match (libxt_mac.c, xt_mac.h).

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "mac",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "mac-source", ID: 0, Type: xtables.TypeEtherMAC, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &MAC{} },
		Help: "mac match options:\n" +
			"[!] --mac-source XX:XX:XX:XX:XX:XX\n" +
			"\t\t\t\tMatch source MAC address\n",
	})
}

// MAC is struct xt_mac_info.
type MAC struct {
	SrcAddr [6]byte
	Invert  bool
}

func (m *MAC) Parse(c *xtables.OptionCall) error {
	m.SrcAddr = c.Val.MAC
	if c.Invert {
		m.Invert = true
	}
	return nil
}

func (m *MAC) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " MAC "...)
	if m.Invert {
		b = append(b, "! "...)
	}
	return appendMAC(b, m.SrcAddr)
}

func (m *MAC) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert)
	b = append(b, " --mac-source "...)
	return appendMAC(b, m.SrcAddr)
}

// Check: the kernel's xt_mac only serves PREROUTING, INPUT and FORWARD.
func (m *MAC) Check(ctx *xtables.Context) error {
	return checkHooks(ctx, 1<<xtables.HookPrerouting|1<<xtables.HookInput|1<<xtables.HookForward)
}

// MatchPacket is mac_mt (xt_mac.c): the frame's source address; a packet
// without an Ethernet header (locally generated, or from the loopback
// device) never matches, inverted or not.
func (m *MAC) MatchPacket(st *xtables.PacketState) bool {
	if len(st.MAC) < 14 || st.In == "lo" {
		return false
	}
	return ([6]byte(st.MAC[6:12]) == m.SrcAddr) != m.Invert
}
