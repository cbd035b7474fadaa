package iphdr

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// dscp match (libxt_dscp.c, dscp_helper.c, xt_dscp.h).

const (
	dscpOptDSCP uint = iota
	dscpOptClass
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "dscp",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "dscp", ID: dscpOptDSCP, Type: xtables.TypeUint8, Max: 0x3f, Excl: 1 << dscpOptClass, Flags: xtables.Invert},
			{Name: "dscp-class", ID: dscpOptClass, Type: xtables.TypeString, Excl: 1 << dscpOptDSCP, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &DSCP{} },
		Help: "dscp match options\n" +
			"[!] --dscp value\t\tMatch DSCP codepoint with numerical value\n" +
			"  \t\t                This value can be in decimal (ex: 32)\n" +
			"               \t\tor in hex (ex: 0x20)\n" +
			"[!] --dscp-class name\t\tMatch the DiffServ class. This value may\n" +
			"\t\t\t\tbe any of the BE,EF, AFxx or CSx classes\n" +
			"\n" +
			"\t\t\t\tThese two options are mutually exclusive !\n",
	})
}

// DSCP is struct xt_dscp_info.
type DSCP struct {
	DSCP   uint8
	Invert uint8
}

// dsClasses is ds_classes of dscp_helper.c, in its order: the look-up is
// by prefix, so "CS10" is CS1 and the first match wins.
var dsClasses = []struct {
	name string
	dscp uint8
}{
	{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18},
	{"CS4", 0x20}, {"CS5", 0x28}, {"CS6", 0x30}, {"CS7", 0x38},
	{"BE", 0x00},
	{"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e},
	{"AF21", 0x12}, {"AF22", 0x14}, {"AF23", 0x16},
	{"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e},
	{"AF41", 0x22}, {"AF42", 0x24}, {"AF43", 0x26},
	{"EF", 0x2e},
}

// classToDSCP is class_to_dscp: strncasecmp over the class name's length.
func classToDSCP(name string) (uint8, error) {
	for _, c := range dsClasses {
		if len(name) >= len(c.name) && strings.EqualFold(name[:len(c.name)], c.name) {
			return c.dscp, nil
		}
	}
	return 0, xtables.Errorf("Invalid DSCP value `%s'", name)
}

func (m *DSCP) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case dscpOptDSCP:
		m.DSCP = uint8(c.Val.U64)
	case dscpOptClass:
		v, err := classToDSCP(c.Arg)
		if err != nil {
			return err
		}
		m.DSCP = v
	}
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *DSCP) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("DSCP match: Parameter --dscp is required")
	}
	return nil
}

func (m *DSCP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " DSCP match "...)
	b = appendInvBang(b, m.Invert != 0)
	return appendHex02(b, uint64(m.DSCP))
}

func (m *DSCP) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --dscp "...)
	return appendHex02(b, uint64(m.DSCP))
}

// MatchPacket is dscp_mt/dscp_mt6 (xt_dscp.c): the six DSCP bits.
func (m *DSCP) MatchPacket(st *xtables.PacketState) bool {
	ds, ok := dsfield(st)
	return ok && (ds>>2 == m.DSCP) != (m.Invert != 0)
}
