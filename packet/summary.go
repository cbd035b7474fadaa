package packet

import (
	"net/netip"
	"strconv"
)

// String is the one-line summary (AppendSummary).
func (p *Packet) String() string {
	var buf [160]byte
	return string(p.AppendSummary(buf[:0]))
}

// AppendSummary appends the one-line summary of the packet, as
// `tcpdump -nn -S -t` prints it (tcpdump 4.99, not verbose), e.g.
//
//	IP 10.1.77.146.55724 > 10.1.51.165.22: Flags [S], seq 1, win 26883, length 0
//
// Sequence numbers are absolute (-S) because a single packet has no
// connection to be relative to; that is also what plain -nn prints for
// the first packet of a connection. The payloads of the protocols tcpdump
// dissects by port (DNS, NTP, HTTP, ...), IKE, MLD and SCTP/DCCP are not
// dissected here; for them the summary stops where tcpdump's would go on.
// It does not allocate when b has room.
func (p *Packet) AppendSummary(b []byte) []byte {
	if p.Layers&(LayerIPv4|LayerIPv6) == 0 {
		if p.Layers&LayerEthernet != 0 {
			b = append(b, "ethertype 0x"...)
			b = appendHex(b, uint32(p.Eth.EtherType), 4)
			b = append(b, ", length "...)
			return strconv.AppendUint(b, uint64(len(p.Payload)), 10)
		}
		return append(b, "(no packet)"...)
	}
	s := summarizer{h: &p.Headers, inner: &p.Inner, hasInner: p.Layers&LayerInner != 0}
	return s.appendIP(b)
}

type summarizer struct {
	h        *Headers
	inner    *Headers
	hasInner bool
}

func appendHex(b []byte, v uint32, width int) []byte {
	const digits = "0123456789abcdef"
	var tmp [8]byte
	n := 0
	for v != 0 || n < width {
		tmp[7-n] = digits[v&0xf]
		v >>= 4
		n++
		if n == 8 {
			break
		}
	}
	return append(b, tmp[8-n:]...)
}

func appendU(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

func appendAddrs(b []byte, h *Headers, sep string) []byte {
	b = h.Src().AppendTo(b)
	b = append(b, " > "...)
	b = h.Dst().AppendTo(b)
	return append(b, sep...)
}

func (s *summarizer) appendIP(b []byte) []byte {
	h := s.h
	if h.Layers&LayerIPv6 != 0 {
		return s.appendIPv6(b)
	}
	b = append(b, "IP "...)
	ip := &h.IPv4
	if ip.FragOff != 0 {
		b = appendAddrs(b, h, ":")
		b = append(b, " ip-proto-"...)
		return appendU(b, uint64(ip.Protocol))
	}
	if ip.Protocol != ProtoTCP && ip.Protocol != ProtoUDP {
		b = appendAddrs(b, h, ": ")
	}
	return s.demux(b, 0, ip.Protocol, len(h.Data)-int(ip.IHL)*4, ip.Protocol)
}

func (s *summarizer) appendIPv6(b []byte) []byte {
	h := s.h
	b = append(b, "IP6 "...)
	nh := h.IPv6.NextHeader
	if nh != ProtoTCP && nh != ProtoUDP {
		b = appendAddrs(b, h, ": ")
	}
	off := 40
	for i := 0; i < int(h.NumExt); i++ {
		x := &h.Ext[i]
		switch x.Proto {
		case ProtoHopByHop:
			b = append(b, "HBH "...)
		case ProtoDstOpts:
			b = append(b, "DSTOPT "...)
		case ProtoRouting:
			var ok bool
			if b, ok = appendRouting(b, x.Data); !ok {
				return b
			}
		case ProtoFragment:
			f := &h.IPv6.Frag
			b = append(b, "frag ("...)
			b = appendU(b, uint64(f.Offset)*8)
			b = append(b, '|')
			b = appendU(b, uint64(len(h.Data)-off-8))
			b = append(b, ')')
			if f.Offset != 0 || off+8 >= len(h.Data) {
				return b
			}
			b = append(b, ' ')
		default: // AH and what follows it: the protocol demultiplexer
			return s.demux(b, i, x.Proto, len(h.Data)-off, nh)
		}
		off += len(x.Data)
	}
	return s.demux(b, int(h.NumExt), h.Proto, len(h.Data)-off, nh)
}

func appendRouting(b []byte, d []byte) ([]byte, bool) {
	l, typ := d[1], d[2]
	b = append(b, "RT6 (len="...)
	b = appendU(b, uint64(l))
	b = append(b, ", type="...)
	b = appendU(b, uint64(typ))
	if typ == 0 {
		b = append(b, " [Deprecated]"...)
	}
	b = append(b, ", segleft="...)
	b = appendU(b, uint64(d[3]))
	switch typ {
	case 0, 2:
		if r := be.Uint32(d[4:]); r != 0 {
			b = append(b, ", rsv=0x"...)
			b = appendHex(b, r, 1)
		}
	case 4:
		b = append(b, ", last-entry="...)
		b = appendU(b, uint64(d[4]))
		if d[5] != 0 {
			b = append(b, ", flags=0x"...)
			b = appendHex(b, uint32(d[5]), 1)
		}
		b = append(b, ", tag="...)
		b = appendHex(b, uint32(be.Uint16(d[6:])), 1)
	default:
		return append(b, " (unknown type) (invalid)"...), false
	}
	if l%2 == 1 {
		b = append(b, " (invalid length "...)
		b = appendU(b, uint64(l))
		return append(b, ") (invalid)"...), false
	}
	for i := 0; i < int(l/2); i++ {
		b = append(b, ", ["...)
		b = appendU(b, uint64(i))
		b = append(b, ']')
		b = netip.AddrFrom16([16]byte(d[8+16*i:])).AppendTo(b)
	}
	return append(b, ") "...), true
}

// demux prints the header of protocol proto found as Ext[i] (or the
// transport header when i == NumExt), length bytes before the end of the
// IP packet, as tcpdump's ip_demux_print. first is the protocol right
// after the IP header (TCP and UDP print addresses with ports only when
// they follow the IP header directly).
func (s *summarizer) demux(b []byte, i int, proto uint8, length int, first uint8) []byte {
	h := s.h
	for ; i < int(h.NumExt) && proto == ProtoAH; i++ {
		d := h.Ext[i].Data
		b = append(b, "AH("...)
		if r := be.Uint16(d[2:]); r != 0 {
			b = append(b, "reserved=0x"...)
			b = appendHex(b, uint32(r), 1)
			b = append(b, "[MustBeZero],"...)
		}
		b = append(b, "spi=0x"...)
		b = appendHex(b, be.Uint32(d[4:]), 8)
		b = append(b, ",seq=0x"...)
		b = appendHex(b, be.Uint32(d[8:]), 1)
		b = append(b, ",icv=0x"...)
		for _, c := range d[12:] {
			b = appendHex(b, uint32(c), 2)
		}
		b = append(b, "): "...)
		length -= len(d)
		proto = d[0]
	}
	if i < int(h.NumExt) {
		// An extension header after AH: tcpdump does not follow it.
		return appendUnknownProto(b, proto, length)
	}
	v6 := h.Layers&LayerIPv6 != 0
	switch proto {
	case ProtoTCP:
		return s.appendTCP(b, length, first == ProtoTCP)
	case ProtoUDP:
		return s.appendUDP(b, length, first == ProtoUDP)
	case ProtoESP:
		return appendESP(b, h, length)
	case ProtoICMP:
		if v6 {
			return append(b, "[ICMP requires IPv4] (invalid)"...)
		}
		return s.appendICMP(b, length)
	case ProtoICMPv6:
		if !v6 {
			return append(b, "[ICMPv6 requires IPv6] (invalid)"...)
		}
		return s.appendICMPv6(b, length)
	case ProtoNoNext:
		return append(b, "no next header"...)
	}
	return appendUnknownProto(b, proto, length)
}

func appendUnknownProto(b []byte, proto uint8, length int) []byte {
	b = append(b, " ip-proto-"...)
	b = appendU(b, uint64(proto))
	b = append(b, ' ')
	return appendU(b, uint64(length))
}

func appendESP(b []byte, h *Headers, length int) []byte {
	if h.Layers&LayerESP == 0 {
		return append(b, " [|esp]"...)
	}
	b = append(b, "ESP(spi=0x"...)
	b = appendHex(b, h.ESP.SPI, 8)
	b = append(b, ",seq=0x"...)
	b = appendHex(b, h.ESP.Seq, 1)
	b = append(b, "), length "...)
	return appendU(b, uint64(length))
}

func appendPorts(b []byte, h *Headers, sport, dport uint16, withAddrs bool) []byte {
	if withAddrs {
		b = h.Src().AppendTo(b)
		b = append(b, '.')
		b = appendU(b, uint64(sport))
		b = append(b, " > "...)
		b = h.Dst().AppendTo(b)
		b = append(b, '.')
		b = appendU(b, uint64(dport))
		return append(b, ": "...)
	}
	b = appendU(b, uint64(sport))
	b = append(b, " > "...)
	b = appendU(b, uint64(dport))
	return append(b, ": "...)
}

const tcpFlagChars = "FSRP.UEW"

func (s *summarizer) appendTCP(b []byte, length int, withAddrs bool) []byte {
	h := s.h
	t := &h.TCP
	if h.Layers&LayerTCP == 0 {
		// A first fragment too short for the TCP header.
		if withAddrs {
			b = appendAddrs(b, h, ":")
		}
		return append(b, " [|tcp]"...)
	}
	b = appendPorts(b, h, t.SrcPort, t.DstPort, withAddrs)
	b = append(b, "Flags ["...)
	if t.Flags == 0 {
		b = append(b, "none"...)
	}
	for i := 0; i < 8; i++ {
		if t.Flags&(1<<i) != 0 {
			b = append(b, tcpFlagChars[i])
		}
	}
	b = append(b, ']')
	hl := int(t.DataOff) * 4
	if hl > length {
		b = append(b, " [bad hdr length "...)
		b = appendU(b, uint64(hl))
		b = append(b, " - too long, > "...)
		b = appendU(b, uint64(length))
		return append(b, ']')
	}
	length -= hl
	if length > 0 || t.Flags&(TCPSyn|TCPFin|TCPRst) != 0 {
		b = append(b, ", seq "...)
		b = appendU(b, uint64(t.Seq))
		if length > 0 {
			b = append(b, ':')
			b = appendU(b, uint64(t.Seq+uint32(length)))
		}
	}
	if t.Flags&TCPAck != 0 {
		b = append(b, ", ack "...)
		b = appendU(b, uint64(t.Ack))
	}
	b = append(b, ", win "...)
	b = appendU(b, uint64(t.Window))
	if t.Flags&TCPUrg != 0 {
		b = append(b, ", urg "...)
		b = appendU(b, uint64(t.Urgent))
	}
	if len(t.Options) > 0 {
		var ok bool
		if b, ok = appendTCPOptions(b, t.Options); !ok {
			return b
		}
	}
	b = append(b, ", length "...)
	return appendU(b, uint64(length))
}

var tcpOptNames = map[byte]string{
	0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack",
	6: "echo", 7: "echoreply", 8: "TS", 11: "cc", 12: "ccnew", 13: "",
	19: "md5", 20: "scps", 28: "uto", 29: "tcp-ao", 30: "mptcp", 34: "tfo", 254: "exp",
}

// appendTCPOptions prints options as tcp_print does; ok is false after
// "[bad opt]", where tcpdump stops printing the packet.
func appendTCPOptions(b []byte, o []byte) (_ []byte, ok bool) {
	b = append(b, ", options ["...)
	hlen := len(o)
	cp := 0
	var ch byte
	bad := func(b []byte) []byte {
		b = append(b, "[bad opt]"...)
		if ch != 0 {
			b = append(b, ']')
		}
		return b
	}
	for hlen > 0 {
		if ch != 0 {
			b = append(b, ch)
		}
		opt := o[cp]
		cp++
		l := 1
		if opt > 1 {
			if cp >= len(o) {
				return bad(b), false
			}
			l = int(o[cp])
			cp++
			if l < 2 || l > hlen {
				return bad(b), false
			}
			hlen--
		}
		hlen--
		if name, known := tcpOptNames[opt]; known {
			b = append(b, name...)
		} else {
			b = append(b, "unknown-"...)
			b = appendU(b, uint64(opt))
		}
		datalen := 0
		need := func(n int) bool { return n <= hlen }
		d := o[cp:]
		switch opt {
		case 2:
			datalen = 2
			if !need(2) {
				return bad(b), false
			}
			b = append(b, ' ')
			b = appendU(b, uint64(be.Uint16(d)))
		case 3:
			datalen = 1
			if !need(1) {
				return bad(b), false
			}
			b = append(b, ' ')
			b = appendU(b, uint64(d[0]))
		case 5:
			datalen = l - 2
			if datalen%8 != 0 {
				b = append(b, " invalid sack"...)
			} else {
				b = append(b, ' ')
				b = appendU(b, uint64(datalen/8))
				b = append(b, ' ')
				for i := 0; i < datalen; i += 8 {
					if !need(i + 8) {
						return bad(b), false
					}
					b = append(b, '{')
					b = appendU(b, uint64(be.Uint32(d[i:])))
					b = append(b, ':')
					b = appendU(b, uint64(be.Uint32(d[i+4:])))
					b = append(b, '}')
				}
			}
		case 6, 7, 11, 12, 13:
			datalen = 4
			if !need(4) {
				return bad(b), false
			}
			b = append(b, ' ')
			b = appendU(b, uint64(be.Uint32(d)))
		case 8:
			datalen = 8
			if !need(8) {
				return bad(b), false
			}
			b = append(b, " val "...)
			b = appendU(b, uint64(be.Uint32(d)))
			b = append(b, " ecr "...)
			b = appendU(b, uint64(be.Uint32(d[4:])))
		case 19:
			datalen = 16
			if !need(16) {
				return bad(b), false
			}
			b = append(b, " shared secret not supplied with -M, can't check - "...)
			for _, c := range d[:16] {
				b = appendHex(b, uint32(c), 2)
			}
		case 20:
			datalen = 2
			if !need(2) {
				return bad(b), false
			}
			b = append(b, " cap "...)
			b = appendHex(b, uint32(d[0]), 2)
			b = append(b, " id "...)
			b = appendU(b, uint64(d[1]))
		case 28:
			datalen = 2
			if !need(2) {
				return bad(b), false
			}
			v := uint32(be.Uint16(d))
			b = append(b, " 0x"...)
			b = appendHex(b, v, 1)
			if v&1 != 0 {
				v = (v >> 1) * 60
			} else {
				v >>= 1
			}
			b = append(b, ' ')
			b = appendU(b, uint64(v))
		case 0, 1, 4:
		default:
			datalen = l - 2
			if datalen > 0 {
				b = append(b, " 0x"...)
			}
			for i := 0; i < datalen; i++ {
				if !need(i + 1) {
					return bad(b), false
				}
				b = appendHex(b, uint32(d[i]), 2)
			}
		}
		cp += datalen
		hlen -= datalen
		datalen++
		if opt > 1 {
			datalen++
		}
		if datalen != l {
			b = append(b, "[len "...)
			b = appendU(b, uint64(l))
			b = append(b, ']')
		}
		ch = ','
		if opt == 0 {
			break
		}
	}
	return append(b, ']'), true
}

func (s *summarizer) appendUDP(b []byte, length int, withAddrs bool) []byte {
	h := s.h
	u := &h.UDP
	if h.Layers&LayerUDP == 0 {
		if withAddrs {
			b = appendAddrs(b, h, ": ")
		}
		if length >= 4 {
			return append(b, " [|udp]"...)
		}
		b = append(b, "truncated-udp "...)
		return appendU(b, uint64(length))
	}
	b = appendPorts(b, h, u.SrcPort, u.DstPort, withAddrs)
	ulen := int(u.Length)
	if ulen < 8 {
		b = append(b, "truncated-udplength "...)
		return appendU(b, uint64(ulen))
	}
	ulen -= 8
	length -= 8
	if ulen < length {
		length = ulen
	}
	if u.SrcPort == portIKE || u.DstPort == portIKE {
		pl := h.Data[len(h.Net)+8:]
		return appendISAKMP(b, pl[:min(len(pl), length)])
	}
	if u.SrcPort == PortIPsecNATT || u.DstPort == PortIPsecNATT {
		pl := h.Data[len(h.Net)+8:]
		pl = pl[:min(len(pl), length)]
		switch {
		case length == 1 && len(pl) == 1 && pl[0] == 0xff:
			return append(b, "isakmp-nat-keep-alive"...)
		case length < 4:
			return append(b, " [|isakmp_rfc3948]"...)
		case be.Uint32(pl) == 0:
			b = append(b, "NONESP-encap: "...)
			return appendISAKMP(b, pl[4:])
		}
		b = append(b, "UDP-encap: "...)
		if length < 8 || len(pl) < 8 {
			return append(b, " [|esp]"...)
		}
		b = append(b, "ESP(spi=0x"...)
		b = appendHex(b, be.Uint32(pl), 8)
		b = append(b, ",seq=0x"...)
		b = appendHex(b, be.Uint32(pl[4:]), 1)
		b = append(b, "), length "...)
		return appendU(b, uint64(length))
	}
	if ulen > length && !h.IsFragment() {
		b = append(b, "UDP, bad length "...)
		b = appendU(b, uint64(ulen))
		b = append(b, " > "...)
		return appendU(b, uint64(length))
	}
	b = append(b, "UDP, length "...)
	return appendU(b, uint64(ulen))
}

// portIKE is ISAKMP's port, which tcpdump decodes before 4500.
const portIKE = 500

// ikeExchanges are tcpdump's names of the exchange types (etypestr).
var ikeExchanges = [...]string{0: "none", 1: "base", 2: "ident", 3: "auth", 4: "agg", 5: "inf",
	32: "oakley-quick", 33: "oakley-newgroup", 34: "ikev2_init", 35: "ikev2_auth", 36: "child_sa", 37: "inf2"}

// appendISAKMP is tcpdump's isakmp_print without -v: the exchange, its
// phase and the role flags of the header (IKEv1's role from the
// responder cookie alone: tcpdump also remembers cookies across packets).
func appendISAKMP(b, m []byte) []byte {
	if len(m) < 28 {
		return append(b, " [|isakmp]"...)
	}
	b = append(b, "isakmp:"...)
	etype, flags := m[18], m[19]
	first := be.Uint32(m[20:]) == 0
	switch m[17] >> 4 {
	case 1:
		if first {
			b = append(b, " phase 1"...)
		} else {
			b = append(b, " phase 2/others"...)
		}
		if allZero(m[8:16]) {
			b = append(b, " I"...)
		} else {
			b = append(b, " ?"...)
		}
		b = appendIKEExchange(b, etype)
		if flags&3 != 0 {
			b = append(b, '[')
			if flags&1 != 0 {
				b = append(b, 'E')
			}
			if flags&2 != 0 {
				b = append(b, 'C')
			}
			b = append(b, ']')
		}
	case 2:
		if first {
			b = append(b, " parent_sa"...)
		} else {
			b = append(b, " child_sa "...)
		}
		b = appendIKEExchange(b, etype)
		if flags != 0 {
			b = append(b, '[')
			for _, f := range [...]struct {
				bit uint8
				c   byte
			}{{0x08, 'I'}, {0x10, 'V'}, {0x20, 'R'}} {
				if flags&f.bit != 0 {
					b = append(b, f.c)
				}
			}
			b = append(b, ']')
		}
	}
	return b
}

func appendIKEExchange(b []byte, etype uint8) []byte {
	b = append(b, ' ')
	if int(etype) < len(ikeExchanges) && ikeExchanges[etype] != "" {
		return append(b, ikeExchanges[etype]...)
	}
	b = append(b, '#')
	return appendU(b, uint64(etype))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// quoted returns n bytes at off of the ICMP body, or ok false when the
// body is shorter (tcpdump then prints " [|icmp]").
func quoted(body []byte, off, n int) ([]byte, bool) {
	if off < 0 || off+n > len(body) {
		return nil, false
	}
	return body[off : off+n], true
}

var icmpUnreachText = [...]string{
	0:  "net %s unreachable",
	1:  "host %s unreachable",
	5:  "%s unreachable - source route failed",
	6:  "net %s unreachable - unknown",
	7:  "host %s unreachable - unknown",
	8:  "%s unreachable - source host isolated",
	9:  "net %s unreachable - admin prohibited",
	10: "host %s unreachable - admin prohibited",
	11: "net %s unreachable - tos prohibited",
	12: "host %s unreachable - tos prohibited",
	13: "host %s unreachable - admin prohibited filter",
	14: "host %s unreachable - host precedence violation",
	15: "host %s unreachable - precedence cutoff",
}

var icmpTypeNames = map[uint8]string{
	0: "echo reply", 4: "source quench", 8: "echo request", 10: "router solicitation",
	13: "time stamp request", 14: "time stamp reply", 15: "information request",
	16: "information reply", 17: "address mask request",
}

// appendFmt expands the single %s of f with addr.
func appendFmt(b []byte, f string, addr []byte) []byte {
	for i := 0; i+1 < len(f); i++ {
		if f[i] == '%' && f[i+1] == 's' {
			b = append(b, f[:i]...)
			b = netip.AddrFrom4([4]byte(addr)).AppendTo(b)
			return append(b, f[i+2:]...)
		}
	}
	return append(b, f...)
}

func appendAddr4(b []byte, a []byte) []byte { return netip.AddrFrom4([4]byte(a)).AppendTo(b) }

func (s *summarizer) appendICMP(b []byte, plen int) []byte {
	h := s.h
	if h.Layers&LayerICMPv4 == 0 {
		return append(b, " [|icmp]"...)
	}
	c := &h.ICMP
	body := h.Payload // the quoted IP header starts here
	trunc := func(b []byte) []byte { return append(b, " [|icmp]"...) }
	b = append(b, "ICMP "...)
	switch c.Type {
	case ICMPEcho, ICMPEchoReply:
		b = append(b, "echo "...)
		if c.Type == ICMPEcho {
			b = append(b, "request"...)
		} else {
			b = append(b, "reply"...)
		}
		b = append(b, ", id "...)
		b = appendU(b, uint64(c.ID()))
		b = append(b, ", seq "...)
		b = appendU(b, uint64(c.Seq()))
	case ICMPUnreachable:
		dstIP, ok := quoted(body, 16, 4)
		switch c.Code {
		case 2:
			p, ok2 := quoted(body, 9, 1)
			if !ok || !ok2 {
				return trunc(b[:len(b)-5])
			}
			b = appendAddr4(b, dstIP)
			b = append(b, " protocol "...)
			b = appendU(b, uint64(p[0]))
			b = append(b, " unreachable"...)
		case 3:
			p, ok2 := quoted(body, 9, 1)
			if !ok2 {
				return trunc(b[:len(b)-5])
			}
			hl := int(body[0]&0xf) * 4
			dp, ok3 := quoted(body, hl+2, 2)
			if !ok || !ok3 {
				return trunc(b[:len(b)-5])
			}
			b = appendAddr4(b, dstIP)
			switch p[0] {
			case ProtoTCP:
				b = append(b, " tcp port "...)
				b = appendU(b, uint64(be.Uint16(dp)))
			case ProtoUDP:
				b = append(b, " udp port "...)
				b = appendU(b, uint64(be.Uint16(dp)))
			default:
				b = append(b, " protocol "...)
				b = appendU(b, uint64(p[0]))
				b = append(b, " port "...)
				b = appendU(b, uint64(be.Uint16(dp)))
			}
			b = append(b, " unreachable"...)
		case 4:
			if !ok {
				return trunc(b[:len(b)-5])
			}
			b = appendAddr4(b, dstIP)
			b = append(b, " unreachable - need to frag"...)
			if mtu := c.Rest & 0xffff; mtu != 0 {
				b = append(b, " (mtu "...)
				b = appendU(b, uint64(mtu))
				b = append(b, ')')
			}
		default:
			if !ok {
				return trunc(b[:len(b)-5])
			}
			if int(c.Code) < len(icmpUnreachText) && icmpUnreachText[c.Code] != "" {
				b = appendFmt(b, icmpUnreachText[c.Code], dstIP)
			} else {
				b = appendAddr4(b, dstIP)
				b = append(b, " unreachable - #"...)
				b = appendU(b, uint64(c.Code))
			}
		}
	case ICMPRedirect:
		dstIP, ok := quoted(body, 16, 4)
		if !ok {
			return trunc(b[:len(b)-5])
		}
		var gw [4]byte
		be.PutUint32(gw[:], c.Rest)
		switch c.Code {
		case 0, 1, 2, 3:
			b = append(b, "redirect"...)
			if c.Code >= 2 {
				b = append(b, "-tos"...)
			}
			b = append(b, ' ')
			b = appendAddr4(b, dstIP)
			if c.Code&1 == 0 {
				b = append(b, " to net "...)
			} else {
				b = append(b, " to host "...)
			}
		default:
			b = append(b, "redirect-#"...)
			b = appendU(b, uint64(c.Code))
			b = append(b, ' ')
			b = appendAddr4(b, dstIP)
			b = append(b, " to "...)
		}
		b = appendAddr4(b, gw[:])
	case ICMPTimeExceeded:
		if _, ok := quoted(body, 16, 4); !ok {
			return trunc(b[:len(b)-5])
		}
		switch c.Code {
		case 0:
			b = append(b, "time exceeded in-transit"...)
		case 1:
			b = append(b, "ip reassembly time exceeded"...)
		default:
			b = append(b, "time exceeded-#"...)
			b = appendU(b, uint64(c.Code))
		}
	case ICMPParamProblem:
		if c.Code != 0 {
			b = append(b, "parameter problem - code "...)
			b = appendU(b, uint64(c.Code))
		} else {
			b = append(b, "parameter problem - octet "...)
			b = appendU(b, uint64(c.Rest>>24))
		}
	case 18:
		m, ok := quoted(body, 0, 4)
		if !ok {
			return trunc(b[:len(b)-5])
		}
		b = append(b, "address mask is 0x"...)
		b = appendHex(b, be.Uint32(m), 8)
	case 13:
		b = append(b, "time stamp query id "...)
		b = appendU(b, uint64(c.ID()))
		b = append(b, " seq "...)
		b = appendU(b, uint64(c.Seq()))
	case 14:
		ts, ok := quoted(body, 0, 12)
		if !ok {
			return trunc(b[:len(b)-5])
		}
		b = append(b, "time stamp reply id "...)
		b = appendU(b, uint64(c.ID()))
		b = append(b, " seq "...)
		b = appendU(b, uint64(c.Seq()))
		b = append(b, ": org "...)
		b = appendTstamp(b, be.Uint32(ts))
		b = append(b, ", recv "...)
		b = appendTstamp(b, be.Uint32(ts[4:]))
		b = append(b, ", xmit "...)
		b = appendTstamp(b, be.Uint32(ts[8:]))
	case 9:
		// Router advertisements print their address list: not done here.
		b = append(b, "router advertisement"...)
	default:
		if name, ok := icmpTypeNames[c.Type]; ok {
			b = append(b, name...)
		} else {
			b = append(b, "type-#"...)
			b = appendU(b, uint64(c.Type))
		}
	}
	b = append(b, ", length "...)
	return appendU(b, uint64(plen))
}

func appendTstamp(b []byte, t uint32) []byte {
	msec := t % 1000
	sec := t / 1000
	min := sec / 60
	sec -= min * 60
	hrs := min / 60
	min -= hrs * 60
	b = appendPad(b, hrs, 2)
	b = append(b, ':')
	b = appendPad(b, min, 2)
	b = append(b, ':')
	b = appendPad(b, sec, 2)
	b = append(b, '.')
	return appendPad(b, msec, 3)
}

func appendPad(b []byte, v uint32, w int) []byte {
	var tmp [10]byte
	s := strconv.AppendUint(tmp[:0], uint64(v), 10)
	for i := len(s); i < w; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

var icmp6TypeNames = map[uint8]string{
	1: "destination unreachable", 2: "packet too big", 3: "time exceeded in-transit",
	4: "parameter problem", 128: "echo request", 129: "echo reply",
	130: "multicast listener query", 131: "multicast listener report",
	132: "multicast listener done", 133: "router solicitation",
	134: "router advertisement", 135: "neighbor solicitation",
	136: "neighbor advertisement", 137: "redirect", 138: "router renumbering",
	141: "inverse neighbor solicitation", 142: "inverse neighbor advertisement",
	143: "multicast listener report v2", 144: "ha discovery request",
	145: "ha discovery reply", 146: "mobile router solicitation",
	147: "mobile router advertisement", 139: "node information query",
	140: "node information reply", 200: "mtrace message", 201: "mtrace response",
	155: "RPL",
}

var icmp6UnreachCodes = [...]string{
	0: "unreachable route", 1: " unreachable prohibited", 2: "beyond scope",
	3: "unreachable address", 4: "unreachable port",
}

func appendAddr16(b []byte, a []byte) []byte { return netip.AddrFrom16([16]byte(a)).AppendTo(b) }

func (s *summarizer) appendICMPv6(b []byte, length int) []byte {
	h := s.h
	if h.Layers&LayerICMPv6 == 0 {
		return append(b, " [|icmp6]"...)
	}
	c := &h.ICMP
	body := h.Payload
	trunc := func(b []byte) []byte { return append(b, " [|icmp6]"...) }
	b = append(b, "ICMP6, "...)
	if name, ok := icmp6TypeNames[c.Type]; ok {
		b = append(b, name...)
	} else {
		b = append(b, "unknown icmp6 type ("...)
		b = appendU(b, uint64(c.Type))
		b = append(b, ')')
	}
	switch c.Type {
	case ICMPv6Unreachable:
		b = append(b, ", "...)
		if int(c.Code) < len(icmp6UnreachCodes) {
			b = append(b, icmp6UnreachCodes[c.Code]...)
		} else {
			b = append(b, "unknown unreach code ("...)
			b = appendU(b, uint64(c.Code))
			b = append(b, ')')
		}
		switch c.Code {
		case 0, 1, 3:
			d, ok := quoted(body, 24, 16)
			if !ok {
				return trunc(b)
			}
			b = append(b, ' ')
			b = appendAddr16(b, d)
		case 2:
			d, ok := quoted(body, 24, 16)
			sa, ok2 := quoted(body, 8, 16)
			if !ok || !ok2 {
				return trunc(b)
			}
			b = append(b, ' ')
			b = appendAddr16(b, d)
			b = append(b, ", source address "...)
			b = appendAddr16(b, sa)
		case 4:
			proto, dport, ok := upperLayer6(body)
			if !ok {
				return trunc(b)
			}
			d, _ := quoted(body, 24, 16)
			b = append(b, ", "...)
			b = appendAddr16(b, d)
			switch proto {
			case ProtoTCP:
				b = append(b, " tcp port "...)
				b = appendU(b, uint64(dport))
			case ProtoUDP:
				b = append(b, " udp port "...)
				b = appendU(b, uint64(dport))
			default:
				b = append(b, " protocol "...)
				b = appendU(b, uint64(proto))
				b = append(b, " port "...)
				b = appendU(b, uint64(dport))
				b = append(b, " unreachable"...)
			}
		default:
			// tcpdump hex-dumps the message here: not reproduced.
			return b
		}
	case ICMPv6PacketTooBig:
		b = append(b, ", mtu "...)
		b = appendU(b, uint64(c.Rest))
	case ICMPv6TimeExceeded:
		switch c.Code {
		case 0:
			d, ok := quoted(body, 24, 16)
			if !ok {
				return trunc(b)
			}
			b = append(b, " for "...)
			b = appendAddr16(b, d)
		case 1:
			b = append(b, " (reassembly)"...)
		default:
			b = append(b, ", unknown code ("...)
			b = appendU(b, uint64(c.Code))
			b = append(b, ')')
		}
	case ICMPv6ParamProblem:
		if _, ok := quoted(body, 24, 16); !ok {
			return trunc(b)
		}
		var what string
		switch c.Code {
		case 0:
			what = ", erroneous - octet "
		case 1:
			what = ", next header - octet "
		case 2:
			what = ", option - octet "
		case 3:
			what = ", incomplete header chain - octet "
		default:
			b = append(b, ", code-#"...)
			b = appendU(b, uint64(c.Code))
		}
		if what != "" {
			b = append(b, what...)
			b = appendU(b, uint64(c.Rest))
		}
	case ICMPv6EchoRequest, ICMPv6EchoReply:
		b = append(b, ", id "...)
		b = appendU(b, uint64(c.ID()))
		b = append(b, ", seq "...)
		b = appendU(b, uint64(c.Seq()))
	case 133, 134, 141, 142:
	case 135, 136:
		t, ok := quoted(body, 0, 16)
		if !ok {
			return trunc(b)
		}
		if c.Type == 135 {
			b = append(b, ", who has "...)
		} else {
			b = append(b, ", tgt is "...)
		}
		b = appendAddr16(b, t)
	case 137:
		t, ok := quoted(body, 0, 16)
		d, ok2 := quoted(body, 16, 16)
		if !ok || !ok2 {
			return trunc(b)
		}
		b = append(b, ", "...)
		b = appendAddr16(b, d)
		b = append(b, " to "...)
		b = appendAddr16(b, t)
	default:
		// MLD, node information, RPL, ...: tcpdump dissects or hex-dumps
		// these; only the length is given here.
	}
	b = append(b, ", length "...)
	return appendU(b, uint64(length))
}

// upperLayer6 finds the transport protocol and destination port of the
// IPv6 packet quoted in body, as tcpdump's get_upperlayer.
func upperLayer6(body []byte) (proto uint8, dport uint16, ok bool) {
	if len(body) < 40 {
		return 0, 0, false
	}
	nh := body[6]
	off := 40
	for off < len(body) {
		switch nh {
		case ProtoTCP, ProtoUDP:
			if off+4 > len(body) {
				return 0, 0, false
			}
			return nh, be.Uint16(body[off+2:]), true
		case ProtoHopByHop, ProtoDstOpts, ProtoRouting:
			if off+2 > len(body) {
				return 0, 0, false
			}
			nh, off = body[off], off+(int(body[off+1])+1)<<3
		case ProtoFragment:
			if off+4 > len(body) || be.Uint16(body[off+2:])&0xfff8 != 0 {
				return 0, 0, false
			}
			nh, off = body[off], off+8
		case ProtoAH:
			if off+2 > len(body) {
				return 0, 0, false
			}
			nh, off = body[off], off+(int(body[off+1])+2)<<2
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}
