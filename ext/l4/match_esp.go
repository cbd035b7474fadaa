package l4

import "github.com/iptwin/iptwin/xtables"

// esp match (libxt_esp.c, struct xt_esp).

const espInvSPI = 0x01 // XT_ESP_INV_SPI

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "esp",
		Family:    xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "espspi", ID: 0, Type: xtables.TypeUint32RC, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &ESP{Spis: [2]uint32{0, 0xffffffff}} },
		Help: "esp match options:\n" +
			"[!] --espspi spi[:spi]\n" +
			"\t\t\t\tmatch spi (range)\n",
	})
}

// ESP is struct xt_esp.
type ESP struct {
	Spis     [2]uint32
	InvFlags uint8
}

func (e *ESP) Parse(c *xtables.OptionCall) error {
	setRange32(&e.Spis, &c.Val) // no min > max check, as XTTYPE_UINT32RC
	if c.Invert {
		e.InvFlags |= espInvSPI
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p esp).
func (e *ESP) Check(ctx *xtables.Context) error { return checkProto(ctx, 50) }

func (e *ESP) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " esp"...)
	if e.Spis != [2]uint32{0, 0xffffffff} || e.InvFlags&espInvSPI != 0 {
		b = append(b, ' ')
		b = appendSpis(b, "spi", e.Spis[0], e.Spis[1], e.InvFlags&espInvSPI != 0)
	}
	if e.InvFlags&^espInvSPI != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(e.InvFlags&^espInvSPI))
	}
	return b
}

func (e *ESP) Save(b []byte, ctx *xtables.Context) []byte {
	if e.Spis == [2]uint32{0, 0xffffffff} && !(ctx.State && e.InvFlags&espInvSPI != 0) {
		return b // an inverted full range too, except in the state file
	}
	return appendSaveRange(b, "--espspi", uint64(e.Spis[0]), uint64(e.Spis[1]), e.InvFlags&espInvSPI != 0)
}

// MatchPacket is esp_mt (xt_esp.c): the SPI of the 8-byte header.
func (e *ESP) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	eh := in.header(8)
	if eh == nil {
		st.HotDrop = true
		return false
	}
	return inRange32(e.Spis[0], e.Spis[1], be32(eh), e.InvFlags&espInvSPI != 0)
}
