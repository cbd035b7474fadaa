package ctmatch

import (
	"fmt"
	"math/bits"

	"github.com/iptwin/iptwin/xtables"
)

// connlimit match (libxt_connlimit.c, xt_connlimit.h), revision 1.

const (
	climOptUpto uint = iota
	climOptAbove
	climOptMask
	climOptSaddr
	climOptDaddr
)

const (
	connlimitInvert = 1 << 0 // XT_CONNLIMIT_INVERT
	connlimitDaddr  = 1 << 1 // XT_CONNLIMIT_DADDR
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:      "connlimit",
		Revision:  1,
		Family:    xtables.AnyFamily,
		StateForm: true, // the default mask (all ones) is kept as such
		Help: `connlimit match options:
  --connlimit-upto n     match if the number of existing connections is 0..n
  --connlimit-above n    match if the number of existing connections is >n
  --connlimit-mask n     group hosts using prefix length (default: max len)
  --connlimit-saddr      select source address for grouping
  --connlimit-daddr      select destination addresses for grouping
`,
		Options: []xtables.Option{
			{Name: "connlimit-upto", ID: climOptUpto, Type: xtables.TypeUint32, Flags: xtables.Invert, Excl: 1 << climOptAbove},
			{Name: "connlimit-above", ID: climOptAbove, Type: xtables.TypeUint32, Flags: xtables.Invert, Excl: 1 << climOptUpto},
			{Name: "connlimit-mask", ID: climOptMask, Type: xtables.TypePlenMask},
			{Name: "connlimit-saddr", ID: climOptSaddr, Type: xtables.TypeNone, Excl: 1 << climOptDaddr},
			{Name: "connlimit-daddr", ID: climOptDaddr, Type: xtables.TypeNone, Excl: 1 << climOptSaddr},
		},
		New: func() xtables.MatchInfo {
			// connlimit_init: the mask starts all ones (also the v4 one).
			return &Connlimit{Mask: [4]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}}
		},
	})
}

// Connlimit is struct xt_connlimit_info; Mask is the v6_mask words in host
// order (the v4 mask is the first word).
type Connlimit struct {
	Mask  [4]uint32
	Limit uint32
	Flags uint32

	data *connCount // the kernel's info->data, made by the first packet
}

func (cl *Connlimit) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case climOptAbove:
		cl.Limit = uint32(c.Val.U64)
		if c.Invert {
			cl.Flags |= connlimitInvert
		}
	case climOptUpto:
		cl.Limit = uint32(c.Val.U64)
		if !c.Invert {
			cl.Flags |= connlimitInvert
		}
	case climOptMask:
		cl.Mask = plenMaskWords(c.Val.Plen)
	case climOptSaddr:
		cl.Flags &^= connlimitDaddr
	case climOptDaddr:
		cl.Flags |= connlimitDaddr
	}
	return nil
}

// plenMaskWords is xtopt_parse_plenmask's family-independent shifting: a
// prefix length fills the words from the first one, the rest zero; a mask
// that has no prefix length leaves all ones.
func plenMaskWords(plen int) [4]uint32 {
	m := [4]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}
	if plen < 0 || plen > 128 {
		return m
	}
	for i := range m {
		n := plen - 32*i
		switch {
		case n <= 0:
			m[i] = 0
		case n < 32:
			m[i] <<= uint(32 - n)
		}
	}
	return m
}

// Final is connlimit_check.
func (cl *Connlimit) Final(f *xtables.FinalCall) error {
	if !f.Has(climOptUpto) && !f.Has(climOptAbove) {
		return xtables.Errorf("You must specify \"--connlimit-above\" or \"--connlimit-upto\".")
	}
	return nil
}

// maskBits is count_bits4 / count_bits6: the width minus the number of
// significant bits of the inverted mask words.
func (cl *Connlimit) maskBits(f xtables.Family) int {
	words := 1
	if f == xtables.IPv6 {
		words = 4
	}
	n := 0
	for i := 0; i < words; i++ {
		n += bits.Len32(^cl.Mask[i])
	}
	return 32*words - n
}

func (cl *Connlimit) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " #conn "...)
	if cl.Flags&connlimitDaddr != 0 {
		b = append(b, "dst/"...)
	} else {
		b = append(b, "src/"...)
	}
	b = xtables.AppendUint(b, uint64(cl.maskBits(ctx.Family)))
	if cl.Flags&connlimitInvert != 0 {
		b = append(b, " <= "...)
	} else {
		b = append(b, " > "...)
	}
	return xtables.AppendUint(b, uint64(cl.Limit))
}

func (cl *Connlimit) Save(b []byte, ctx *xtables.Context) []byte {
	if cl.Flags&connlimitInvert != 0 {
		b = append(b, " --connlimit-upto "...)
	} else {
		b = append(b, " --connlimit-above "...)
	}
	b = xtables.AppendUint(b, uint64(cl.Limit))
	defaultMask := cl.Mask == [4]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}
	if !ctx.State || !defaultMask {
		// A state file leaves the default out: read back, an explicit
		// mask is zero past the family's width, and -D compares the
		// kernel data, where the two differ.
		b = append(b, " --connlimit-mask "...)
		b = xtables.AppendUint(b, uint64(cl.maskBits(ctx.Family)))
	}
	if cl.Flags&connlimitDaddr != 0 {
		b = append(b, " --connlimit-daddr"...)
	} else {
		b = append(b, " --connlimit-saddr"...)
	}
	if ctx.Key {
		b = fmt.Appendf(b, " mask=%08x%08x%08x%08x", cl.Mask[0], cl.Mask[1], cl.Mask[2], cl.Mask[3])
	}
	return b
}
