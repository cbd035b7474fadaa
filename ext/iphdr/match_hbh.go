package iphdr

import (
	"math"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// hbh and dst matches (libip6t_hbh.c, libip6t_dst.c, ip6t_opts.h): the
// same struct and parser, with their own names and a few wording
// differences.

const (
	optsOptLen uint = iota
	optsOptOpts
)

// Flags and invflags of struct ip6t_opts.
const (
	optsLen    = 0x01
	optsOpts   = 0x02
	optsInvLen = 0x01
	optsMax    = 16 // IP6T_OPTS_OPTSNR
)

func optsOptions(p string) []xtables.Option {
	return []xtables.Option{
		{Name: p + "-len", ID: optsOptLen, Type: xtables.TypeUint32, Flags: xtables.Invert},
		{Name: p + "-opts", ID: optsOptOpts, Type: xtables.TypeString},
	}
}

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:    "hbh",
		Family:  xtables.IPv6,
		Options: optsOptions("hbh"),
		New:     func() xtables.MatchInfo { return &Opts{name: "hbh"} },
		Help: "hbh match options:\n" +
			"[!] --hbh-len length            total length of this header\n" +
			"  --hbh-opts TYPE[:LEN][,TYPE[:LEN]...] \n" +
			"                                Options and its length (list, max: 16)\n",
	})
	xtables.RegisterMatch(&xtables.MatchType{
		Name:    "dst",
		Family:  xtables.IPv6,
		Options: optsOptions("dst"),
		New:     func() xtables.MatchInfo { return &Opts{name: "dst"} },
		Help: "dst match options:\n" +
			"[!] --dst-len length            total length of this header\n" +
			"  --dst-opts TYPE[:LEN][,TYPE[:LEN]...]\n" +
			"                                Options and its length (list, max: 16)\n",
	})
}

// Opts is struct ip6t_opts; Opts[i] is type<<8 | length, length 0xff
// meaning "any".
type Opts struct {
	HdrLen   uint32
	Flags    uint8
	InvFlags uint8
	Opts     []uint16 // at most 16 (opts[], optsnr)
	name     string
}

// parseOptsNum is parse_opts_num: strtoul base 0, so "-1" is accepted
// (and wraps), and an empty string has no digits.
func (m *Opts) parseOptsNum(s, what string) (uint64, error) {
	v, rest, ok, overflow := cStrtoul(s, 0)
	if !ok {
		return 0, xtables.Errorf("%s: no valid digits in %s `%s'", m.name, what, s)
	}
	if overflow && v == math.MaxUint64 {
		return 0, xtables.Errorf("%s `%s' specified too big: would overflow", what, s)
	}
	if s != "" && rest != "" {
		return 0, xtables.Errorf("%s: error parsing %s `%s'", m.name, what, s)
	}
	return v, nil
}

// parseOpts is parse_options.
func (m *Opts) parseOpts(s string) ([]uint16, error) {
	var out []uint16
	rest, more := s, true
	for more && len(out) < optsMax {
		cp := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			cp, rest = rest[:i], rest[i+1:]
		} else {
			more = false
		}
		var rng string
		hasRange := false
		if i := strings.IndexByte(cp, ':'); i >= 0 {
			if len(out) == optsMax-1 {
				return nil, xtables.Errorf("too many ports specified")
			}
			cp, rng, hasRange = cp[:i], cp[i+1:], true
		}
		v, err := m.parseOptsNum(cp, "opt")
		if err != nil {
			return nil, err
		}
		o := uint16(v&0xff) << 8
		if hasRange {
			if o == 0 {
				if m.name == "dst" {
					return nil, xtables.Errorf("PAD0 hasn't got length")
				}
				return nil, xtables.Errorf("PAD0 has not got length")
			}
			l, err := m.parseOptsNum(rng, "length")
			if err != nil {
				return nil, err
			}
			o |= uint16(l & 0xff)
		} else {
			o |= 0xff
		}
		out = append(out, o)
	}
	if more {
		return nil, xtables.Errorf("too many addresses specified")
	}
	return out, nil
}

func (m *Opts) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case optsOptLen:
		m.HdrLen = uint32(c.Val.U64)
		if c.Invert {
			m.InvFlags |= optsInvLen
		}
		m.Flags |= optsLen
	case optsOptOpts:
		o, err := m.parseOpts(c.Arg)
		if err != nil {
			return err
		}
		m.Opts = o
		m.Flags |= optsOpts
	}
	return nil
}

func appendOptsList(b []byte, opts []uint16) []byte {
	for i, o := range opts {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		b = appendU(b, uint64(o>>8))
		if o&0xff != 0xff {
			b = append(b, ':')
			b = appendU(b, uint64(o&0xff))
		}
	}
	return b
}

func (m *Opts) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, ' ')
	b = append(b, m.name...)
	if m.Flags&optsLen != 0 {
		b = append(b, " length:"...)
		b = appendInvBang(b, m.InvFlags&optsInvLen != 0)
		b = appendU(b, uint64(m.HdrLen))
	}
	if m.Flags&optsOpts != 0 {
		b = append(b, " opts"...)
	}
	return appendOptsList(b, m.Opts)
}

func (m *Opts) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Flags&optsLen != 0 {
		b = xtables.AppendInv(b, m.InvFlags&optsInvLen != 0)
		b = append(b, " --"+m.name+"-len "...)
		b = appendU(b, uint64(m.HdrLen))
	}
	if m.Flags&optsOpts != 0 {
		b = append(b, " --"+m.name+"-opts"...)
	}
	return appendOptsList(b, m.Opts)
}

// MatchPacket is hbh_mt6 (ip6t_hbh.c, for hbh and dst): the header's
// length, then the options in order ("strict": the listed options must be
// the first ones, each type and, where given, length).
func (m *Opts) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	target := nexthdrHop
	if m.name == "dst" {
		target = nexthdrDest
	}
	_, ptr, _, err := IPv6FindHdr(d, target, false)
	if err != FindOK {
		if err == FindBadMsg {
			st.HotDrop = true
		}
		return false
	}
	if ptr+2 > len(d) {
		st.HotDrop = true
		return false
	}
	hdrlen := (int(d[ptr+1]) + 1) * 8
	if len(d)-ptr < hdrlen {
		return false // packet smaller than its length field
	}
	ret := m.Flags&optsLen == 0 || (m.HdrLen == uint32(hdrlen)) != (m.InvFlags&optsInvLen != 0)
	if m.Flags&optsOpts == 0 {
		return ret
	}
	ptr += 2
	hdrlen -= 2
	n := len(m.Opts)
	i := 0
	for ; i < n; i++ {
		if hdrlen < 1 || ptr >= len(d) {
			break
		}
		typ := d[ptr]
		if typ != uint8(m.Opts[i]>>8) {
			return false
		}
		optlen := 1
		if typ != 0 {
			if hdrlen < 2 || ptr+1 >= len(d) {
				break
			}
			l := d[ptr+1]
			if spec := m.Opts[i] & 0xff; spec != 0xff && spec != uint16(l) {
				return false
			}
			optlen = int(l) + 2
		}
		if (ptr > len(d)-optlen || hdrlen < optlen) && i < n-1 {
			break
		}
		ptr += optlen
		hdrlen -= optlen
	}
	return i == n && ret
}
