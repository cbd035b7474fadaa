package l4

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// multiport match, revision 1 (libxt_multiport.c, struct xt_multiport_v1):
// up to 15 ports, a range taking two slots.

const (
	mpOptSource uint = iota
	mpOptDest
	mpOptEither
)

const (
	mpSource = iota // XT_MULTIPORT_SOURCE
	mpDest
	mpEither
)

const multiPorts = 15 // XT_MULTI_PORTS

func init() {
	const any = 1<<mpOptSource | 1<<mpOptDest | 1<<mpOptEither
	inv := xtables.Invert
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "multiport",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "source-ports", ID: mpOptSource, Type: xtables.TypeString, Flags: inv, Excl: any},
			{Name: "sports", ID: mpOptSource, Type: xtables.TypeString, Flags: inv, Excl: any},
			{Name: "destination-ports", ID: mpOptDest, Type: xtables.TypeString, Flags: inv, Excl: any},
			{Name: "dports", ID: mpOptDest, Type: xtables.TypeString, Flags: inv, Excl: any},
			{Name: "ports", ID: mpOptEither, Type: xtables.TypeString, Flags: inv, Excl: any},
		},
		New: func() xtables.MatchInfo { return &Multiport{} },
		Help: "multiport match options:\n" +
			"[!] --source-ports port[,port:port,port...]\n" +
			" --sports ...\n" +
			"\t\t\t\tmatch source port(s)\n" +
			"[!] --destination-ports port[,port:port,port...]\n" +
			" --dports ...\n" +
			"\t\t\t\tmatch destination port(s)\n" +
			"[!] --ports port[,port:port,port]\n" +
			"\t\t\t\tmatch both source and destination port(s)\n",
	})
}

// Multiport is struct xt_multiport_v1.
type Multiport struct {
	Flags  uint8
	Count  uint8
	Ports  [multiPorts]uint16
	PFlags [multiPorts]uint8
	Invert uint8
}

// multiportProtoName is the extension's own proto_to_name.
func multiportProtoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 136:
		return "udplite"
	case 132:
		return "sctp"
	case 33:
		return "dccp"
	}
	return ""
}

// multiportCheckProto is check_proto: the ports are looked up for the
// rule's protocol, which must be given (as far as argv was read) and one
// of those with ports.
func multiportCheckProto(h *xtables.Header) (string, error) {
	var proto, inv uint8
	if h != nil {
		proto, inv = h.Proto, h.Inv
	}
	if inv&xtables.InvProto != 0 {
		return "", xtables.Errorf("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
	}
	if name := multiportProtoName(proto); name != "" {
		return name, nil
	}
	if proto == 0 {
		return "", xtables.Errorf("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
	}
	return "", xtables.Errorf("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
}

func (m *Multiport) Parse(c *xtables.OptionCall) error {
	proto, err := multiportCheckProto(c.Ctx.Header)
	if err != nil {
		return err
	}
	if err := m.parsePorts(c.Arg, proto, c.Ctx.Names); err != nil {
		return err
	}
	switch c.Opt.ID {
	case mpOptSource:
		m.Flags = mpSource
	case mpOptDest:
		m.Flags = mpDest
	case mpOptEither:
		m.Flags = mpEither
	}
	if c.Invert {
		m.Invert = 1
	}
	return nil
}

// parsePorts is parse_multi_ports_v1.
func (m *Multiport) parsePorts(s, proto string, names xtables.Resolver) error {
	m.PFlags = [multiPorts]uint8{}
	rest, more := s, true
	i := 0
	for ; more && i < multiPorts; i++ {
		var cp string
		if k := strings.IndexByte(rest, ','); k >= 0 {
			cp, rest = rest[:k], rest[k+1:]
		} else {
			cp, more = rest, false
		}
		lo, hi, isRange := cp, "", false
		if k := strings.IndexByte(cp, ':'); k >= 0 {
			if i == multiPorts-1 {
				return xtables.Errorf("too many ports specified")
			}
			lo, hi, isRange = cp[:k], cp[k+1:], true
		}
		p, err := xtables.ParsePort(lo, proto, names)
		if err != nil {
			return err
		}
		m.Ports[i] = p
		if isRange {
			m.PFlags[i] = 1
			i++
			if m.Ports[i], err = xtables.ParsePort(hi, proto, names); err != nil {
				return err
			}
			if m.Ports[i-1] >= m.Ports[i] {
				return xtables.Errorf("invalid portrange specified")
			}
		}
	}
	m.Count = uint8(i)
	if more {
		return xtables.Errorf("too many ports specified")
	}
	return nil
}

func (m *Multiport) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("multiport expection an option")
	}
	return nil
}

// appendList prints the port list; numeric or not, names are those of
// the rule's protocol.
func (m *Multiport) appendList(b []byte, ctx *xtables.Context, numeric bool) []byte {
	var proto uint8
	if ctx.Header != nil {
		proto = ctx.Header.Proto
	}
	pctx := *ctx
	pctx.Numeric = numeric
	pname := multiportProtoName(proto)
	n := int(m.Count)
	if n > multiPorts {
		n = multiPorts
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = xtables.AppendPort(b, m.Ports[i], pname, &pctx)
		if m.PFlags[i] != 0 && i+1 < multiPorts {
			i++
			b = append(b, ':')
			b = xtables.AppendPort(b, m.Ports[i], pname, &pctx)
		}
	}
	return b
}

func (m *Multiport) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " multiport "...)
	switch m.Flags {
	case mpSource:
		b = append(b, "sports "...)
	case mpDest:
		b = append(b, "dports "...)
	case mpEither:
		b = append(b, "ports "...)
	default:
		b = append(b, "ERROR "...)
	}
	if m.Invert != 0 {
		b = append(b, " !"...)
	}
	return m.appendList(b, ctx, ctx.Numeric)
}

func (m *Multiport) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Invert != 0 {
		b = append(b, " !"...)
	}
	switch m.Flags {
	case mpSource:
		b = append(b, " --sports "...)
	case mpDest:
		b = append(b, " --dports "...)
	case mpEither:
		b = append(b, " --ports "...)
	}
	return m.appendList(b, ctx, true)
}

// MatchPacket is multiport_mt (xt_multiport.c, ports_match_v1): the first
// entry that contains a port decides, inverted; none gives the inversion.
func (m *Multiport) MatchPacket(st *xtables.PacketState) bool {
	in := nftPktinfo(st)
	if in.fragoff != 0 {
		return false
	}
	pp := in.header(4)
	if pp == nil {
		st.HotDrop = true
		return false
	}
	src, dst := be16(pp), be16(pp[2:])
	inv := m.Invert != 0
	n := int(m.Count)
	if n > multiPorts {
		n = multiPorts
	}
	for i := 0; i < n; i++ {
		s, e := m.Ports[i], m.Ports[i]
		if m.PFlags[i] != 0 {
			i++
			if i < multiPorts {
				e = m.Ports[i]
			}
		}
		switch m.Flags {
		case mpSource:
			if src >= s && src <= e {
				return !inv
			}
		case mpDest:
			if dst >= s && dst <= e {
				return !inv
			}
		case mpEither:
			if src >= s && src <= e || dst >= s && dst <= e {
				return !inv
			}
		}
	}
	return inv
}
