package pktspec

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/packet"
)

// ParseLog parses a kernel LOG line (nf_log_syslog's format, as dmesg or
// syslog shows it; anything before "IN=", such as a syslog header or the
// log prefix, is skipped) into a Spec that rebuilds the header fields the
// line shows: addresses, LEN, TOS and PREC, TTL or HOPLIMIT, ID, CE/DF/MF,
// FRAG, TC, FLOWLBL, the IPv6 fragment header, ports, SEQ/ACK, WINDOW, RES,
// the TCP flags, URGP, IP and TCP options (OPT (...)), UDP LEN, ICMP TYPE,
// CODE, ID, SEQ, PARAMETER, POINTER, GATEWAY, MTU, the quoted packet of an
// ICMP error ([...]), ESP SPI and the MAC header. IN= gives DirIn on that
// interface (also for forwarded packets, which show IN and OUT); IN= empty
// with OUT= set gives DirOut. What the line does not show is zero: the
// TCP sequence numbers without --log-tcp-sequence, TCP options without
// --log-tcp-options, the ESP sequence number, the payload (sized from LEN).
// UID, GID and MARK describe the socket buffer, not the packet, and are
// ignored.
func ParseLog(line string) (Spec, error) {
	start := findIN(line)
	if start < 0 {
		return Spec{}, &Error{Msg: "not a LOG line: no IN=... OUT=..."}
	}
	lp := logParser{toks: strings.Fields(line[start:])}
	return lp.packet(false)
}

// findIN finds "IN=<dev> OUT=" (the log prefix before it is free text).
func findIN(line string) int {
	for off := 0; ; {
		i := strings.Index(line[off:], "IN=")
		if i < 0 {
			return -1
		}
		i += off
		rest := line[i+3:]
		sp := strings.IndexByte(rest, ' ')
		if sp >= 0 && strings.HasPrefix(rest[sp:], " OUT=") {
			return i
		}
		off = i + 3
	}
}

type logParser struct {
	toks []string
	i    int
}

func (lp *logParser) err(t, msg string) error { return &Error{Token: t, Msg: msg} }

// logPkt gathers the fields of one (outer or quoted) packet.
type logPkt struct {
	in, out        string
	hasIn          bool
	mac            []byte
	src, dst       netip.Addr
	ipLen          int
	tos            uint8
	ttl            uint8
	ipid           uint16
	ce, df, mf     bool
	fragOff        int
	frag           bool
	fragID         uint32
	flow           uint32
	ipOpts, tcpOpt []byte
	proto          int // -1 until PROTO=
	sport, dport   uint16
	seq, ack       uint32
	win, urp       uint16
	res            uint8
	flags          uint8
	udpLen         int
	icmpType       uint8
	icmpCode       uint8
	rest           uint32
	spi            uint32
	inner          *Spec
	incomplete     bool
}

var logFlags = map[string]uint8{
	"CWR": packet.TCPCwr, "ECE": packet.TCPEce, "URG": packet.TCPUrg, "ACK": packet.TCPAck,
	"PSH": packet.TCPPsh, "RST": packet.TCPRst, "SYN": packet.TCPSyn, "FIN": packet.TCPFin,
}

var logProtos = map[string]int{
	"TCP": packet.ProtoTCP, "UDP": packet.ProtoUDP, "ICMP": packet.ProtoICMP,
	"ICMPv6": packet.ProtoICMPv6, "ESP": packet.ProtoESP, "AH": packet.ProtoAH, "UDPLITE": 136,
}

func (lp *logParser) next() (string, bool) {
	if lp.i >= len(lp.toks) {
		return "", false
	}
	lp.i++
	return lp.toks[lp.i-1], true
}

// options reads "(HEX)" after OPT, or the IPv6 "( FRAG:... )" group.
func (lp *logParser) options(p *logPkt) error {
	t, ok := lp.next()
	if !ok {
		return lp.err("OPT", "OPT without options")
	}
	if t != "(" {
		h := strings.TrimSuffix(strings.TrimPrefix(t, "("), ")")
		b, err := hex.DecodeString(h)
		if err != nil || !strings.HasPrefix(t, "(") || !strings.HasSuffix(t, ")") {
			return lp.err(t, "options are not (HEX)")
		}
		if p.proto == packet.ProtoTCP {
			p.tcpOpt = b
		} else {
			p.ipOpts = b
		}
		return nil
	}
	for {
		t, ok := lp.next()
		if !ok {
			return lp.err("OPT", "unterminated OPT ( ... )")
		}
		switch {
		case t == ")":
			return nil
		case strings.HasPrefix(t, "FRAG:") || strings.HasPrefix(t, "ID:") || t == "INCOMPLETE":
			if err := lp.ipv6Frag(p, t); err != nil {
				return err
			}
		default:
			return lp.err(t, "IPv6 extension header the spec cannot rebuild")
		}
	}
}

func (lp *logParser) ipv6Frag(p *logPkt, t string) error {
	p.frag = true
	switch {
	case t == "INCOMPLETE":
		p.mf = true
	case strings.HasPrefix(t, "FRAG:"):
		v, err := strconv.ParseUint(t[5:], 10, 16)
		if err != nil || v%8 != 0 {
			return lp.err(t, "bad fragment offset")
		}
		p.fragOff = int(v)
	default:
		v, err := strconv.ParseUint(t[3:], 16, 32)
		if err != nil {
			return lp.err(t, "bad fragment ID")
		}
		p.fragID = uint32(v)
	}
	return nil
}

func (lp *logParser) packet(nested bool) (Spec, error) {
	p := logPkt{proto: -1}
	for {
		t, ok := lp.next()
		if !ok {
			if nested {
				return Spec{}, lp.err("[", "quoted packet without ]")
			}
			break
		}
		if nested && t == "]" {
			break
		}
		if err := lp.field(&p, t, nested); err != nil {
			return Spec{}, err
		}
	}
	return p.spec(lp)
}

func (lp *logParser) field(p *logPkt, t string, nested bool) error {
	if strings.HasPrefix(t, "[") && !nested && p.proto >= 0 {
		// the quoted packet of an ICMP error: "[SRC=... ]"
		if t == "[" {
			lp.i++
		} else {
			lp.toks[lp.i-1] = t[1:]
			lp.i--
		}
		in, err := lp.packet(true)
		if err != nil {
			return err
		}
		p.inner = &in
		return nil
	}
	k, v, eq := strings.Cut(t, "=")
	num := func(bits int, base int) (uint64, error) {
		x, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), base, bits)
		if err != nil {
			return 0, lp.err(t, "bad number")
		}
		return x, nil
	}
	l4 := p.proto >= 0
	v6 := p.src.Is6()
	if !eq {
		switch {
		case t == "CE" && !l4:
			p.ce = true
		case t == "DF" && !l4:
			p.df = true
		case t == "MF" && !l4:
			p.mf = true
		case strings.HasPrefix(t, "FRAG:") && !l4 && !v6:
			x, err := strconv.ParseUint(t[5:], 10, 13)
			if err != nil {
				return lp.err(t, "bad fragment offset")
			}
			p.fragOff = int(x) * 8
		case (strings.HasPrefix(t, "FRAG:") || strings.HasPrefix(t, "ID:") || t == "INCOMPLETE") && !l4 && v6:
			return lp.ipv6Frag(p, t)
		case t == "OPT":
			return lp.options(p)
		case t == "AE" && p.proto == packet.ProtoTCP:
			p.res |= 1
		case logFlags[t] != 0 && p.proto == packet.ProtoTCP:
			p.flags |= logFlags[t]
		case t == "INCOMPLETE":
			// "INCOMPLETE [n bytes]": the header was cut short (in quotes).
			p.incomplete = true
			for lp.i < len(lp.toks) {
				x := lp.toks[lp.i]
				lp.i++
				if strings.HasSuffix(x, "]") {
					break
				}
			}
		default:
			return lp.err(t, "unknown LOG field")
		}
		return nil
	}
	var err error
	var x uint64
	switch k {
	case "IN":
		p.in, p.hasIn = v, true
	case "OUT":
		p.out = v
	case "PHYSIN", "PHYSOUT", "UID", "GID", "MARK", "VPROTO", "VID":
	case "MAC":
		if v == "" {
			return nil
		}
		b, herr := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
		if herr != nil {
			return lp.err(t, "bad MAC header")
		}
		p.mac = b
	case "SRC", "DST":
		a, perr := netip.ParseAddr(v)
		if perr != nil || a.Zone() != "" {
			return lp.err(t, "bad address")
		}
		if k == "SRC" {
			p.src = a
		} else {
			p.dst = a
		}
	case "LEN":
		x, err = num(32, 10)
		if l4 {
			p.udpLen = int(x)
		} else {
			p.ipLen = int(x)
		}
	case "TOS", "PREC":
		x, err = num(8, 16)
		p.tos |= uint8(x)
	case "TC":
		x, err = num(8, 10)
		p.tos = uint8(x)
	case "TTL", "HOPLIMIT":
		x, err = num(8, 10)
		p.ttl = uint8(x)
	case "FLOWLBL":
		x, err = num(20, 10)
		p.flow = uint32(x)
	case "ID":
		x, err = num(16, 10)
		if l4 {
			p.rest = uint32(x)<<16 | p.rest&0xffff
		} else {
			p.ipid = uint16(x)
		}
	case "PROTO":
		n, ok := logProtos[v]
		if !ok {
			x, err = num(8, 10)
			n = int(x)
		}
		p.proto = n
	case "SPT":
		x, err = num(16, 10)
		p.sport = uint16(x)
	case "DPT":
		x, err = num(16, 10)
		p.dport = uint16(x)
	case "SEQ":
		x, err = num(32, 10)
		if p.proto == packet.ProtoTCP {
			p.seq = uint32(x)
		} else {
			p.rest = p.rest&0xffff0000 | uint32(x)&0xffff
		}
	case "ACK":
		x, err = num(32, 10)
		p.ack = uint32(x)
	case "WINDOW":
		x, err = num(16, 10)
		p.win = uint16(x)
	case "RES":
		x, err = num(8, 16)
		p.res |= uint8(x>>2) & 0xe
	case "URGP":
		x, err = num(16, 10)
		p.urp = uint16(x)
	case "TYPE":
		x, err = num(8, 10)
		p.icmpType = uint8(x)
	case "CODE":
		x, err = num(8, 10)
		p.icmpCode = uint8(x)
	case "PARAMETER":
		x, err = num(8, 10)
		p.rest = uint32(x) << 24
	case "POINTER":
		x, err = num(32, 16)
		p.rest = uint32(x)
	case "GATEWAY":
		a, perr := netip.ParseAddr(v)
		if perr != nil || !a.Is4() {
			return lp.err(t, "bad gateway")
		}
		b := a.As4()
		p.rest = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	case "MTU":
		x, err = num(32, 10)
		p.rest = uint32(x)
	case "SPI":
		x, err = num(32, 16)
		p.spi = uint32(x)
	default:
		return lp.err(t, "unknown LOG field")
	}
	return err
}

// spec turns the gathered fields into a Spec whose packet shows them.
func (p *logPkt) spec(lp *logParser) (Spec, error) {
	if !p.src.IsValid() || !p.dst.IsValid() {
		return Spec{}, lp.err("", "LOG line without SRC= and DST=")
	}
	if p.src.Is4() != p.dst.Is4() {
		return Spec{}, lp.err("DST="+p.dst.String(), "addresses of different families")
	}
	v6 := p.src.Is6()
	proto := p.proto
	switch {
	case proto < 0:
		return Spec{}, lp.err("", "LOG line without PROTO=")
	case proto == packet.ProtoAH || proto == 136:
		return Spec{}, lp.err("PROTO="+strconv.Itoa(proto), "AH and UDPLITE packets cannot be rebuilt")
	case proto == packet.ProtoICMP && v6, proto == packet.ProtoICMPv6 && !v6:
		return Spec{}, lp.err("PROTO", "ICMP of the other IP version")
	}
	s := New(uint8(proto), p.src, p.dst)
	if p.hasIn && p.in != "" {
		if msg := checkIface(p.in); msg != "" {
			return Spec{}, lp.err("IN="+p.in, msg)
		}
		s.Dir, s.Iface = DirIn, p.in
	} else if p.out != "" {
		s.Dir = DirOut
	}
	if len(p.mac) == 14 {
		copy(s.DstMAC[:], p.mac[:6])
		copy(s.SrcMAC[:], p.mac[6:12])
		s.HasMAC = true
	}
	s.TTL, s.TOS, s.Len = p.ttl, p.tos, p.ipLen
	if v6 {
		s.Flow = p.flow
		s.Frag, s.FragID = p.frag, p.fragID
	} else {
		s.IPID, s.CE, s.DF = p.ipid, p.ce, p.df
		s.IPOptions = p.ipOpts
	}
	s.FragOff, s.MF = p.fragOff, p.mf
	switch uint8(proto) {
	case packet.ProtoTCP:
		s.SrcPort, s.DstPort = p.sport, p.dport
		s.Seq, s.Ack, s.Win, s.Urp, s.TCPRes, s.TCPFlags = p.seq, p.ack, p.win, p.urp, p.res, p.flags
		s.TCPOptions = p.tcpOpt
	case packet.ProtoUDP:
		s.SrcPort, s.DstPort = p.sport, p.dport
	case packet.ProtoICMP, packet.ProtoICMPv6:
		s.ICMPType, s.ICMPCode, s.ICMPRest = p.icmpType, p.icmpCode, p.rest
		if p.inner != nil && s.isError() {
			s.Inner = p.inner
			p.inner.Dir, p.inner.Iface = DirUnset, ""
		}
	case packet.ProtoESP:
		s.SPI, s.Seq = p.spi, 0
	}
	if p.inner != nil && s.Inner == nil {
		return Spec{}, lp.err("[", "a quoted packet in a packet that is not an ICMP error")
	}
	if s.Len == 0 {
		return Spec{}, lp.err("", "LOG line without LEN=")
	}
	// Size the payload so that the rebuilt packet has LEN bytes.
	n := s.Len - s.ipHeaderLen() // bytes after the IP header
	if n < 0 {
		return Spec{}, lp.err("LEN="+strconv.Itoa(s.Len), "shorter than the IP header")
	}
	tl := s.transportLen()
	switch {
	case s.IsFragment():
		// The spec describes the datagram: as long as this fragment
		// reaches, or as the UDP length says for a first fragment.
		if s.FragOff == 0 && proto == packet.ProtoUDP && p.udpLen >= 8 {
			s.Payload = p.udpLen - 8
		} else {
			s.Payload = max(0, s.FragOff+n-tl)
		}
	case s.Inner != nil:
		in, err := s.Inner.Append(nil)
		if err != nil {
			return Spec{}, err
		}
		q := n - tl
		if q <= 0 || q > len(in) {
			return Spec{}, lp.err("LEN="+strconv.Itoa(s.Len), "disagrees with the quoted packet")
		}
		if q != s.defaultQuote(len(in)) {
			s.Quote = q
		}
	default:
		if n < tl {
			return Spec{}, lp.err("LEN="+strconv.Itoa(s.Len), "shorter than the headers")
		}
		s.Payload = n - tl
	}
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}
