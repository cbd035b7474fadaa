package iphdr

import (
	"net/netip"

	"github.com/iptwin/iptwin/xtables"
)

// srh match, revision 1 (libip6t_srh.c, ip6t_srh.h struct ip6t_srh1).

const (
	srhOptNextHdr uint = iota
	srhOptLenEq
	srhOptLenGt
	srhOptLenLt
	srhOptSegsEq
	srhOptSegsGt
	srhOptSegsLt
	srhOptLastEq
	srhOptLastGt
	srhOptLastLt
	srhOptTag
	srhOptPSID
	srhOptNSID
	srhOptLSID
)

// The mt_flags / mt_invflags bit of option id i is 1<<i (IP6T_SRH_*).

func init() {
	inv := xtables.Invert
	u8 := xtables.TypeUint8
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "srh",
		Revision: 1,
		Family:   xtables.IPv6,
		Options: []xtables.Option{
			{Name: "srh-next-hdr", ID: srhOptNextHdr, Type: u8, Flags: inv},
			{Name: "srh-hdr-len-eq", ID: srhOptLenEq, Type: u8, Flags: inv},
			{Name: "srh-hdr-len-gt", ID: srhOptLenGt, Type: u8, Flags: inv},
			{Name: "srh-hdr-len-lt", ID: srhOptLenLt, Type: u8, Flags: inv},
			{Name: "srh-segs-left-eq", ID: srhOptSegsEq, Type: u8, Flags: inv},
			{Name: "srh-segs-left-gt", ID: srhOptSegsGt, Type: u8, Flags: inv},
			{Name: "srh-segs-left-lt", ID: srhOptSegsLt, Type: u8, Flags: inv},
			{Name: "srh-last-entry-eq", ID: srhOptLastEq, Type: u8, Flags: inv},
			{Name: "srh-last-entry-gt", ID: srhOptLastGt, Type: u8, Flags: inv},
			{Name: "srh-last-entry-lt", ID: srhOptLastLt, Type: u8, Flags: inv},
			{Name: "srh-tag", ID: srhOptTag, Type: xtables.TypeUint16, Flags: inv},
			{Name: "srh-psid", ID: srhOptPSID, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "srh-nsid", ID: srhOptNSID, Type: xtables.TypeHostMask, Flags: inv},
			{Name: "srh-lsid", ID: srhOptLSID, Type: xtables.TypeHostMask, Flags: inv},
		},
		New: func() xtables.MatchInfo { return &SRH{} },
		Help: "srh match options:\n" +
			"[!] --srh-next-hdr\t\tnext-hdr        Next Header value of SRH\n" +
			"[!] --srh-hdr-len-eq\t\thdr_len         Hdr Ext Len value of SRH\n" +
			"[!] --srh-hdr-len-gt\t\thdr_len         Hdr Ext Len value of SRH\n" +
			"[!] --srh-hdr-len-lt\t\thdr_len         Hdr Ext Len value of SRH\n" +
			"[!] --srh-segs-left-eq\t\tsegs_left       Segments Left value of SRH\n" +
			"[!] --srh-segs-left-gt\t\tsegs_left       Segments Left value of SRH\n" +
			"[!] --srh-segs-left-lt\t\tsegs_left       Segments Left value of SRH\n" +
			"[!] --srh-last-entry-eq \tlast_entry      Last Entry value of SRH\n" +
			"[!] --srh-last-entry-gt \tlast_entry      Last Entry value of SRH\n" +
			"[!] --srh-last-entry-lt \tlast_entry      Last Entry value of SRH\n" +
			"[!] --srh-tag\t\t\ttag             Tag value of SRH\n" +
			"[!] --srh-psid\t\t\taddr[/mask]\tSRH previous SID\n" +
			"[!] --srh-nsid\t\t\taddr[/mask]\tSRH next SID\n" +
			"[!] --srh-lsid\t\t\taddr[/mask]\tSRH Last SID\n",
	})
}

// SRH is struct ip6t_srh1. The -eq/-gt/-lt variants of a field share it:
// the last one given sets the value.
type SRH struct {
	NextHdr, HdrLen, SegsLeft, LastEntry uint8
	Tag                                  uint16
	PSIDAddr, NSIDAddr, LSIDAddr         netip.Addr
	PSIDMask, NSIDMask, LSIDMask         netip.Addr
	Flags, InvFlags                      uint16
}

func (m *SRH) Parse(c *xtables.OptionCall) error {
	id := c.Opt.ID
	v := uint8(c.Val.U64)
	switch id {
	case srhOptNextHdr:
		m.NextHdr = v
	case srhOptLenEq, srhOptLenGt, srhOptLenLt:
		m.HdrLen = v
	case srhOptSegsEq, srhOptSegsGt, srhOptSegsLt:
		m.SegsLeft = v
	case srhOptLastEq, srhOptLastGt, srhOptLastLt:
		m.LastEntry = v
	case srhOptTag:
		m.Tag = uint16(c.Val.U64)
	case srhOptPSID:
		m.PSIDAddr, m.PSIDMask = c.Val.Addr, c.Val.Mask
	case srhOptNSID:
		m.NSIDAddr, m.NSIDMask = c.Val.Addr, c.Val.Mask
	case srhOptLSID:
		m.LSIDAddr, m.LSIDMask = c.Val.Addr, c.Val.Mask
	}
	m.Flags |= 1 << id
	if c.Invert {
		m.InvFlags |= 1 << id
	}
	return nil
}

var srhNames = [...]string{
	"next-hdr", "hdr-len-eq", "hdr-len-gt", "hdr-len-lt",
	"segs-left-eq", "segs-left-gt", "segs-left-lt",
	"last-entry-eq", "last-entry-gt", "last-entry-lt", "tag",
	"psid", "nsid", "lsid",
}

func (m *SRH) value(id uint) uint64 {
	switch {
	case id == srhOptNextHdr:
		return uint64(m.NextHdr)
	case id <= srhOptLenLt:
		return uint64(m.HdrLen)
	case id <= srhOptSegsLt:
		return uint64(m.SegsLeft)
	case id <= srhOptLastLt:
		return uint64(m.LastEntry)
	}
	return uint64(m.Tag)
}

func (m *SRH) sid(id uint) (netip.Addr, netip.Addr) {
	switch id {
	case srhOptPSID:
		return m.PSIDAddr, m.PSIDMask
	case srhOptNSID:
		return m.NSIDAddr, m.NSIDMask
	}
	return m.LSIDAddr, m.LSIDMask
}

func (m *SRH) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " srh"...)
	for id := srhOptNextHdr; id <= srhOptLSID; id++ {
		if m.Flags&(1<<id) == 0 {
			continue
		}
		inv := m.InvFlags&(1<<id) != 0
		b = append(b, ' ')
		b = append(b, srhNames[id]...)
		if id < srhOptPSID {
			b = append(b, ':')
			b = appendInvBang(b, inv)
			b = appendU(b, m.value(id))
			continue
		}
		// " psid %s %s/%u": two spaces when not inverted.
		b = append(b, ' ')
		b = appendInvBang(b, inv)
		a, mask := m.sid(id)
		b = append(b, ' ')
		b = append(b, ip6String(a)...)
		b = append(b, '/')
		b = appendU(b, maskCIDR6(mask))
	}
	return b
}

func (m *SRH) Save(b []byte, ctx *xtables.Context) []byte {
	for id := srhOptNextHdr; id <= srhOptLSID; id++ {
		if m.Flags&(1<<id) == 0 {
			continue
		}
		b = xtables.AppendInv(b, m.InvFlags&(1<<id) != 0)
		b = append(b, " --srh-"...)
		b = append(b, srhNames[id]...)
		b = append(b, ' ')
		if id < srhOptPSID {
			b = appendU(b, m.value(id))
			continue
		}
		a, mask := m.sid(id)
		b = append(b, ip6String(a)...)
		b = append(b, '/')
		b = appendU(b, maskCIDR6(mask))
	}
	return b
}

// maskedDiffers is ipv6_masked_addr_cmp != 0.
func maskedDiffers(b []byte, addr, mask netip.Addr) bool {
	a, m := addr.As16(), mask.As16()
	for i := 0; i < 16; i++ {
		if (b[i]^a[i])&m[i] != 0 {
			return true
		}
	}
	return false
}

// MatchPacket is srh1_mt6 (ip6t_srh.c): a type 4 routing header whose
// fields pass every given test; a SID beyond the packet never matches.
func (m *SRH) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	_, off, _, err := IPv6FindHdr(d, nexthdrRouting, false)
	if err != FindOK || off+8 > len(d) {
		return false
	}
	srh := d[off : off+8]
	hdrlen := (int(srh[1]) + 1) * 8
	if len(d)-off < hdrlen || srh[2] != 4 || srh[3] > srh[4] {
		return false
	}
	// fails reports whether test id fails: its condition, inverted.
	fails := func(id uint, cond bool) bool {
		return m.Flags&(1<<id) != 0 && cond == (m.InvFlags&(1<<id) != 0)
	}
	segs, last := srh[3], srh[4]
	if fails(srhOptNextHdr, srh[0] == m.NextHdr) ||
		fails(srhOptLenEq, srh[1] == m.HdrLen) ||
		fails(srhOptLenGt, srh[1] > m.HdrLen) ||
		fails(srhOptLenLt, srh[1] < m.HdrLen) ||
		fails(srhOptSegsEq, segs == m.SegsLeft) ||
		fails(srhOptSegsGt, segs > m.SegsLeft) ||
		fails(srhOptSegsLt, segs < m.SegsLeft) ||
		fails(srhOptLastEq, last == m.LastEntry) ||
		fails(srhOptLastGt, last > m.LastEntry) ||
		fails(srhOptLastLt, last < m.LastEntry) ||
		fails(srhOptTag, be16(srh[6:]) == m.Tag) {
		return false
	}
	sid := func(i int) []byte {
		at := off + 8 + 16*i
		if at+16 > len(d) {
			return nil
		}
		return d[at : at+16]
	}
	if m.Flags&(1<<srhOptPSID) != 0 {
		if segs == last {
			return false
		}
		s := sid(int(segs) + 1)
		if s == nil || fails(srhOptPSID, !maskedDiffers(s, m.PSIDAddr, m.PSIDMask)) {
			return false
		}
	}
	if m.Flags&(1<<srhOptNSID) != 0 {
		if segs == 0 {
			return false
		}
		s := sid(int(segs) - 1)
		if s == nil || fails(srhOptNSID, !maskedDiffers(s, m.NSIDAddr, m.NSIDMask)) {
			return false
		}
	}
	if m.Flags&(1<<srhOptLSID) != 0 {
		s := sid(0)
		if s == nil || fails(srhOptLSID, !maskedDiffers(s, m.LSIDAddr, m.LSIDMask)) {
			return false
		}
	}
	return true
}
