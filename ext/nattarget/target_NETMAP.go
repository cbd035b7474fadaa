package nattarget

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// NETMAP (libipt_NETMAP.c, libip6t_NETMAP.c; kernel xt_NETMAP.c): maps a
// whole network 1:1. The range is the network: its base address and base
// address | ~mask.

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "NETMAP",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "to", ID: 0, Type: xtables.TypeHostMask, Flags: xtables.Mand},
		},
		New: func() xtables.TargetInfo { return &Netmap{} },
		Help: "NETMAP target options:\n" +
			"  --to address[/mask]\n" +
			"\t\t\t\tNetwork address to map to.\n\n",
	})
}

// Netmap holds the single range of NETMAP (nf_nat_ipv4_multi_range_compat
// for IPv4, nf_nat_range for IPv6).
type Netmap struct {
	Range Range
}

func (n *Netmap) Parse(c *xtables.OptionCall) error {
	a, m := c.Val.Addr.AsSlice(), c.Val.Mask.AsSlice()
	if len(m) != len(a) { // no mask given: the whole address
		m = xtables.PrefixMask(c.Ctx.Family, c.Ctx.Family.Bits()).AsSlice()
	}
	lo := make([]byte, len(a))
	hi := make([]byte, len(a))
	for i := range a {
		lo[i] = a[i] & m[i]
		hi[i] = lo[i] | ^m[i]
	}
	n.Range.Flags |= RangeMapIPs
	n.Range.MinAddr, _ = netip.AddrFromSlice(lo)
	n.Range.MaxAddr, _ = netip.AddrFromSlice(hi)
	return nil
}

// Check: the nat table; every nat hook is allowed, and the kernel wants an
// address range.
func (n *Netmap) Check(ctx *xtables.Context) error {
	if ctx.Table != "nat" || n.Range.Flags&RangeMapIPs == 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// appendNetmap is __NETMAP_print: the base address, then the prefix length
// of ~(min ^ max), or that mask in full when it has holes.
func (n *Netmap) appendNetmap(b []byte, f xtables.Family) []byte {
	b = appendAddr(b, n.Range.MinAddr, f)
	size := 4
	if f == xtables.IPv6 {
		size = 16
	}
	lo, hi := n.Range.MinAddr.As16(), n.Range.MaxAddr.As16()
	m := make([]byte, size)
	for i := range m {
		j := 16 - size + i
		m[i] = ^(lo[j] ^ hi[j])
		if !n.Range.MinAddr.IsValid() || !n.Range.MaxAddr.IsValid() {
			m[i] = 0xff // unset: both zero
		}
	}
	mask, _ := netip.AddrFromSlice(m)
	b = append(b, '/')
	if bits := xtables.MaskBits(mask); bits >= 0 {
		return xtables.AppendUint(b, uint64(bits))
	}
	return appendAddr(b, mask, f)
}

func (n *Netmap) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " to:"...)
	return n.appendNetmap(b, ctx.Family)
}

func (n *Netmap) Save(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " --to "...)
	return n.appendNetmap(b, ctx.Family)
}
