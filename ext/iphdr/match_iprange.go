package iphdr

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// iprange match, revision 1 (libxt_iprange.c, xt_iprange.h). Revision 0 is
// never chosen: every kernel with nf_tables has revision 1.

const (
	iprangeOptSrc uint = iota
	iprangeOptDst
)

// Flags of struct xt_iprange_mtinfo.
const (
	iprangeSrc    = 1 << 0
	iprangeDst    = 1 << 1
	iprangeSrcInv = 1 << 4
	iprangeDstInv = 1 << 5
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "iprange",
		Revision:  1,
		Family:    xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "src-range", ID: iprangeOptSrc, Type: xtables.TypeString, Flags: xtables.Invert},
			{Name: "dst-range", ID: iprangeOptDst, Type: xtables.TypeString, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &IPRange{} },
		Help: "iprange match options:\n" +
			"[!] --src-range ip[-ip]    Match source IP in the specified range\n" +
			"[!] --dst-range ip[-ip]    Match destination IP in the specified range\n",
	})
}

// IPRange is struct xt_iprange_mtinfo; addresses are kept in the rule's
// family (4 or 16 bytes).
type IPRange struct {
	SrcMin, SrcMax netip.Addr
	DstMin, DstMax netip.Addr
	Flags          uint8
}

func parseIPRange(arg string, ctx *xtables.Context, opt string) (lo, hi netip.Addr, err error) {
	f := ctx.Family
	from, to := arg, arg
	if i := bytes.IndexByte([]byte(arg), '-'); i >= 0 {
		from, to = arg[:i], arg[i+1:]
	}
	var r [2]netip.Addr
	for i, s := range []string{from, to} {
		var ok bool
		if f == xtables.IPv6 {
			r[i], ok = xtables.ParseIPv6Numeric(s)
		} else {
			r[i], ok = xtables.ParseIPv4Numeric(s, false)
		}
		if !ok {
			return lo, hi, badValue("iprange", opt, s)
		}
	}
	// Printed while the command line is parsed, not again when iptwin
	// reads its state back.
	if from != arg && r[0].Compare(r[1]) > 0 && !ctx.State {
		ctx.Notice(fmt.Sprintf("xt_iprange: range %s-%s is reversed and will never match", from, to))
	}
	return r[0], r[1], nil
}

func (m *IPRange) Parse(c *xtables.OptionCall) error {
	var err error
	switch c.Opt.ID {
	case iprangeOptSrc:
		if m.SrcMin, m.SrcMax, err = parseIPRange(c.Arg, c.Ctx, "--src-range"); err != nil {
			return err
		}
		m.Flags |= iprangeSrc
		if c.Invert {
			m.Flags |= iprangeSrcInv
		}
	case iprangeOptDst:
		if m.DstMin, m.DstMax, err = parseIPRange(c.Arg, c.Ctx, "--dst-range"); err != nil {
			return err
		}
		m.Flags |= iprangeDst
		if c.Invert {
			m.Flags |= iprangeDstInv
		}
	}
	return nil
}

func (m *IPRange) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("iprange match: You must specify `--src-range' or `--dst-range'")
	}
	return nil
}

func ipString(a netip.Addr, f xtables.Family) string {
	if f == xtables.IPv6 {
		return ip6String(a)
	}
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

func (m *IPRange) appendRange(b []byte, lo, hi netip.Addr, ctx *xtables.Context) []byte {
	b = append(b, ' ')
	b = append(b, ipString(lo, ctx.Family)...)
	b = append(b, '-')
	return append(b, ipString(hi, ctx.Family)...)
}

func (m *IPRange) Print(b []byte, ctx *xtables.Context) []byte {
	if m.Flags&iprangeSrc != 0 {
		b = append(b, " source IP range"...)
		b = xtables.AppendInv(b, m.Flags&iprangeSrcInv != 0)
		b = m.appendRange(b, m.SrcMin, m.SrcMax, ctx)
	}
	if m.Flags&iprangeDst != 0 {
		b = append(b, " destination IP range"...)
		b = xtables.AppendInv(b, m.Flags&iprangeDstInv != 0)
		b = m.appendRange(b, m.DstMin, m.DstMax, ctx)
	}
	return b
}

func (m *IPRange) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Flags&iprangeSrc != 0 {
		b = xtables.AppendInv(b, m.Flags&iprangeSrcInv != 0)
		b = append(b, " --src-range"...)
		b = m.appendRange(b, m.SrcMin, m.SrcMax, ctx)
	}
	if m.Flags&iprangeDst != 0 {
		b = xtables.AppendInv(b, m.Flags&iprangeDstInv != 0)
		b = append(b, " --dst-range"...)
		b = m.appendRange(b, m.DstMin, m.DstMax, ctx)
	}
	return b
}

// MatchPacket is iprange_mt4/iprange_mt6 (xt_iprange.c): outside the
// range, inverted, fails the match.
func (m *IPRange) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	var src, dst netip.Addr
	switch {
	case st.Family == xtables.IPv6 && len(d) >= 40:
		src, dst = netip.AddrFrom16([16]byte(d[8:24])), netip.AddrFrom16([16]byte(d[24:40]))
	case st.Family != xtables.IPv6 && len(d) >= 20:
		src, dst = netip.AddrFrom4([4]byte(d[12:16])), netip.AddrFrom4([4]byte(d[16:20]))
	default:
		return false
	}
	if m.Flags&iprangeSrc != 0 {
		out := src.Compare(m.SrcMin) < 0 || src.Compare(m.SrcMax) > 0
		if out != (m.Flags&iprangeSrcInv != 0) {
			return false
		}
	}
	if m.Flags&iprangeDst != 0 {
		out := dst.Compare(m.DstMin) < 0 || dst.Compare(m.DstMax) > 0
		if out != (m.Flags&iprangeDstInv != 0) {
			return false
		}
	}
	return true
}
