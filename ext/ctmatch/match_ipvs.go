package ctmatch

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// ipvs match (libxt_ipvs.c, xt_ipvs.h). Option IDs follow the XT_IPVS_*
// bits, as the C code relies on.

const (
	ipvsOptIpvs uint = iota
	ipvsOptVProto
	ipvsOptVAddr
	ipvsOptVPort
	ipvsOptVDir
	ipvsOptVMethod
	ipvsOptVPortCtl
)

const (
	ipvsProperty = 1 << 0 // XT_IPVS_IPVS_PROPERTY
	ipvsDir      = 1 << 4 // XT_IPVS_DIR
	ipvsOnceMask = (1<<7 - 1) &^ ipvsProperty

	ipvsConnFMasq   = 0 // IP_VS_CONN_F_MASQ
	ipvsConnFTunnel = 2 // IP_VS_CONN_F_TUNNEL
	ipvsConnFDroute = 3 // IP_VS_CONN_F_DROUTE
)

func init() {
	inv := xtables.Invert
	xtables.RegisterMatch(&xtables.MatchType{
		Name:          "ipvs",
		KernelMissing: true, // not in the reference kernel
		Family:        xtables.AnyFamily,
		Help: `IPVS match options:
[!] --ipvs                      packet belongs to an IPVS connection

Any of the following options implies --ipvs (even negated)
[!] --vproto protocol           VIP protocol to match; by number or name,
                                e.g. "tcp"
[!] --vaddr address[/mask]      VIP address to match
[!] --vport port                VIP port to match; by number or name,
                                e.g. "http"
    --vdir {ORIGINAL|REPLY}     flow direction of packet
[!] --vmethod {GATE|IPIP|MASQ}  IPVS forwarding method used
[!] --vportctl port             VIP port of the controlling connection to
                                match, e.g. 21 for FTP
`,
		Options: []xtables.Option{
			{Name: "ipvs", ID: ipvsOptIpvs, Type: xtables.TypeNone, Flags: inv},
			{Name: "vproto", ID: ipvsOptVProto, Type: xtables.TypeProtocol, Flags: inv},
			{Name: "vaddr", ID: ipvsOptVAddr, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "vport", ID: ipvsOptVPort, Type: xtables.TypePort, Flags: inv},
			{Name: "vdir", ID: ipvsOptVDir, Type: xtables.TypeString},
			{Name: "vmethod", ID: ipvsOptVMethod, Type: xtables.TypeString, Flags: inv},
			{Name: "vportctl", ID: ipvsOptVPortCtl, Type: xtables.TypePort, Flags: inv},
		},
		New: func() xtables.MatchInfo { return &IPVS{} },
	})
}

// IPVS is struct xt_ipvs_mtinfo (ports in host order here).
type IPVS struct {
	VAddr, VMask netip.Addr
	VPort        uint16
	L4Proto      uint8
	FwdMethod    uint8
	VPortCtl     uint16
	Invert       uint8
	Bitmask      uint8
}

func (v *IPVS) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case ipvsOptVProto:
		v.L4Proto = c.Val.Proto
	case ipvsOptVAddr:
		v.VAddr, v.VMask = c.Val.Addr, hostMask(&c.Val, c.Ctx.Family)
	case ipvsOptVPort:
		v.VPort = c.Val.Port
	case ipvsOptVPortCtl:
		v.VPortCtl = c.Val.Port
	case ipvsOptVDir:
		switch {
		case strings.EqualFold(c.Arg, "ORIGINAL"):
			v.Bitmask |= ipvsDir
			v.Invert &^= ipvsDir
		case strings.EqualFold(c.Arg, "REPLY"):
			v.Bitmask |= ipvsDir
			v.Invert |= ipvsDir
		default:
			return xtables.Errorf("ipvs: Bad value for \"--vdir\" option: \"%s\"", c.Arg)
		}
	case ipvsOptVMethod:
		switch {
		case strings.EqualFold(c.Arg, "GATE"):
			v.FwdMethod = ipvsConnFDroute
		case strings.EqualFold(c.Arg, "IPIP"):
			v.FwdMethod = ipvsConnFTunnel
		case strings.EqualFold(c.Arg, "MASQ"):
			v.FwdMethod = ipvsConnFMasq
		default:
			return xtables.Errorf("ipvs: Bad value for \"--vmethod\" option: \"%s\"", c.Arg)
		}
	}
	v.Bitmask |= 1 << c.Opt.ID
	if c.Invert {
		v.Invert |= 1 << c.Opt.ID
	}
	return nil
}

// Final is ipvs_mt_check: every other option implies --ipvs.
func (v *IPVS) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("IPVS: At least one option is required")
	}
	if v.Bitmask&ipvsOnceMask != 0 {
		if v.Invert&ipvsProperty != 0 {
			return xtables.Errorf("! --ipvs cannot be together with other options")
		}
		v.Bitmask |= ipvsProperty
	}
	return nil
}

func (v *IPVS) dump(b []byte, prefix string, numeric bool, ctx *xtables.Context) []byte {
	inv := func(bit uint8) {
		if v.Invert&bit != 0 {
			b = append(b, " !"...)
		}
	}
	opt := func(s string) {
		b = append(b, ' ')
		b = append(b, prefix...)
		b = append(b, s...)
	}
	if v.Bitmask == ipvsProperty {
		inv(ipvsProperty)
		opt("ipvs")
	}
	if v.Bitmask&(1<<ipvsOptVProto) != 0 {
		inv(1 << ipvsOptVProto)
		opt("vproto ")
		b = xtables.AppendUint(b, uint64(v.L4Proto))
	}
	if v.Bitmask&(1<<ipvsOptVAddr) != 0 {
		inv(1 << ipvsOptVAddr)
		opt("vaddr")
		f := ctx.Family
		b = appendDumpAddr(b, orZero(v.VAddr, f), orFull(v.VMask, f), f, numeric, ctx)
	}
	if v.Bitmask&(1<<ipvsOptVPort) != 0 {
		inv(1 << ipvsOptVPort)
		opt("vport ")
		b = xtables.AppendUint(b, uint64(v.VPort))
	}
	if v.Bitmask&ipvsDir != 0 {
		if v.Invert&ipvsDir != 0 {
			opt("vdir REPLY")
		} else {
			opt("vdir ORIGINAL")
		}
	}
	if v.Bitmask&(1<<ipvsOptVMethod) != 0 {
		inv(1 << ipvsOptVMethod)
		opt("vmethod")
		switch v.FwdMethod {
		case ipvsConnFDroute:
			b = append(b, " GATE"...)
		case ipvsConnFTunnel:
			b = append(b, " IPIP"...)
		case ipvsConnFMasq:
			b = append(b, " MASQ"...)
		default:
			b = append(b, " UNKNOWN"...)
		}
	}
	if v.Bitmask&(1<<ipvsOptVPortCtl) != 0 {
		inv(1 << ipvsOptVPortCtl)
		opt("vportctl ")
		b = xtables.AppendUint(b, uint64(v.VPortCtl))
	}
	return b
}

func (v *IPVS) Print(b []byte, ctx *xtables.Context) []byte {
	return v.dump(b, "", ctx.Numeric, ctx)
}

func (v *IPVS) Save(b []byte, ctx *xtables.Context) []byte {
	return v.dump(b, "--", true, ctx)
}

// MatchPacket is ipvs_mt with no IPVS on the host: no packet has
// skb->ipvs_property, so only "! --ipvs" (alone) matches; every other
// option implies --ipvs and fails.
func (v *IPVS) MatchPacket(st *xtables.PacketState) bool {
	match := v.Invert&ipvsProperty != 0 // ipvs_property (0) ^ invert
	if v.Bitmask == ipvsProperty || !match {
		return match
	}
	// Other options need the IPVS connection of the packet.
	return false
}
