package meta

import "github.com/iptwin/iptwin/xtables"

// physdev match (libxt_physdev.c, xt_physdev.h).

// XT_PHYSDEV_OP_* bits; they are also the option order of print and save.
const (
	physdevOpIn      = 0x01
	physdevOpOut     = 0x02
	physdevOpBridged = 0x04
	physdevOpIsIn    = 0x08
	physdevOpIsOut   = 0x10
	physdevOpMask    = 0x1f
)

const (
	physdevOptIn uint = iota
	physdevOptOut
	physdevOptIsIn
	physdevOptIsOut
	physdevOptIsBridged
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "physdev",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "physdev-in", ID: physdevOptIn, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "physdev-out", ID: physdevOptOut, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "physdev-is-in", ID: physdevOptIsIn, Type: xtables.TypeNone, Flags: xtables.Invert},
			{Name: "physdev-is-out", ID: physdevOptIsOut, Type: xtables.TypeNone, Flags: xtables.Invert},
			{Name: "physdev-is-bridged", ID: physdevOptIsBridged, Type: xtables.TypeNone, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &Physdev{} },
		Help: "physdev match options:\n" +
			" [!] --physdev-in inputname[+]\t\tbridge port name ([+] for wildcard)\n" +
			" [!] --physdev-out outputname[+]\tbridge port name ([+] for wildcard)\n" +
			" [!] --physdev-is-in\t\t\tarrived on a bridge device\n" +
			" [!] --physdev-is-out\t\t\twill leave on a bridge device\n" +
			" [!] --physdev-is-bridged\t\tit's a bridged packet\n",
	})
}

// Physdev is struct xt_physdev_info. The names keep a trailing "+" as
// the C struct does; the masks follow from it.
type Physdev struct {
	PhysInDev  string
	PhysOutDev string
	Invert     uint8
	Bitmask    uint8
}

// parsePhysdevName is the XTOPT_PUT copy (at most IFNAMSIZ-1 bytes) plus
// xtables_parse_interface's length check.
func parsePhysdevName(s string) (string, error) {
	if len(s)+1 > 16 {
		return "", xtables.Errorf("interface name `%s' must be shorter than IFNAMSIZ (%d)", s, 15)
	}
	return cstr(s), nil
}

func (m *Physdev) Parse(c *xtables.OptionCall) error {
	var op uint8
	switch c.Opt.ID {
	case physdevOptIn:
		name, err := parsePhysdevName(c.Arg)
		if err != nil {
			return err
		}
		m.PhysInDev, op = name, physdevOpIn
	case physdevOptOut:
		name, err := parsePhysdevName(c.Arg)
		if err != nil {
			return err
		}
		m.PhysOutDev, op = name, physdevOpOut
	case physdevOptIsIn:
		op = physdevOpIsIn
	case physdevOptIsOut:
		op = physdevOpIsOut
	case physdevOptIsBridged:
		op = physdevOpBridged
	}
	m.Bitmask |= op
	if c.Invert {
		m.Invert |= op
	}
	return nil
}

func (m *Physdev) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("PHYSDEV: no physdev option specified")
	}
	return nil
}

func (m *Physdev) appendOpts(b []byte) []byte {
	item := func(op uint8, text, arg string) {
		if m.Bitmask&op == 0 {
			return
		}
		b = xtables.AppendInv(b, m.Invert&op != 0)
		b = append(b, text...)
		if op == physdevOpIn || op == physdevOpOut {
			b = append(b, ' ')
			b = append(b, arg...)
		}
	}
	item(physdevOpIsIn, " --physdev-is-in", "")
	item(physdevOpIn, " --physdev-in", m.PhysInDev)
	item(physdevOpIsOut, " --physdev-is-out", "")
	item(physdevOpOut, " --physdev-out", m.PhysOutDev)
	item(physdevOpBridged, " --physdev-is-bridged", "")
	return b
}

func (m *Physdev) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " PHYSDEV match"...)
	return m.appendOpts(b)
}

func (m *Physdev) Save(b []byte, ctx *xtables.Context) []byte {
	return m.appendOpts(b)
}

// Check is physdev_mt_check: the output side of a bridge is only known
// for bridged traffic, so --physdev-out/--physdev-is-out without
// --physdev-is-bridged are refused in OUTPUT, FORWARD and POSTROUTING.
func (m *Physdev) Check(ctx *xtables.Context) error {
	if m.Bitmask&physdevOpMask == 0 || m.Bitmask&^physdevOpMask != 0 {
		return xtables.ErrInvalidArgument
	}
	if m.Bitmask&(physdevOpOut|physdevOpIsOut) != 0 &&
		(m.Bitmask&physdevOpBridged == 0 || m.Invert&physdevOpBridged != 0) &&
		ctx.Hooks&(1<<xtables.HookOutput|1<<xtables.HookForward|1<<xtables.HookPostrouting) != 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// MatchPacket is physdev_mt (xt_physdev.c) for a host without bridges:
// no packet has bridge port information, so the match holds exactly when
// every option given is inverted.
func (m *Physdev) MatchPacket(st *xtables.PacketState) bool {
	for _, op := range [...]uint8{physdevOpBridged, physdevOpIsIn, physdevOpIsOut, physdevOpIn, physdevOpOut} {
		if m.Bitmask&op != 0 && m.Invert&op == 0 {
			return false
		}
	}
	return true
}
