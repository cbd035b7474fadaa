package iphdr

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// rt match (libip6t_rt.c, ip6t_rt.h).

const (
	rtOptType uint = iota
	rtOptSegsLeft
	rtOptLen
	rtOpt0Res
	rtOpt0Addrs
	rtOpt0NotStrict
)

// Flags and invflags of struct ip6t_rt.
const (
	rtTyp       = 0x01
	rtSgs       = 0x02
	rtLen       = 0x04
	rtRes       = 0x08
	rtFst       = 0x10
	rtFstNStrct = 0x20
	rtInvTyp    = 0x01
	rtInvSgs    = 0x02
	rtInvLen    = 0x04
	rtHops      = 16
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		StateForm: true, // Save differs when Context.State is set
		Name:      "rt",
		Family:    xtables.IPv6,
		Options: []xtables.Option{
			{Name: "rt-type", ID: rtOptType, Type: xtables.TypeUint32, Flags: xtables.Invert},
			{Name: "rt-segsleft", ID: rtOptSegsLeft, Type: xtables.TypeUint32RC, Flags: xtables.Invert},
			{Name: "rt-len", ID: rtOptLen, Type: xtables.TypeUint32, Flags: xtables.Invert},
			{Name: "rt-0-res", ID: rtOpt0Res, Type: xtables.TypeNone},
			{Name: "rt-0-addrs", ID: rtOpt0Addrs, Type: xtables.TypeString},
			{Name: "rt-0-not-strict", ID: rtOpt0NotStrict, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &RT{SegsLeft: [2]uint32{0, ^uint32(0)}} },
		Help: "rt match options:\n" +
			"[!] --rt-type type             match the type\n" +
			"[!] --rt-segsleft num[:num]    match the Segments Left field (range)\n" +
			"[!] --rt-len length            total length of this header\n" +
			" --rt-0-res                    check the reserved field too (type 0)\n" +
			" --rt-0-addrs ADDR[,ADDR...]   Type=0 addresses (list, max: 16)\n" +
			" --rt-0-not-strict             List of Type=0 addresses not a strict list\n",
	})
}

// RT is struct ip6t_rt.
type RT struct {
	Type     uint32
	SegsLeft [2]uint32
	HdrLen   uint32
	Flags    uint8
	InvFlags uint8
	Addrs    []netip.Addr // at most 16 (addrs[], addrnr)
}

func (m *RT) needType0(opt string) error {
	if m.Flags&rtTyp == 0 || m.Type != 0 || m.InvFlags&rtInvTyp != 0 {
		return xtables.Errorf("`--rt-type 0' required before `%s'", opt)
	}
	return nil
}

// parseRTAddrs is parse_addresses: up to 16 comma-separated IPv6
// addresses, each checked as it is read.
func parseRTAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	rest, more := s, true
	for more && len(out) < rtHops {
		cp := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			cp, rest = rest[:i], rest[i+1:]
		} else {
			more = false
		}
		a, ok := xtables.ParseIPv6Numeric(cp)
		if !ok {
			return nil, xtables.Errorf("bad address: %s", cp)
		}
		out = append(out, a)
	}
	if more {
		return nil, xtables.Errorf("too many addresses specified")
	}
	return out, nil
}

func (m *RT) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case rtOptType:
		m.Type = uint32(c.Val.U64)
		if c.Invert {
			m.InvFlags |= rtInvTyp
		}
		m.Flags |= rtTyp
	case rtOptSegsLeft:
		for i := 0; i < c.Val.NVals && i < 2; i++ {
			m.SegsLeft[i] = uint32(c.Val.Range[i])
		}
		if c.Val.NVals == 1 {
			m.SegsLeft[1] = m.SegsLeft[0]
		}
		if c.Invert {
			m.InvFlags |= rtInvSgs
		}
		m.Flags |= rtSgs
	case rtOptLen:
		m.HdrLen = uint32(c.Val.U64)
		if c.Invert {
			m.InvFlags |= rtInvLen
		}
		m.Flags |= rtLen
	case rtOpt0Res:
		if err := m.needType0("--rt-0-res"); err != nil {
			return err
		}
		m.Flags |= rtRes
	case rtOpt0Addrs:
		if err := m.needType0("--rt-0-addrs"); err != nil {
			return err
		}
		addrs, err := parseRTAddrs(c.Arg)
		if err != nil {
			return err
		}
		m.Addrs = addrs
		m.Flags |= rtFst
	case rtOpt0NotStrict:
		if !c.Has(rtOpt0Addrs) {
			return xtables.Errorf("`--rt-0-addr ...' required before `--rt-0-not-strict'")
		}
		m.Flags |= rtFstNStrct
	}
	return nil
}

func appendRTAddrs(b []byte, addrs []netip.Addr) []byte {
	for i, a := range addrs {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		b = append(b, ip6String(a)...)
	}
	return b
}

func (m *RT) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " rt"...)
	if m.Flags&rtTyp != 0 {
		b = append(b, " type:"...)
		b = appendInvBang(b, m.InvFlags&rtInvTyp != 0)
		b = appendInt32(b, m.Type) // printed with %d
	}
	b = appendIDRange(b, " segsleft", m.SegsLeft[0], m.SegsLeft[1], m.InvFlags&rtInvSgs != 0)
	if m.Flags&rtLen != 0 {
		b = append(b, " length:"...)
		b = appendInvBang(b, m.InvFlags&rtInvLen != 0)
		b = appendU(b, uint64(m.HdrLen))
	}
	if m.Flags&rtRes != 0 {
		b = append(b, " reserved"...)
	}
	if m.Flags&rtFst != 0 {
		b = append(b, " 0-addrs"...)
	}
	b = appendRTAddrs(b, m.Addrs)
	if m.Flags&rtFstNStrct != 0 {
		b = append(b, " 0-not-strict"...)
	}
	return b
}

func (m *RT) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Flags&rtTyp != 0 {
		b = xtables.AppendInv(b, m.InvFlags&rtInvTyp != 0)
		b = append(b, " --rt-type "...)
		b = appendU(b, uint64(m.Type))
	}
	b = appendSaveRange(b, " --rt-segsleft ", m.SegsLeft, m.InvFlags&rtInvSgs != 0, ctx)
	if m.Flags&rtLen != 0 {
		b = xtables.AppendInv(b, m.InvFlags&rtInvLen != 0)
		b = append(b, " --rt-len "...)
		b = appendU(b, uint64(m.HdrLen))
	}
	if m.Flags&rtRes != 0 {
		b = append(b, " --rt-0-res"...)
	}
	if m.Flags&rtFst != 0 {
		b = append(b, " --rt-0-addrs"...)
	}
	b = appendRTAddrs(b, m.Addrs)
	if m.Flags&rtFstNStrct != 0 {
		b = append(b, " --rt-0-not-strict"...)
	}
	return b
}

// MatchPacket is rt_mt6 (ip6t_rt.c): segments left, length and type of
// the routing header, then for type 0 the reserved word and the address
// list (strict: exactly these, in order; not strict: these among them).
func (m *RT) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	_, ptr, _, err := IPv6FindHdr(d, nexthdrRouting, false)
	if err != FindOK {
		if err == FindBadMsg {
			st.HotDrop = true
		}
		return false
	}
	if ptr+4 > len(d) {
		st.HotDrop = true
		return false
	}
	rh := d[ptr:]
	hdrlen := (int(rh[1]) + 1) * 8
	if len(d)-ptr < hdrlen {
		return false // packet smaller than its length field
	}
	segs := uint32(rh[3])
	ret := (segs >= m.SegsLeft[0] && segs <= m.SegsLeft[1]) != (m.InvFlags&rtInvSgs != 0) &&
		(m.Flags&rtLen == 0 || (m.HdrLen == uint32(hdrlen)) != (m.InvFlags&rtInvLen != 0)) &&
		(m.Flags&rtTyp == 0 || (m.Type == uint32(rh[2])) != (m.InvFlags&rtInvTyp != 0))
	if ret && m.Flags&rtRes != 0 {
		ret = hdrlen >= 8 && be32(rh[4:]) == 0
	}
	if m.Flags&rtFst == 0 {
		return ret
	}
	slots := (hdrlen - 8) / 16
	if len(m.Addrs) > slots {
		return false
	}
	addr := func(i int) [16]byte { return [16]byte(rh[8+16*i : 24+16*i]) }
	if m.Flags&rtFstNStrct != 0 {
		j := 0
		for i := 0; i < slots && j < len(m.Addrs); i++ {
			if addr(i) == m.Addrs[j].As16() {
				j++
			}
		}
		if j == len(m.Addrs) {
			return ret
		}
		return false
	}
	i := 0
	for ; i < len(m.Addrs); i++ {
		if addr(i) != m.Addrs[i].As16() {
			break
		}
	}
	if i == len(m.Addrs) && i == slots {
		return ret
	}
	return false
}
