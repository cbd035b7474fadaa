package mangle

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// TEE target, revision 1 (libxt_TEE.c, struct xt_tee_tginfo).

const (
	teeOptGateway uint = iota
	teeOptOif
)

func init() {
	for _, f := range []xtables.Family{xtables.IPv4, xtables.IPv6} {
		f := f
		xtables.RegisterTarget(&xtables.TargetType{
			Name:     "TEE",
			Revision: 1,
			Family:   f,
			Options: []xtables.Option{
				{Name: "gateway", ID: teeOptGateway, Type: xtables.TypeHost, Flags: xtables.Mand},
				{Name: "oif", ID: teeOptOif, Type: xtables.TypeString},
			},
			New: func() xtables.TargetInfo { return &TEE{Gw: xtables.ZeroAddr(f)} },
		})
	}
}

// TEE is struct xt_tee_tginfo.
type TEE struct {
	Gw  netip.Addr
	Oif string // char[16]
}

func (t *TEE) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case teeOptGateway:
		t.Gw = c.Val.Addr
	case teeOptOif:
		t.Oif = putString(c.Arg, 16)
	}
	return nil
}

func (t *TEE) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " TEE gw:"...)
	b = appendAnyName(b, t.Gw, ctx)
	if t.Oif != "" {
		b = append(b, " oif="+t.Oif...)
	}
	return b
}

// appendAnyName is xtables_ipaddr_to_anyname / xtables_ip6addr_to_anyname
// unless -n: the host name, for IPv4 then the network name, else the
// address.
func appendAnyName(b []byte, a netip.Addr, ctx *xtables.Context) []byte {
	if !ctx.Numeric && ctx.Names != nil {
		if n := ctx.Names.HostName(a); n != "" {
			return append(b, n...)
		}
		if a.Is4() {
			if n := ctx.Names.NetworkName(a); n != "" {
				return append(b, n...)
			}
		}
	}
	return a.AppendTo(b)
}

func (t *TEE) Save(b []byte, ctx *xtables.Context) []byte {
	b = t.Gw.AppendTo(append(b, " --gateway "...))
	if t.Oif != "" {
		b = append(b, " --oif "+t.Oif...)
	}
	return b
}

// Check is tee_tg_check: a gateway must be given (not the zero address).
func (t *TEE) Check(ctx *xtables.Context) error {
	if !t.Gw.IsValid() || t.Gw.IsUnspecified() {
		return errInval
	}
	return nil
}

// TargetPacket is tee_tg4/tee_tg6: a copy goes to the gateway (through
// the host's Duplicator), the original continues. A host that cannot
// send copies sends none.
func (t *TEE) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	if d, ok := st.Env.(Duplicator); ok {
		d.Duplicate(st, t.Gw, t.Oif)
	}
	return xtables.VerdictCodeContinue
}
