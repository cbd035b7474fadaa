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
