package mangle

import "github.com/iptwin/iptwin/xtables"

// TCPMSS target (libxt_TCPMSS.c, struct xt_tcpmss_info). The two options
// are not exclusive: the last one given wins.

const (
	mssOptSet uint = iota
	mssOptClamp
)

// TCPMSSClampPMTU is XT_TCPMSS_CLAMP_PMTU.
const TCPMSSClampPMTU = 0xffff

func init() {
	for _, f := range []struct {
		fam xtables.Family
		hdr uint64 // sizeof the IP header: the MSS maximum is 65535 minus it
	}{{xtables.IPv4, 20}, {xtables.IPv6, 40}} {
		xtables.RegisterTarget(&xtables.TargetType{
			Name:   "TCPMSS",
			Family: f.fam,
			Options: []xtables.Option{
				{Name: "set-mss", ID: mssOptSet, Type: xtables.TypeUint16, Min: 0, Max: 0xffff - f.hdr},
				{Name: "clamp-mss-to-pmtu", ID: mssOptClamp, Type: xtables.TypeNone},
			},
			New: func() xtables.TargetInfo { return &TCPMSS{} },
		})
	}
}

// TCPMSS is struct xt_tcpmss_info.
type TCPMSS struct {
	MSS uint16
}

func (t *TCPMSS) Parse(c *xtables.OptionCall) error {
	if c.Opt.ID == mssOptClamp {
		t.MSS = TCPMSSClampPMTU
	} else {
		t.MSS = uint16(c.Val.U64)
	}
	return nil
}

func (t *TCPMSS) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("TCPMSS target: At least one parameter is required")
	}
	return nil
}

func (t *TCPMSS) Print(b []byte, ctx *xtables.Context) []byte {
	if t.MSS == TCPMSSClampPMTU {
		return append(b, " TCPMSS clamp to PMTU"...)
	}
	return xtables.AppendUint(append(b, " TCPMSS set "...), uint64(t.MSS))
}

func (t *TCPMSS) Save(b []byte, ctx *xtables.Context) []byte {
	if t.MSS == TCPMSSClampPMTU {
		return append(b, " --clamp-mss-to-pmtu"...)
	}
	return xtables.AppendUint(append(b, " --set-mss "...), uint64(t.MSS))
}

// Check: the target is for -p tcp only; clamping to the path MTU only in
// FORWARD, OUTPUT and POSTROUTING. Under nft_compat the kernel does not ask
// for a SYN match.
func (t *TCPMSS) Check(ctx *xtables.Context) error {
	if !isProto(ctx, protoTCP) {
		return errInval
	}
	if t.MSS == TCPMSSClampPMTU && hooksOutside(ctx, 1<<xtables.HookForward|1<<xtables.HookOutput|1<<xtables.HookPostrouting) {
		return errInval
	}
	return nil
}
