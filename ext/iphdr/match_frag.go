package iphdr

import "github.com/iptwin/iptwin/xtables"

// frag match (libip6t_frag.c, ip6t_frag.h).

const (
	fragOptID uint = iota
	fragOptLen
	fragOptRes
	fragOptFirst
	fragOptMore
	fragOptLast
)

// Flags and invflags of struct ip6t_frag.
const (
	fragIDs    = 0x01
	fragLen    = 0x02
	fragRes    = 0x04
	fragFst    = 0x08
	fragMF     = 0x10
	fragNMF    = 0x20
	fragInvIDs = 0x01
	fragInvLen = 0x02
	fragInvAll = 0x03
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "frag",
		Family:    xtables.IPv6,
		Options: []xtables.Option{
			{Name: "fragid", ID: fragOptID, Type: xtables.TypeUint32RC, Flags: xtables.Invert},
			{Name: "fraglen", ID: fragOptLen, Type: xtables.TypeUint32, Flags: xtables.Invert},
			{Name: "fragres", ID: fragOptRes, Type: xtables.TypeNone},
			{Name: "fragfirst", ID: fragOptFirst, Type: xtables.TypeNone},
			{Name: "fragmore", ID: fragOptMore, Type: xtables.TypeNone, Excl: 1 << fragOptLast},
			{Name: "fraglast", ID: fragOptLast, Type: xtables.TypeNone, Excl: 1 << fragOptMore},
		},
		New: func() xtables.MatchInfo { return &Frag{IDs: [2]uint32{0, ^uint32(0)}} },
		Help: "frag match options:\n" +
			"[!] --fragid id[:id]           match the id (range)\n" +
			"[!] --fraglen length           total length of this header\n" +
			" --fragres                     check the reserved field too\n" +
			" --fragfirst                   matches on the first fragment\n" +
			" [--fragmore|--fraglast]       there are more fragments or this\n" +
			"                               is the last one\n",
	})
}

// Frag is struct ip6t_frag.
type Frag struct {
	IDs      [2]uint32
	HdrLen   uint32
	Flags    uint8
	InvFlags uint8
}

func (m *Frag) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case fragOptID:
		// XTOPT_PUT writes only the values given ("5:" leaves the
		// upper bound to the parser's maximum, "5" to the copy below).
		for i := 0; i < c.Val.NVals && i < 2; i++ {
			m.IDs[i] = uint32(c.Val.Range[i])
		}
		if c.Val.NVals == 1 {
			m.IDs[1] = m.IDs[0]
		}
		if c.Invert {
			m.InvFlags |= fragInvIDs
		}
		m.Flags |= fragIDs
	case fragOptLen:
		m.HdrLen = uint32(c.Val.U64)
		if c.Invert {
			m.InvFlags |= fragInvLen
		}
		m.Flags |= fragLen
	case fragOptRes:
		m.Flags |= fragRes
	case fragOptFirst:
		m.Flags |= fragFst
	case fragOptMore:
		m.Flags |= fragMF
	case fragOptLast:
		m.Flags |= fragNMF
	}
	return nil
}

// appendIDRange is print_ids / print_nums of frag and rt: nothing for the
// full range unless inverted.
func appendIDRange(b []byte, name string, min, max uint32, inv bool) []byte {
	if min == 0 && max == ^uint32(0) && !inv {
		return b
	}
	b = append(b, name...)
	if min == max {
		b = append(b, ':')
		b = appendInvBang(b, inv)
		return appendU(b, uint64(min))
	}
	b = append(b, "s:"...)
	b = appendInvBang(b, inv)
	b = appendU(b, uint64(min))
	b = append(b, ':')
	return appendU(b, uint64(max))
}

// appendSaveRange is the save form of an id range: nothing for the full
// range, even inverted (the real tool loses "! --fragid 0:4294967295"),
// except in iptwin's own state file (ctx.State), which must read back
// what the kernel holds.
func appendSaveRange(b []byte, opt string, r [2]uint32, inv bool, ctx *xtables.Context) []byte {
	if r[0] == 0 && r[1] == ^uint32(0) && !(inv && ctx.State) {
		return b
	}
	b = xtables.AppendInv(b, inv)
	b = append(b, opt...)
	b = appendU(b, uint64(r[0]))
	if r[0] != r[1] {
		b = append(b, ':')
		b = appendU(b, uint64(r[1]))
	}
	return b
}

func (m *Frag) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " frag "...)
	b = appendIDRange(b, "id", m.IDs[0], m.IDs[1], m.InvFlags&fragInvIDs != 0)
	if m.Flags&fragLen != 0 {
		b = append(b, " length:"...)
		b = appendInvBang(b, m.InvFlags&fragInvLen != 0)
		b = appendU(b, uint64(m.HdrLen))
	}
	if m.Flags&fragRes != 0 {
		b = append(b, " reserved"...)
	}
	if m.Flags&fragFst != 0 {
		b = append(b, " first"...)
	}
	if m.Flags&fragMF != 0 {
		b = append(b, " more"...)
	}
	if m.Flags&fragNMF != 0 {
		b = append(b, " last"...)
	}
	return b
}

func (m *Frag) Save(b []byte, ctx *xtables.Context) []byte {
	b = appendSaveRange(b, " --fragid ", m.IDs, m.InvFlags&fragInvIDs != 0, ctx)
	if m.Flags&fragLen != 0 {
		b = xtables.AppendInv(b, m.InvFlags&fragInvLen != 0)
		b = append(b, " --fraglen "...)
		b = appendU(b, uint64(m.HdrLen))
	}
	if m.Flags&fragRes != 0 {
		b = append(b, " --fragres"...)
	}
	if m.Flags&fragFst != 0 {
		b = append(b, " --fragfirst"...)
	}
	if m.Flags&fragMF != 0 {
		b = append(b, " --fragmore"...)
	}
	if m.Flags&fragNMF != 0 {
		b = append(b, " --fraglast"...)
	}
	return b
}

// MatchPacket is frag_mt6 (ip6t_frag.c): the fragment header anywhere in
// the chain.
func (m *Frag) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	_, ptr, _, err := IPv6FindHdr(d, nexthdrFragment, false)
	if err != FindOK {
		if err == FindBadMsg {
			st.HotDrop = true
		}
		return false
	}
	if ptr+8 > len(d) {
		st.HotDrop = true
		return false
	}
	fh := d[ptr : ptr+8]
	fo := be16(fh[2:])
	id := be32(fh[4:])
	return (id >= m.IDs[0] && id <= m.IDs[1]) != (m.InvFlags&fragInvIDs != 0) &&
		!(m.Flags&fragRes != 0 && (fh[1] != 0 || fo&6 != 0)) &&
		!(m.Flags&fragFst != 0 && fo&^7 != 0) &&
		!(m.Flags&fragMF != 0 && fo&1 == 0) &&
		!(m.Flags&fragNMF != 0 && fo&1 != 0)
}
