package l4

import "github.com/iptwin/iptwin/xtables"

// ah match for IPv4 (libipt_ah.c, struct ipt_ah): the spi only.

const ahInvSPI = 0x01 // IPT_AH_INV_SPI

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "ah",
		Family:    xtables.IPv4,
		Options: []xtables.Option{
			{Name: "ahspi", ID: 0, Type: xtables.TypeUint32RC, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &AH{Spis: [2]uint32{0, 0xffffffff}} },
		Help: "ah match options:\n" +
			"[!] --ahspi spi[:spi]\n" +
			"\t\t\t\tmatch spi (range)\n",
	})
}

// AH is struct ipt_ah.
type AH struct {
	Spis     [2]uint32
	InvFlags uint8
}

func (a *AH) Parse(c *xtables.OptionCall) error {
	setRange32(&a.Spis, &c.Val)
	if c.Invert {
		a.InvFlags |= ahInvSPI
	}
	return nil
}

// Check is the kernel's protocol check (ipt_ah is for -p ah).
func (a *AH) Check(ctx *xtables.Context) error { return checkProto(ctx, 51) }

func (a *AH) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ah "...) // the trailing space is the C code's
	b = appendSpis(b, "spi", a.Spis[0], a.Spis[1], a.InvFlags&ahInvSPI != 0)
	if a.InvFlags&^ahInvSPI != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(a.InvFlags&^ahInvSPI))
	}
	return b
}

func (a *AH) Save(b []byte, ctx *xtables.Context) []byte {
	if a.Spis == [2]uint32{0, 0xffffffff} && !(ctx.State && a.InvFlags&ahInvSPI != 0) {
		return b // an inverted full range too, except in the state file
	}
	return appendSaveRange(b, "--ahspi", uint64(a.Spis[0]), uint64(a.Spis[1]), a.InvFlags&ahInvSPI != 0)
}

// MatchPacket is ah_mt of ipt_ah.c: the SPI of the 12-byte header at the
// transport offset.
func (a *AH) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	ah := in.header(12)
	if ah == nil {
		st.HotDrop = true
		return false
	}
	return inRange32(a.Spis[0], a.Spis[1], be32(ah[4:]), a.InvFlags&ahInvSPI != 0)
}
