package iphdr

import "github.com/iptwin/iptwin/xtables"

// ttl match (libipt_ttl.c, ipt_ttl.h) and its IPv6 twin hl (libip6t_hl.c,
// ip6t_hl.h): one struct, mode then value.

const (
	ttlOptEq uint = iota
	ttlOptLt
	ttlOptGt
)

// Modes of struct ipt_ttl_info / ip6t_hl_info.
const (
	ttlModeEq = iota
	ttlModeNe
	ttlModeLt
	ttlModeGt
)

func ttlOptions(p string) []xtables.Option {
	const any = 1<<ttlOptEq | 1<<ttlOptLt | 1<<ttlOptGt
	// "--ttl" shares the id of "--ttl-eq": like libxtables, the core looks
	// options up by id, so it gets the flags of the first entry anyway.
	return []xtables.Option{
		{Name: p + "-lt", ID: ttlOptLt, Type: xtables.TypeUint8, Excl: any},
		{Name: p + "-gt", ID: ttlOptGt, Type: xtables.TypeUint8, Excl: any},
		{Name: p + "-eq", ID: ttlOptEq, Type: xtables.TypeUint8, Excl: any, Flags: xtables.Invert},
		{Name: p, ID: ttlOptEq, Type: xtables.TypeUint8, Excl: any, Flags: xtables.Invert},
	}
}

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:    "ttl",
		Family:  xtables.IPv4,
		Options: ttlOptions("ttl"),
		New:     func() xtables.MatchInfo { return &TTL{hl: false} },
		Help: "ttl match options:\n" +
			"[!] --ttl-eq value\tMatch time to live value\n" +
			"  --ttl-lt value\tMatch TTL < value\n" +
			"  --ttl-gt value\tMatch TTL > value\n",
	})
	xtables.RegisterMatch(&xtables.MatchType{
		Name:    "hl",
		Family:  xtables.IPv6,
		Options: ttlOptions("hl"),
		New:     func() xtables.MatchInfo { return &TTL{hl: true} },
		Help: "hl match options:\n" +
			"[!] --hl-eq value\tMatch hop limit value\n" +
			"  --hl-lt value\tMatch HL < value\n" +
			"  --hl-gt value\tMatch HL > value\n",
	})
}

// TTL is struct ipt_ttl_info (ttl) or ip6t_hl_info (hl).
type TTL struct {
	Mode  uint8
	Value uint8
	hl    bool
}

func (m *TTL) Parse(c *xtables.OptionCall) error {
	m.Value = uint8(c.Val.U64)
	switch c.Opt.ID {
	case ttlOptEq:
		m.Mode = ttlModeEq
		if c.Invert {
			m.Mode = ttlModeNe
		}
	case ttlOptLt:
		m.Mode = ttlModeLt
	case ttlOptGt:
		m.Mode = ttlModeGt
	}
	return nil
}

func (m *TTL) Final(f *xtables.FinalCall) error {
	if f.XFlags&(1<<ttlOptEq|1<<ttlOptLt|1<<ttlOptGt) != 0 {
		return nil
	}
	if m.hl {
		return xtables.Errorf("HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'")
	}
	return xtables.Errorf("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt")
}

var ttlOps = [4]string{"==", "!=", "<", ">"}

func (m *TTL) Print(b []byte, ctx *xtables.Context) []byte {
	if m.hl {
		b = append(b, " HL match HL "...)
		b = append(b, ttlOps[m.Mode&3]...)
		b = append(b, ' ')
		return appendU(b, uint64(m.Value))
	}
	b = append(b, " TTL match TTL "...)
	b = append(b, ttlOps[m.Mode&3]...)
	b = append(b, ' ')
	return appendU(b, uint64(m.Value))
}

func (m *TTL) Save(b []byte, ctx *xtables.Context) []byte {
	p := " --ttl"
	if m.hl {
		p = " --hl"
	}
	switch m.Mode {
	case ttlModeNe:
		b = append(b, " !"...)
		fallthrough
	case ttlModeEq:
		b = append(b, p+"-eq"...)
	case ttlModeLt:
		b = append(b, p+"-lt"...)
	case ttlModeGt:
		b = append(b, p+"-gt"...)
	}
	b = append(b, ' ')
	return appendU(b, uint64(m.Value))
}

// MatchPacket is ttl_mt (ipt_ttl.c) or hl_mt6 (ip6t_hl.c).
func (m *TTL) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	var v uint8
	switch {
	case st.Family == xtables.IPv6 && len(d) >= 8:
		v = d[7]
	case st.Family != xtables.IPv6 && len(d) >= 9:
		v = d[8]
	default:
		return false
	}
	switch m.Mode {
	case ttlModeEq:
		return v == m.Value
	case ttlModeNe:
		return v != m.Value
	case ttlModeLt:
		return v < m.Value
	case ttlModeGt:
		return v > m.Value
	}
	return false
}
