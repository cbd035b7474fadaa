package pktspec

import (
	"encoding/hex"
	"net/netip"
	"strconv"

	"github.com/iptwin/iptwin/packet"
)

// String is the canonical notation of the spec: Parse(s.String()) gives
// s back. Fields at their defaults are left out, except the TCP flags and
// the ICMP type.
func (s Spec) String() string { return string(s.AppendText(nil)) }

// AppendText appends the canonical notation (String).
func (s *Spec) AppendText(b []byte) []byte {
	switch s.Dir {
	case DirIn:
		b = append(b, "in "...)
		b = append(b, s.Iface...)
		b = append(b, ' ')
	case DirOut:
		b = append(b, "out "...)
	}
	return s.appendBody(b)
}

func (s *Spec) protoName() string {
	switch s.Proto {
	case packet.ProtoTCP:
		return "tcp"
	case packet.ProtoUDP:
		return "udp"
	case packet.ProtoICMP:
		return "icmp"
	case packet.ProtoICMPv6:
		return "icmp6"
	case packet.ProtoESP:
		return "esp"
	}
	if s.IsIPv6() {
		return "ip6"
	}
	return "ip"
}

func appendEndpoint(b []byte, a netip.Addr, port uint16, withPort bool) []byte {
	if !withPort {
		return a.AppendTo(b)
	}
	if a.Is6() {
		b = append(b, '[')
		b = a.AppendTo(b)
		b = append(b, ']')
	} else {
		b = a.AppendTo(b)
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(port), 10)
}

func kv(b []byte, k string, v uint64) []byte {
	b = append(b, ' ')
	b = append(b, k...)
	b = append(b, ' ')
	return strconv.AppendUint(b, v, 10)
}

func kx(b []byte, k string, v uint64) []byte {
	b = append(b, ' ')
	b = append(b, k...)
	b = append(b, " 0x"...)
	return strconv.AppendUint(b, v, 16)
}

func kw(b []byte, k string) []byte {
	b = append(b, ' ')
	return append(b, k...)
}

func khex(b []byte, k string, v []byte) []byte {
	b = append(b, ' ')
	b = append(b, k...)
	b = append(b, ' ')
	if len(v) == 0 {
		return append(b, "0x"...)
	}
	return hex.AppendEncode(b, v)
}

func (s *Spec) appendBody(b []byte) []byte {
	b = append(b, s.protoName()...)
	b = append(b, ' ')
	ports := hasPorts(s.Proto)
	b = appendEndpoint(b, s.Src, s.SrcPort, ports)
	b = append(b, " > "...)
	b = appendEndpoint(b, s.Dst, s.DstPort, ports)
	v6 := s.IsIPv6()
	d := New(s.Proto, s.Src, s.Dst)
	if p := s.protoName(); p == "ip" || p == "ip6" {
		b = kv(b, "proto", uint64(s.Proto))
	}
	switch s.Proto {
	case packet.ProtoTCP:
		b = appendFlags(b, s.TCPFlags)
		if s.Seq != d.Seq {
			b = kv(b, "seq", uint64(s.Seq))
		}
		if s.AckPeer {
			b = append(b, " ack peer+"...)
			b = strconv.AppendUint(b, uint64(s.Ack), 10)
		} else if s.Ack != 0 && s.TCPFlags&packet.TCPAck != 0 {
			b = kv(b, "ack", uint64(s.Ack))
		} else if s.Ack != 0 {
			b = kv(b, "acknum", uint64(s.Ack)) // an ack number without the ACK flag
		}
		if s.Win != d.Win {
			b = kv(b, "win", uint64(s.Win))
		}
		if s.Urp != 0 {
			b = kv(b, "urp", uint64(s.Urp))
		}
		if s.TCPRes != 0 {
			b = kv(b, "res", uint64(s.TCPRes))
		}
		if s.TCPOptions != nil {
			b = khex(b, "tcpopts", s.TCPOptions)
		}
		if s.MSS != 0 {
			b = kv(b, "mss", uint64(s.MSS))
		}
		if s.WScale >= 0 {
			b = kv(b, "wscale", uint64(s.WScale))
		}
		if s.SACKOK {
			b = kw(b, "sackok")
		}
		if s.TS {
			b = kv(b, "ts", uint64(s.TSVal))
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(s.TSEcr), 10)
		}
	case packet.ProtoUDP:
		switch {
		case s.UDPESP:
			b = kx(b, "spi", uint64(s.SPI))
			if s.Seq != 0 {
				b = kv(b, "seq", uint64(s.Seq))
			}
		case s.IKE:
			b = kw(b, "ike")
		}
	case packet.ProtoICMP, packet.ProtoICMPv6:
		b = s.appendICMP(b, v6, &d)
	case packet.ProtoESP:
		b = kx(b, "spi", uint64(s.SPI))
		if s.Seq != d.Seq {
			b = kv(b, "seq", uint64(s.Seq))
		}
	}
	if s.TTL != DefaultTTL {
		if v6 {
			b = kv(b, "hlim", uint64(s.TTL))
		} else {
			b = kv(b, "ttl", uint64(s.TTL))
		}
	}
	if s.TOS != 0 {
		if v6 {
			b = kv(b, "tc", uint64(s.TOS))
		} else {
			b = kx(b, "tos", uint64(s.TOS))
		}
	}
	if s.IPID != 0 {
		b = kv(b, "ipid", uint64(s.IPID))
	}
	if s.DF {
		b = kw(b, "df")
	}
	if s.CE {
		b = kw(b, "ce")
	}
	if len(s.IPOptions) > 0 {
		b = khex(b, "ipopts", s.IPOptions)
	}
	if s.Flow != 0 {
		b = kx(b, "flow", uint64(s.Flow))
	}
	if s.FragID != 0 {
		b = kx(b, "fragid", uint64(s.FragID))
	}
	if s.FragOff != 0 {
		b = kv(b, "off", uint64(s.FragOff))
	}
	if s.MF {
		b = kw(b, "mf")
	}
	if s.Frag && s.FragID == 0 && s.FragOff == 0 && !s.MF {
		b = kw(b, "frag")
	}
	if s.Len != 0 {
		b = kv(b, "len", uint64(s.Len))
	}
	if s.Data != nil {
		b = khex(b, "data", s.Data)
	} else if s.Payload != 0 && s.Inner == nil {
		b = kv(b, "payload", uint64(s.Payload))
	}
	if s.HasMAC {
		b = append(b, " smac "...)
		b = appendMAC(b, s.SrcMAC)
		b = append(b, " dmac "...)
		b = appendMAC(b, s.DstMAC)
	}
	if s.Inner != nil {
		if s.Quote != 0 {
			b = kv(b, "quote", uint64(s.Quote))
		}
		b = append(b, " quoting "...)
		b = s.Inner.appendBody(b)
	}
	return b
}

func (s *Spec) appendICMP(b []byte, v6 bool, d *Spec) []byte {
	name, exact := icmpNameOf(v6, s.ICMPType, s.ICMPCode)
	if name == "" {
		b = kv(b, "type", uint64(s.ICMPType))
	} else {
		b = kw(b, name)
	}
	if !exact && s.ICMPCode != 0 {
		b = kv(b, "code", uint64(s.ICMPCode))
	}
	r := s.ICMPRest
	switch {
	case s.isEcho():
		if r>>16 != DefaultID {
			b = kv(b, "id", uint64(r>>16))
		}
		if r&0xffff != DefaultID {
			b = kv(b, "seq", uint64(r&0xffff))
		}
	case r == 0:
	case !v6 && s.ICMPType == packet.ICMPUnreachable && r>>16 == 0,
		v6 && s.ICMPType == packet.ICMPv6PacketTooBig:
		b = kv(b, "mtu", uint64(r))
	case !v6 && s.ICMPType == packet.ICMPParamProblem && r&0xffffff == 0:
		b = kv(b, "ptr", uint64(r>>24))
	case v6 && s.ICMPType == packet.ICMPv6ParamProblem:
		b = kv(b, "ptr", uint64(r))
	case !v6 && s.ICMPType == packet.ICMPRedirect:
		b = append(b, " gw "...)
		b = netip.AddrFrom4([4]byte{byte(r >> 24), byte(r >> 16), byte(r >> 8), byte(r)}).AppendTo(b)
	default:
		b = kx(b, "rest", uint64(r))
	}
	return b
}

// appendFlags writes the flags as names joined by commas ("none" for none).
func appendFlags(b []byte, f uint8) []byte {
	b = append(b, ' ')
	if f == 0 {
		return append(b, "none"...)
	}
	first := true
	for _, x := range flagNames {
		if f&x.bit != 0 {
			if !first {
				b = append(b, ',')
			}
			b = append(b, x.name...)
			first = false
		}
	}
	return b
}

func appendMAC(b []byte, m [6]byte) []byte {
	const digits = "0123456789abcdef"
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[x>>4], digits[x&0xf])
	}
	return b
}
