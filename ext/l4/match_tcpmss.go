package l4

import "github.com/iptwin/iptwin/xtables"

// tcpmss match (libxt_tcpmss.c, struct xt_tcpmss_match_info).

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "tcpmss",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "mss", ID: 0, Type: xtables.TypeUint16RC, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &TCPMSS{} },
		Help: "tcpmss match options:\n" +
			"[!] --mss value[:value]\tMatch TCP MSS range.\n" +
			"\t\t\t\t(only valid for TCP SYN or SYN/ACK packets)\n",
	})
}

// TCPMSS is struct xt_tcpmss_match_info.
type TCPMSS struct {
	MssMin, MssMax uint16
	Invert         uint8
}

func (m *TCPMSS) Parse(c *xtables.OptionCall) error {
	m.MssMin = uint16(c.Val.Range[0])
	m.MssMax = m.MssMin
	if c.Val.NVals == 2 {
		m.MssMax = uint16(c.Val.Range[1])
		if m.MssMax < m.MssMin {
			return xtables.Errorf("tcpmss: invalid range given")
		}
	}
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

// Check is the kernel's protocol check (the match is for -p tcp).
func (m *TCPMSS) Check(ctx *xtables.Context) error { return checkProto(ctx, 6) }

func (m *TCPMSS) appendRange(b []byte) []byte {
	b = xtables.AppendUint(b, uint64(m.MssMin))
	if m.MssMin != m.MssMax {
		b = append(b, ':')
		b = xtables.AppendUint(b, uint64(m.MssMax))
	}
	return b
}

func (m *TCPMSS) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " tcpmss match "...)
	if m.Invert != 0 {
		b = append(b, '!')
	}
	return m.appendRange(b)
}

func (m *TCPMSS) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --mss "...)
	return m.appendRange(b)
}

// MatchPacket is tcpmss_mt (xt_tcpmss.c). It has no fragment check: it
// reads whatever is at the transport offset. No MSS option gives the
// inversion; a header or options not all there drop the packet.
func (m *TCPMSS) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	th := in.header(20)
	if th == nil {
		st.HotDrop = true
		return false
	}
	doff := int(th[12]>>4) * 4
	if doff < 20 {
		st.HotDrop = true
		return false
	}
	optlen := doff - 20
	op := in.at(in.thoff+20, optlen)
	if op == nil {
		st.HotDrop = true
		return false
	}
	inv := m.Invert != 0
	for i := 0; i < optlen; {
		if op[i] == 2 && optlen-i >= 4 && op[i+1] == 4 {
			mss := be16(op[i+2:])
			return (mss >= m.MssMin && mss <= m.MssMax) != inv
		}
		if op[i] < 2 {
			i++
			continue
		}
		var l byte
		if i+1 < optlen {
			l = op[i+1]
		} else if b := in.at(in.thoff+20+i+1, 1); b != nil {
			l = b[0] // the kernel reads past the options here
		}
		if l == 0 {
			l = 1
		}
		i += int(l)
	}
	return inv
}
