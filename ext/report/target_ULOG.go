package report

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// ULOG (libipt_ULOG.c, struct ipt_ulog_info). Linux removed ipt_ULOG in
// 3.17: iptables still parses the target, warns that the kernel lacks it,
// and the kernel refuses the rule.

const (
	ulogOptNlgroup uint = iota
	ulogOptPrefix
	ulogOptCprange
	ulogOptQthreshold
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:          "ULOG",
		Family:        xtables.IPv4,
		KernelMissing: true,
		Options: []xtables.Option{
			{Name: "ulog-nlgroup", ID: ulogOptNlgroup, Type: xtables.TypeUint8, Min: 1, Max: 32},
			{Name: "ulog-prefix", ID: ulogOptPrefix, Type: xtables.TypeString, Min: 1},
			{Name: "ulog-cprange", ID: ulogOptCprange, Type: xtables.TypeUint64},
			{Name: "ulog-qthreshold", ID: ulogOptQthreshold, Type: xtables.TypeUint64, Min: 1, Max: 50},
		},
		New: func() xtables.TargetInfo { return &ULOG{NlGroup: 1, QThreshold: 1} },
	})
}

// ULOG is struct ipt_ulog_info.
type ULOG struct {
	NlGroup    uint32
	CopyRange  uint64
	QThreshold uint64
	Prefix     string
}

func (u *ULOG) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case ulogOptNlgroup:
		u.NlGroup = 1 << (c.Val.U64 - 1)
	case ulogOptPrefix:
		if strings.Contains(c.Arg, "\n") {
			return xtables.Errorf("Newlines not allowed in --ulog-prefix")
		}
		u.Prefix = cString(c.Arg, 32) // XTOPT_PUT copies into char[32]
	case ulogOptCprange:
		u.CopyRange = c.Val.U64
	case ulogOptQthreshold:
		u.QThreshold = c.Val.U64
	}
	return nil
}

func (u *ULOG) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ULOG "...)
	b = fmt.Appendf(b, "copy_range %d nlgroup %d", uint32(u.CopyRange), bits.TrailingZeros32(u.NlGroup)+1)
	if u.Prefix != "" {
		b = fmt.Appendf(b, " prefix \"%s\"", u.Prefix)
	}
	return fmt.Appendf(b, " queue_threshold %d", uint32(u.QThreshold))
}

func (u *ULOG) Save(b []byte, ctx *xtables.Context) []byte {
	if u.Prefix != "" {
		b = append(b, " --ulog-prefix"...)
		b = appendSaveString(b, u.Prefix)
	}
	if u.NlGroup != 1 {
		b = fmt.Appendf(b, " --ulog-nlgroup %d", bits.TrailingZeros32(u.NlGroup)+1)
	}
	if u.CopyRange != 0 {
		b = fmt.Appendf(b, " --ulog-cprange %d", uint32(u.CopyRange))
	}
	if u.QThreshold != 1 {
		b = fmt.Appendf(b, " --ulog-qthreshold %d", uint32(u.QThreshold))
	}
	return b
}
