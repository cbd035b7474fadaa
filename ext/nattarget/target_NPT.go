package nattarget

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// SNPT and DNPT, IPv6-to-IPv6 network prefix translation (libip6t_SNPT.c,
// libip6t_DNPT.c; kernel ip6t_NPT.c): mangle table targets.

// The C option ids are 1<<0 and 1<<1.
const (
	optSrcPfx uint = 1
	optDstPfx uint = 2
)

type nptKind struct {
	name  string
	hooks uint
}

var (
	snptKind = &nptKind{"SNPT", hookIn | hookPost}
	dnptKind = &nptKind{"DNPT", hookPre | hookOut}
)

func init() {
	for _, k := range []*nptKind{snptKind, dnptKind} {
		k := k
		xtables.RegisterTarget(&xtables.TargetType{
			Name:   k.name,
			Family: xtables.IPv6,
			Hooks:  k.hooks,
			Options: []xtables.Option{
				{Name: "src-pfx", ID: optSrcPfx, Type: xtables.TypeHostMask, Flags: xtables.Mand},
				{Name: "dst-pfx", ID: optDstPfx, Type: xtables.TypeHostMask, Flags: xtables.Mand},
			},
			New: func() xtables.TargetInfo {
				z := netip.IPv6Unspecified()
				return &NPT{SrcPfx: z, DstPfx: z, kind: k}
			},
			Help: k.name + " target options:\n" +
				" --src-pfx prefix/length\n" +
				" --dst-pfx prefix/length\n\n",
		})
	}
}

// NPT is struct ip6t_npt_tginfo; the kernel fills in Adjustment (outside
// the part userspace compares).
type NPT struct {
	SrcPfx, DstPfx       netip.Addr
	SrcPfxLen, DstPfxLen uint8
	Adjustment           uint16
	kind                 *nptKind
}

func (n *NPT) Parse(c *xtables.OptionCall) error {
	// The address is kept as given, host bits included: the kernel
	// refuses those.
	switch c.Opt.ID {
	case optSrcPfx:
		n.SrcPfx, n.SrcPfxLen = c.Val.Addr, uint8(c.Val.Plen)
	case optDstPfx:
		n.DstPfx, n.DstPfxLen = c.Val.Addr, uint8(c.Val.Plen)
	}
	return nil
}

// prefixOK is the kernel's test: at most 64 bits, and no bits set past
// the prefix.
func prefixOK(a netip.Addr, plen uint8) bool {
	if plen > 64 {
		return false
	}
	return xtables.ApplyMask(a, xtables.PrefixMask(xtables.IPv6, int(plen))) == a
}

// Check is ip6t_npt_checkentry plus the mangle table and hooks.
func (n *NPT) Check(ctx *xtables.Context) error {
	if ctx.Table != "mangle" || ctx.Hooks&^n.kind.hooks != 0 {
		return xtables.ErrInvalidArgument
	}
	if !prefixOK(n.SrcPfx, n.SrcPfxLen) || !prefixOK(n.DstPfx, n.DstPfxLen) {
		return xtables.ErrInvalidArgument
	}
	return nil
}

func (n *NPT) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, ' ')
	b = append(b, n.kind.name...)
	b = append(b, " src-pfx "...)
	b = appendIPv6(b, n.SrcPfx.As16())
	b = append(b, '/')
	b = xtables.AppendUint(b, uint64(n.SrcPfxLen))
	b = append(b, " dst-pfx "...)
	b = appendIPv6(b, n.DstPfx.As16())
	b = append(b, '/')
	return xtables.AppendUint(b, uint64(n.DstPfxLen))
}

func (n *NPT) Save(b []byte, ctx *xtables.Context) []byte {
	if !xtables.IsZero(n.SrcPfx) || n.SrcPfxLen != 0 {
		b = append(b, " --src-pfx "...)
		b = appendIPv6(b, n.SrcPfx.As16())
		b = append(b, '/')
		b = xtables.AppendUint(b, uint64(n.SrcPfxLen))
	}
	if !xtables.IsZero(n.DstPfx) || n.DstPfxLen != 0 {
		b = append(b, " --dst-pfx "...)
		b = appendIPv6(b, n.DstPfx.As16())
		b = append(b, '/')
		b = xtables.AppendUint(b, uint64(n.DstPfxLen))
	}
	return b
}
