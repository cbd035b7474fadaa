package l4

import "github.com/iptwin/iptwin/xtables"

// ipcomp match (libxt_ipcomp.c, struct xt_ipcomp). It has no init, so an
// absent --ipcompspi leaves the range 0:0, saved as "--ipcompspi 0".

const (
	ipcompOptSpi uint = iota
	ipcompOptRes
)

const ipcompInvSPI = 0x01 // XT_IPCOMP_INV_SPI

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "ipcomp",
		Family:    xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "ipcompspi", ID: ipcompOptSpi, Type: xtables.TypeUint32RC, Flags: xtables.Invert},
			{Name: "compres", ID: ipcompOptRes, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &IPComp{} },
		Help: "comp match options:\n" +
			"[!] --ipcompspi spi[:spi]\n" +
			"\t\t\t\tmatch spi (range)\n",
	})
}

// IPComp is struct xt_ipcomp.
type IPComp struct {
	Spis     [2]uint32
	InvFlags uint8
	HdrRes   uint8
}

func (p *IPComp) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case ipcompOptSpi:
		setRange32(&p.Spis, &c.Val)
		if c.Invert {
			p.InvFlags |= ipcompInvSPI
		}
	case ipcompOptRes:
		p.HdrRes = 1
	}
	return nil
}

// Final reads a state file's rule without --ipcompspi as the full range:
// only that range saves as nothing (an absent option gives 0:0).
func (p *IPComp) Final(f *xtables.FinalCall) error {
	if f.Ctx != nil && f.Ctx.State && !f.Has(ipcompOptSpi) {
		p.Spis = [2]uint32{0, 0xffffffff}
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p ipcomp).
func (p *IPComp) Check(ctx *xtables.Context) error { return checkProto(ctx, 108) }

func (p *IPComp) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " comp "...)
	b = appendSpis(b, "spi", p.Spis[0], p.Spis[1], p.InvFlags&ipcompInvSPI != 0)
	if p.HdrRes != 0 {
		b = append(b, " reserved"...)
	}
	if p.InvFlags&^ipcompInvSPI != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(p.InvFlags&^ipcompInvSPI))
	}
	return b
}

func (p *IPComp) Save(b []byte, ctx *xtables.Context) []byte {
	// An inverted full range is dropped too, except in the state file.
	if p.Spis != [2]uint32{0, 0xffffffff} || (ctx.State && p.InvFlags&ipcompInvSPI != 0) {
		b = appendSaveRange(b, "--ipcompspi", uint64(p.Spis[0]), uint64(p.Spis[1]), p.InvFlags&ipcompInvSPI != 0)
	}
	if p.HdrRes != 0 {
		b = append(b, " --compres"...)
	}
	return b
}

// MatchPacket is comp_mt (xt_ipcomp.c): the 16-bit CPI of the 4-byte
// header against the range; --compres is not checked by the kernel.
func (p *IPComp) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	ch := in.header(4)
	if ch == nil {
		st.HotDrop = true
		return false
	}
	return inRange32(p.Spis[0], p.Spis[1], uint32(be16(ch[2:])), p.InvFlags&ipcompInvSPI != 0)
}
