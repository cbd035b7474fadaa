package iphdr

import "github.com/iptwin/iptwin/xtables"

// eui64 match (libip6t_eui64.c): no options, nothing printed; the kernel
// (ip6t_eui64.c) allows it in PREROUTING, INPUT and FORWARD only.

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "eui64",
		Family: xtables.IPv6,
		Hooks:  eui64Hooks,
		New:    func() xtables.MatchInfo { return &EUI64{} },
	})
}

// EUI64 has no data (the C size is one int, unused).
type EUI64 struct{}

func (m *EUI64) Parse(c *xtables.OptionCall) error           { return nil }
func (m *EUI64) Print(b []byte, ctx *xtables.Context) []byte { return b }
func (m *EUI64) Save(b []byte, ctx *xtables.Context) []byte  { return b }

const eui64Hooks = 1<<xtables.HookPrerouting | 1<<xtables.HookInput | 1<<xtables.HookForward

// MatchPacket is eui64_mt6 (ip6t_eui64.c): the source address's interface
// identifier is the EUI-64 of the frame's source MAC. Without a link-layer
// header a later fragment is dropped (the kernel's test, as written).
func (m *EUI64) MatchPacket(st *xtables.PacketState) bool {
	if len(st.MAC) < 14 {
		if st.FragOff != 0 {
			st.HotDrop = true
		}
		return false
	}
	d := pktData(st)
	if st.MAC[12] != 0x86 || st.MAC[13] != 0xdd || len(d) < 24 || d[0]>>4 != 6 {
		return false
	}
	src := st.MAC[6:12]
	id := d[16:24]
	return id[0] == src[0]^0x02 && id[1] == src[1] && id[2] == src[2] &&
		id[3] == 0xff && id[4] == 0xfe &&
		id[5] == src[3] && id[6] == src[4] && id[7] == src[5]
}
