package iphdr

import (
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// ipv6header match (libip6t_ipv6header.c, ip6t_ipv6header.h).

const (
	v6hOptHeader uint = iota
	v6hOptSoft
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "ipv6header",
		Family: xtables.IPv6,
		Options: []xtables.Option{
			{Name: "header", ID: v6hOptHeader, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
			{Name: "soft", ID: v6hOptSoft, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &IPv6Header{} },
		Help: "ipv6header match options:\n" +
			"[!] --header headers     Type of header to match, by name\n" +
			"                         names: hop,dst,route,frag,auth,esp,none,prot\n" +
			"                    long names: hop-by-hop,ipv6-opts,ipv6-route,\n" +
			"                                ipv6-frag,ah,esp,ipv6-nonxt,protocol\n" +
			"                       numbers: 0,60,43,44,51,50,59\n" +
			"--soft                    The header CONTAINS the specified extensions\n",
	})
}

// IPv6Header is struct ip6t_ipv6header_info.
type IPv6Header struct {
	MatchFlags uint8
	InvFlags   uint8
	ModeFlag   uint8
}

// v6hProtos is chain_protos of the C file: the names known without
// /etc/protocols, in its order.
var v6hProtos = []struct {
	name string
	num  uint8
}{
	{"hop-by-hop", 0}, {"protocol", 255}, {"hop", 0}, {"dst", 60},
	{"route", 43}, {"frag", 44}, {"auth", 51}, {"esp", 50},
	{"none", 59}, {"prot", 255}, {"0", 0}, {"60", 60}, {"43", 43},
	{"44", 44}, {"51", 51}, {"50", 50}, {"59", 59}, {"255", 255},
}

// v6hFlags is chain_flags: header number to match bit, in print order.
var v6hFlags = []struct{ proto, flag uint8 }{
	{0, 128}, {60, 64}, {43, 32}, {44, 16}, {51, 8}, {50, 4}, {59, 2}, {255, 1},
}

func v6hNameToProto(s string, names xtables.Resolver) (int, error) {
	if names != nil {
		if p := names.ProtoByName(s); p >= 0 {
			return p, nil
		}
	}
	for _, p := range v6hProtos {
		if p.name == s {
			return int(p.num), nil
		}
	}
	return 0, xtables.Errorf("unknown header `%s' specified", s)
}

func v6hProtoName(p uint8, names xtables.Resolver) string {
	if p != 0 && names != nil {
		if n := names.ProtoName(p); n != "" {
			return n
		}
	}
	for _, c := range v6hProtos {
		if c.num == p {
			return c.name
		}
	}
	return ""
}

func (m *IPv6Header) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case v6hOptHeader:
		var flags uint8
		for _, tok := range strings.Split(c.Arg, ",") {
			if tok == "" { // strtok skips empty fields
				continue
			}
			p, err := v6hNameToProto(tok, c.Ctx.Names)
			if err != nil {
				return err
			}
			found := false
			for _, f := range v6hFlags {
				if int(f.proto) == p {
					flags |= f.flag
					found = true
					break
				}
			}
			if !found {
				return xtables.Errorf("unknown header `%s' specified", strconv.Itoa(p))
			}
		}
		if flags == 0 {
			return xtables.Errorf("ip6t_ipv6header: cannot parse header names")
		}
		m.MatchFlags = flags
		if c.Invert {
			m.InvFlags |= 0xff
		}
	case v6hOptSoft:
		m.ModeFlag |= 0xff
	}
	return nil
}

func appendV6Headers(b []byte, flags uint8, names xtables.Resolver) []byte {
	if flags == 0 {
		return append(b, "NONE"...)
	}
	first := true
	for _, f := range v6hFlags {
		if flags&f.flag == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, v6hProtoName(f.proto, names)...)
	}
	return b
}

func (m *IPv6Header) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ipv6header"...)
	if m.MatchFlags != 0 || m.InvFlags != 0 {
		b = append(b, " flags:"...)
		b = appendInvBang(b, m.InvFlags != 0)
		if ctx.Numeric {
			b = append(b, "0x"...)
			const hex = "0123456789ABCDEF"
			b = append(b, hex[m.MatchFlags>>4], hex[m.MatchFlags&15])
		} else {
			b = appendV6Headers(b, m.MatchFlags, ctx.Names)
		}
	}
	if m.ModeFlag != 0 {
		b = append(b, " soft"...)
	}
	return b
}

func (m *IPv6Header) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.InvFlags != 0)
	b = append(b, " --header "...)
	b = appendV6Headers(b, m.MatchFlags, ctx.Names)
	if m.ModeFlag != 0 {
		b = append(b, " --soft"...)
	}
	return b
}

// ip6t_ext_hdr of ip6t_ipv6header.c: the extension headers plus ESP.
func ip6tExtHdr(nh uint8) bool {
	return isIPv6ExtHdr(nh) || nh == nexthdrESP
}

// MatchPacket is ipv6header_mt6 (ip6t_ipv6header.c): the set of headers
// in the chain; exactly that set, or with --soft at least those.
func (m *IPv6Header) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	if len(d) < 40 {
		return false
	}
	nexthdr := d[6]
	ptr := 40
	length := len(d) - ptr
	var temp uint8
	for ip6tExtHdr(nexthdr) {
		if nexthdr == nexthdrNone {
			temp |= 2 // MASK_NONE
			break
		}
		if length < 2 {
			return false
		}
		if nexthdr == nexthdrESP {
			temp |= 4 // MASK_ESP
			break
		}
		if ptr+2 > len(d) {
			st.HotDrop = true
			return false
		}
		var hdrlen int
		switch nexthdr {
		case nexthdrFragment:
			hdrlen = 8
		case nexthdrAuth:
			hdrlen = (int(d[ptr+1]) + 2) << 2
		default:
			hdrlen = (int(d[ptr+1]) + 1) * 8
		}
		switch nexthdr {
		case nexthdrHop:
			temp |= 128
		case nexthdrRouting:
			temp |= 32
		case nexthdrFragment:
			temp |= 16
		case nexthdrAuth:
			temp |= 8
		case nexthdrDest:
			temp |= 64
		default:
			return false
		}
		nexthdr = d[ptr]
		length -= hdrlen
		ptr += hdrlen
		if ptr > len(d) {
			break
		}
	}
	if nexthdr != nexthdrNone && nexthdr != nexthdrESP {
		temp |= 1 // MASK_PROTO
	}
	if m.ModeFlag != 0 {
		return (temp^m.MatchFlags^m.InvFlags)&m.MatchFlags == 0
	}
	if m.InvFlags != 0 {
		return temp != m.MatchFlags
	}
	return temp == m.MatchFlags
}
