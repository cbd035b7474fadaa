package l4

import (
	"github.com/iptwin/iptwin/ext/iphdr"
	"github.com/iptwin/iptwin/xtables"
)

// ah match for IPv6 (libip6t_ah.c, struct ip6t_ah): an extension header
// match, so no -p needed; spi, header length and reserved field.

const (
	ah6OptSpi uint = iota
	ah6OptLen
	ah6OptRes
)

const (
	ah6InvSPI  = 0x01 // IP6T_AH_INV_SPI
	ah6InvLen  = 0x02
	ah6InvMask = 0x03
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "ah",
		Family:    xtables.IPv6,
		Options: []xtables.Option{
			{Name: "ahspi", ID: ah6OptSpi, Type: xtables.TypeUint32RC, Flags: xtables.Invert},
			{Name: "ahlen", ID: ah6OptLen, Type: xtables.TypeUint32, Flags: xtables.Invert},
			{Name: "ahres", ID: ah6OptRes, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &AH6{Spis: [2]uint32{0, 0xffffffff}} },
		Help: "ah match options:\n" +
			"[!] --ahspi spi[:spi]          match spi (range)\n" +
			"[!] --ahlen length             total length of this header\n" +
			" --ahres                       check the reserved field too\n",
	})
}

// AH6 is struct ip6t_ah.
type AH6 struct {
	Spis     [2]uint32
	HdrLen   uint32
	HdrRes   uint8
	InvFlags uint8
}

func (a *AH6) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case ah6OptSpi:
		setRange32(&a.Spis, &c.Val)
		if c.Invert {
			a.InvFlags |= ah6InvSPI
		}
	case ah6OptLen:
		a.HdrLen = uint32(c.Val.U64)
		if c.Invert {
			a.InvFlags |= ah6InvLen
		}
	case ah6OptRes:
		a.HdrRes = 1
	}
	return nil
}

func (a *AH6) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ah "...)
	b = appendSpis(b, "spi", a.Spis[0], a.Spis[1], a.InvFlags&ah6InvSPI != 0)
	if a.HdrLen != 0 || a.InvFlags&ah6InvLen != 0 { // print_len, glued on as in C
		b = append(b, "length:"...)
		if a.InvFlags&ah6InvLen != 0 {
			b = append(b, '!')
		}
		b = xtables.AppendUint(b, uint64(a.HdrLen))
	}
	if a.HdrRes != 0 {
		b = append(b, " reserved"...)
	}
	if a.InvFlags&^ah6InvMask != 0 {
		b = append(b, " Unknown invflags: 0x"...)
		b = appendHexUpper(b, uint64(a.InvFlags&^ah6InvMask))
	}
	return b
}

func (a *AH6) Save(b []byte, ctx *xtables.Context) []byte {
	// An inverted full range is dropped too, except in the state file.
	if a.Spis != [2]uint32{0, 0xffffffff} || (ctx.State && a.InvFlags&ah6InvSPI != 0) {
		b = appendSaveRange(b, "--ahspi", uint64(a.Spis[0]), uint64(a.Spis[1]), a.InvFlags&ah6InvSPI != 0)
	}
	if a.HdrLen != 0 || a.InvFlags&ah6InvLen != 0 {
		b = xtables.AppendInv(b, a.InvFlags&ah6InvLen != 0)
		b = append(b, " --ahlen "...)
		b = xtables.AppendUint(b, uint64(a.HdrLen))
	}
	if a.HdrRes != 0 {
		b = append(b, " --ahres"...)
	}
	return b
}

// MatchPacket is ah_mt6 (ip6t_ah.c): the AH header wherever it is in the
// extension header chain (no protocol needed); a chain that runs past the
// packet drops it.
func (a *AH6) MatchPacket(st *xtables.PacketState) bool {
	if st.Pkt == nil {
		return false
	}
	d := st.Pkt.Data
	_, ptr, _, err := iphdr.IPv6FindHdr(d, 51, false)
	if err != iphdr.FindOK {
		if err == iphdr.FindBadMsg {
			st.HotDrop = true
		}
		return false
	}
	if ptr+12 > len(d) {
		st.HotDrop = true
		return false
	}
	ah := d[ptr : ptr+12]
	hdrlen := (uint32(ah[1]) + 2) << 2
	return inRange32(a.Spis[0], a.Spis[1], be32(ah[4:]), a.InvFlags&ah6InvSPI != 0) &&
		(a.HdrLen == 0 || (a.HdrLen == hdrlen) != (a.InvFlags&ah6InvLen != 0)) &&
		!(a.HdrRes != 0 && be16(ah[2:]) != 0)
}
