package mangle

import (
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// SYNPROXY target (libxt_SYNPROXY.c, struct xt_synproxy_info). The values
// are parsed as 32-bit numbers and cut to the struct's field widths, as the
// C code does.

const (
	spOptSackPerm uint = iota
	spOptTimestamp
	spOptWscale
	spOptMSS
	spOptECN
)

// Option bits of xt_synproxy_info.
const (
	SynproxyOptMSS       = 0x01
	SynproxyOptWscale    = 0x02
	SynproxyOptSackPerm  = 0x04
	SynproxyOptTimestamp = 0x08
	SynproxyOptECN       = 0x10
)

func init() {
	xtables.RegisterTarget(&xtables.TargetType{
		Name:   "SYNPROXY",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "sack-perm", ID: spOptSackPerm, Type: xtables.TypeNone},
			{Name: "timestamp", ID: spOptTimestamp, Type: xtables.TypeNone},
			{Name: "wscale", ID: spOptWscale, Type: xtables.TypeUint32},
			{Name: "mss", ID: spOptMSS, Type: xtables.TypeUint32},
			{Name: "ecn", ID: spOptECN, Type: xtables.TypeNone},
		},
		New: func() xtables.TargetInfo { return &Synproxy{} },
	})
}

// Synproxy is struct xt_synproxy_info.
type Synproxy struct {
	Options uint8
	Wscale  uint8
	MSS     uint16
}

func (s *Synproxy) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case spOptSackPerm:
		s.Options |= SynproxyOptSackPerm
	case spOptTimestamp:
		s.Options |= SynproxyOptTimestamp
	case spOptWscale:
		s.Options |= SynproxyOptWscale
		s.Wscale = uint8(c.Val.U64)
	case spOptMSS:
		s.Options |= SynproxyOptMSS
		s.MSS = uint16(c.Val.U64)
	case spOptECN:
		s.Options |= SynproxyOptECN
	}
	return nil
}

func (s *Synproxy) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " SYNPROXY "...)
	if s.Options&SynproxyOptSackPerm != 0 {
		b = append(b, "sack-perm "...)
	}
	if s.Options&SynproxyOptTimestamp != 0 {
		b = append(b, "timestamp "...)
	}
	if s.Options&SynproxyOptWscale != 0 {
		b = append(xtables.AppendUint(append(b, "wscale "...), uint64(s.Wscale)), ' ')
	}
	if s.Options&SynproxyOptMSS != 0 {
		b = append(xtables.AppendUint(append(b, "mss "...), uint64(s.MSS)), ' ')
	}
	if s.Options&SynproxyOptECN != 0 {
		b = append(b, "ecn "...)
	}
	return b
}

func (s *Synproxy) Save(b []byte, ctx *xtables.Context) []byte {
	if s.Options&SynproxyOptSackPerm != 0 {
		b = append(b, " --sack-perm"...)
	}
	if s.Options&SynproxyOptTimestamp != 0 {
		b = append(b, " --timestamp"...)
	}
	if s.Options&SynproxyOptWscale != 0 {
		b = xtables.AppendUint(append(b, " --wscale "...), uint64(s.Wscale))
	}
	if s.Options&SynproxyOptMSS != 0 {
		b = xtables.AppendUint(append(b, " --mss "...), uint64(s.MSS))
	}
	if s.Options&SynproxyOptECN != 0 {
		b = append(b, " --ecn"...)
	}
	return b
}

// Check is synproxy_tg4_check/tg6_check: -p tcp, INPUT and FORWARD only.
func (s *Synproxy) Check(ctx *xtables.Context) error {
	if !isProto(ctx, protoTCP) || hooksOutside(ctx, 1<<xtables.HookInput|1<<xtables.HookForward) {
		return errInval
	}
	return nil
}

// TargetPacket is synproxy_tg4/tg6: a client's SYN is answered with a
// SYN cookie SYN/ACK and consumed; its ACK, when the cookie is valid,
// opens the connection to the server and is consumed too, else dropped;
// other packets continue. The options offered are the client's that the
// rule allows (window scaling, SACK and ECN only along with timestamps,
// which carry them in the cookie). The host does the cookies and the
// packets (SynproxyHost); a host that cannot drops what SYNPROXY would
// consume.
func (s *Synproxy) TargetPacket(st *xtables.PacketState) xtables.VerdictCode {
	p := st.Pkt
	if p.Layers&packet.LayerTCP == 0 || p.TCP.Opts&packet.OptMalformed != 0 {
		return xtables.VerdictCodeDrop // no header, or synproxy_parse_options failed
	}
	if _, ok := p.ChecksumsOK(); !ok {
		return xtables.VerdictCodeDrop // nf_ip_checksum / nf_ip6_checksum
	}
	f := p.TCP.Flags
	host, _ := st.Env.(SynproxyHost)
	switch {
	case f&packet.TCPSyn != 0 && f&(packet.TCPAck|packet.TCPFin|packet.TCPRst) == 0:
		if host == nil {
			return xtables.VerdictCodeDrop
		}
		var opts uint8
		o := p.TCP.Opts
		if o&packet.OptMSS != 0 {
			opts |= SynproxyOptMSS
		}
		if o&packet.OptWScale != 0 {
			opts |= SynproxyOptWscale
		}
		if o&packet.OptSACKPermitted != 0 {
			opts |= SynproxyOptSackPerm
		}
		if o&packet.OptTimestamp != 0 {
			opts |= SynproxyOptTimestamp
		}
		if f&(packet.TCPEce|packet.TCPCwr) == packet.TCPEce|packet.TCPCwr {
			opts |= SynproxyOptECN
		}
		opts &= s.Options
		if opts&SynproxyOptTimestamp == 0 {
			opts &^= SynproxyOptWscale | SynproxyOptSackPerm | SynproxyOptECN
		}
		host.SynproxySynAck(st, opts, s.MSS, s.Wscale)
		return xtables.VerdictCodeStolen
	case f&packet.TCPAck != 0 && f&(packet.TCPFin|packet.TCPRst|packet.TCPSyn) == 0:
		if host != nil && host.SynproxyClientACK(st, s.Options, s.MSS, s.Wscale) {
			return xtables.VerdictCodeStolen
		}
		return xtables.VerdictCodeDrop
	}
	return xtables.VerdictCodeContinue
}
