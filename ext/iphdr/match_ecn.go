package iphdr

import "github.com/iptwin/iptwin/xtables"

// ecn match (libxt_ecn.c, xt_ecn.h).

const (
	ecnOptCWR uint = iota
	ecnOptECE
	ecnOptECT
)

// Operation and invert bits of struct xt_ecn_info.
const (
	ecnMatchIP  = 0x01
	ecnMatchECE = 0x10
	ecnMatchCWR = 0x20
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "ecn",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "ecn-tcp-cwr", ID: ecnOptCWR, Type: xtables.TypeNone, Flags: xtables.Invert},
			{Name: "ecn-tcp-ece", ID: ecnOptECE, Type: xtables.TypeNone, Flags: xtables.Invert},
			{Name: "ecn-ip-ect", ID: ecnOptECT, Type: xtables.TypeUint8, Max: 3, Flags: xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &ECN{} },
		Help: "ECN match options\n" +
			"[!] --ecn-tcp-cwr \t\tMatch CWR bit of TCP header\n" +
			"[!] --ecn-tcp-ece\t\tMatch ECE bit of TCP header\n" +
			"[!] --ecn-ip-ect [0..3]\tMatch ECN codepoint in IPv4/IPv6 header\n",
	})
}

// ECN is struct xt_ecn_info.
type ECN struct {
	Operation uint8
	Invert    uint8
	IPECT     uint8
}

func (m *ECN) Parse(c *xtables.OptionCall) error {
	var bit uint8
	switch c.Opt.ID {
	case ecnOptCWR:
		bit = ecnMatchCWR
	case ecnOptECE:
		bit = ecnMatchECE
	case ecnOptECT:
		bit = ecnMatchIP
		m.IPECT = uint8(c.Val.U64)
	}
	m.Operation |= bit
	if c.Invert {
		m.Invert |= bit
	}
	return nil
}

func (m *ECN) Final(f *xtables.FinalCall) error {
	if f.XFlags == 0 {
		return xtables.Errorf("ECN match: some option required")
	}
	return nil
}

// Check is ecn_mt_check4/6: the TCP bits need "-p tcp", not inverted.
func (m *ECN) Check(ctx *xtables.Context) error {
	if m.Operation&(ecnMatchECE|ecnMatchCWR) != 0 && ctx.Header != nil &&
		(ctx.Header.Proto != 6 || ctx.Header.Inv&xtables.InvProto != 0) {
		return xtables.ErrInvalidArgument
	}
	return nil
}

func (m *ECN) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " ECN match"...)
	if m.Operation&ecnMatchECE != 0 {
		b = append(b, ' ')
		b = appendInvBang(b, m.Invert&ecnMatchECE != 0)
		b = append(b, "ECE"...)
	}
	if m.Operation&ecnMatchCWR != 0 {
		b = append(b, ' ')
		b = appendInvBang(b, m.Invert&ecnMatchCWR != 0)
		b = append(b, "CWR"...)
	}
	if m.Operation&ecnMatchIP != 0 {
		b = append(b, ' ')
		b = appendInvBang(b, m.Invert&ecnMatchIP != 0)
		b = append(b, "ECT="...)
		b = appendU(b, uint64(m.IPECT))
	}
	return b
}

func (m *ECN) Save(b []byte, ctx *xtables.Context) []byte {
	if m.Operation&ecnMatchECE != 0 {
		b = xtables.AppendInv(b, m.Invert&ecnMatchECE != 0)
		b = append(b, " --ecn-tcp-ece"...)
	}
	if m.Operation&ecnMatchCWR != 0 {
		b = xtables.AppendInv(b, m.Invert&ecnMatchCWR != 0)
		b = append(b, " --ecn-tcp-cwr"...)
	}
	if m.Operation&ecnMatchIP != 0 {
		b = xtables.AppendInv(b, m.Invert&ecnMatchIP != 0)
		b = append(b, " --ecn-ip-ect "...)
		b = appendU(b, uint64(m.IPECT))
	}
	return b
}

// MatchPacket is ecn_mt4/ecn_mt6 (xt_ecn.c): the ECN field of the IP
// header, then the ECE and CWR bits of the TCP header at the transport
// offset (no fragment check: the rule's -p tcp is all it relies on). A
// TCP header not all there does not match.
func (m *ECN) MatchPacket(st *xtables.PacketState) bool {
	d := pktData(st)
	if m.Operation&ecnMatchIP != 0 {
		ds, ok := dsfield(st)
		if !ok || (ds&3 == m.IPECT) == (m.Invert&ecnMatchIP != 0) {
			return false
		}
	}
	if m.Operation&(ecnMatchECE|ecnMatchCWR) == 0 {
		return true
	}
	thoff := TransportOffset(st.Family, d)
	if thoff < 0 || thoff+20 > len(d) {
		return false
	}
	flags := d[thoff+13]
	if m.Operation&ecnMatchECE != 0 && (flags&0x40 != 0) == (m.Invert&ecnMatchECE != 0) {
		return false
	}
	if m.Operation&ecnMatchCWR != 0 && (flags&0x80 != 0) == (m.Invert&ecnMatchCWR != 0) {
		return false
	}
	return true
}
