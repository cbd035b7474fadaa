package mangle

import "github.com/iptwin/iptwin/xtables"

// HL target (libip6t_HL.c, struct ip6t_HL_info). Mangle table only.

const (
	hlOptSet uint = iota
	hlOptInc
	hlOptDec
	hlAny = 1<<hlOptSet | 1<<hlOptInc | 1<<hlOptDec
)

// Modes of HL.
const (
	HLSet uint8 = iota
	HLInc
	HLDec
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "HL",
		Family: xtables.IPv6,
		Options: []xtables.Option{
			{Name: "hl-set", ID: hlOptSet, Type: xtables.TypeUint8, Excl: hlAny},
			{Name: "hl-dec", ID: hlOptDec, Type: xtables.TypeUint8, Excl: hlAny, Min: 1},
			{Name: "hl-inc", ID: hlOptInc, Type: xtables.TypeUint8, Excl: hlAny, Min: 1},
		},
		New: func() xtables.TargetInfo { return &HL{} },
	})
}

// HL is the kernel's info struct.
type HL struct {
	Mode     uint8
	HopLimit uint8
}

func (t *HL) Parse(c *xtables.OptionCall) error {
	t.HopLimit = uint8(c.Val.U64)
	switch c.Opt.ID {
	case hlOptSet:
		t.Mode = HLSet
	case hlOptInc:
		t.Mode = HLInc
	case hlOptDec:
		t.Mode = HLDec
	}
	return nil
}

func (t *HL) Final(f *xtables.FinalCall) error {
	if f.XFlags&hlAny == 0 {
		return xtables.Errorf("HL: You must specify an action")
	}
	return nil
}

func (t *HL) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " HL "...)
	switch t.Mode {
	case HLSet:
		b = append(b, "set to"...)
	case HLDec:
		b = append(b, "decrement by"...)
	case HLInc:
		b = append(b, "increment by"...)
	}
	b = append(b, ' ')
	return xtables.AppendUint(b, uint64(t.HopLimit))
}

func (t *HL) Save(b []byte, ctx *xtables.Context) []byte {
	switch t.Mode {
	case HLSet:
		b = append(b, " --hl-set"...)
	case HLDec:
		b = append(b, " --hl-dec"...)
	case HLInc:
		b = append(b, " --hl-inc"...)
	}
	b = append(b, ' ')
	return xtables.AppendUint(b, uint64(t.HopLimit))
}

// Check is hl_tg_check: mangle table, a known mode, no zero step.
func (t *HL) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" || t.Mode > HLDec || (t.Mode != HLSet && t.HopLimit == 0) {
		return errInval
	}
	return nil
}

// TargetPacket is hl_tg6: the hop limit set, increased or decreased.
func (t *HL) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	h := &st.Pkt.Headers
	if h.IsIPv6() {
		if nh := newHopCount(h.IPv6.HopLimit, t.Mode, t.HopLimit); nh != h.IPv6.HopLimit {
			h.SetTTL(nh)
		}
	}
	return xtables.VerdictCodeContinue
}
