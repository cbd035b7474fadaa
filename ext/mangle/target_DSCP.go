package mangle

import "github.com/iptwin/iptwin/xtables"

// DSCP target (libxt_DSCP.c, struct xt_DSCP_info). Mangle table only.

const (
	dscpOptSet uint = iota
	dscpOptClass
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "DSCP",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "set-dscp", ID: dscpOptSet, Type: xtables.TypeUint8, Excl: 1 << dscpOptClass, Min: 0, Max: 0x3f},
			{Name: "set-dscp-class", ID: dscpOptClass, Type: xtables.TypeString, Excl: 1 << dscpOptSet},
		},
		New: func() xtables.TargetInfo { return &DSCP{} },
	})
}

// DSCP is struct xt_DSCP_info.
type DSCP struct {
	DSCP uint8
}

// dsClasses is ds_classes of dscp_helper.c, in its order.
var dsClasses = []struct {
	name string
	dscp uint8
}{
	{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18},
	{"CS4", 0x20}, {"CS5", 0x28}, {"CS6", 0x30}, {"CS7", 0x38},
	{"BE", 0x00}, {"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e},
	{"AF21", 0x12}, {"AF22", 0x14}, {"AF23", 0x16}, {"AF31", 0x1a},
	{"AF32", 0x1c}, {"AF33", 0x1e}, {"AF41", 0x22}, {"AF42", 0x24},
	{"AF43", 0x26}, {"EF", 0x2e},
}

// classToDSCP is class_to_dscp: the name is compared over the length of
// each class name, case-insensitively ("ef-foo" is EF).
func classToDSCP(s string) (uint8, error) {
	for _, c := range dsClasses {
		if equalFoldPrefix(s, c.name) {
			return c.dscp, nil
		}
	}
	return 0, xtables.Errorf("Invalid DSCP value `%s'", s)
}

func (d *DSCP) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case dscpOptSet:
		d.DSCP = uint8(c.Val.U64)
	case dscpOptClass:
		v, err := classToDSCP(c.Arg)
		if err != nil {
			return err
		}
		d.DSCP = v
	}
	return nil
}

func (d *DSCP) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("DSCP target: Parameter --set-dscp is required")
	}
	return nil
}

func (d *DSCP) Print(b []byte, ctx *xtables.Context) []byte {
	return appendHexN(append(b, " DSCP set "...), uint64(d.DSCP), 2)
}

func (d *DSCP) Save(b []byte, ctx *xtables.Context) []byte {
	return appendHexN(append(b, " --set-dscp "...), uint64(d.DSCP), 2)
}

func (d *DSCP) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" {
		return errInval
	}
	return nil
}

// TargetPacket is dscp_tg / dscp_tg6: the DSCP bits set, ECN kept, only
// when they differ.
func (d *DSCP) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	h := &st.Pkt.Headers
	if dsField(h)>>2 == d.DSCP {
		return xtables.VerdictCodeContinue
	}
	if h.IsIPv4() {
		setIPv4DSField(h, 0x03, d.DSCP<<2)
	} else {
		setIPv6DSField(h, 0x03, d.DSCP<<2)
	}
	return xtables.VerdictCodeContinue
}
