package pktspec

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/packet"
)

// Error is a parse error naming the token at fault and its byte offset in
// the input.
type Error struct {
	Token string // "" at the end of the input
	Pos   int
	Msg   string
}

func (e *Error) Error() string {
	if e.Token == "" {
		return "pktspec: at end of input: " + e.Msg
	}
	return "pktspec: " + strconv.Quote(e.Token) + ": " + e.Msg
}

type token struct {
	s   string
	pos int
}

// tokenize splits on blanks; '>' is a token of its own wherever it is.
func tokenize(s string) []token {
	var toks []token
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, token{s[start:i], start})
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush(i)
		case c == '>':
			flush(i)
			toks = append(toks, token{">", i})
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

// Parse parses the compact notation described in the package comment.
func Parse(s string) (Spec, error) {
	toks := tokenize(s)
	end := len(s)
	var dir Dir
	var iface string
	var dirTok, ifaceTok token
	switch {
	case len(toks) > 0 && toks[0].s == "in":
		if len(toks) < 2 {
			return Spec{}, &Error{Pos: end, Msg: "in needs an interface name"}
		}
		dir, iface, dirTok, ifaceTok = DirIn, toks[1].s, toks[0], toks[1]
		toks = toks[2:]
	case len(toks) > 0 && toks[0].s == "out":
		dir, dirTok = DirOut, toks[0]
		toks = toks[1:]
	}
	n := len(toks)
	switch {
	case n >= 2 && toks[n-2].s == "in":
		if dir != DirUnset {
			return Spec{}, &Error{toks[n-2].s, toks[n-2].pos, "direction given twice (first " + dirTok.s + ")"}
		}
		dir, iface, ifaceTok = DirIn, toks[n-1].s, toks[n-1]
		toks = toks[:n-2]
	case n >= 1 && toks[n-1].s == "out":
		if dir != DirUnset {
			return Spec{}, &Error{toks[n-1].s, toks[n-1].pos, "direction given twice (first " + dirTok.s + ")"}
		}
		dir = DirOut
		toks = toks[:n-1]
	}
	if iface != "" {
		if err := checkIface(iface); err != "" {
			return Spec{}, &Error{ifaceTok.s, ifaceTok.pos, err}
		}
	}
	p := parser{toks: toks, end: end}
	sp, err := p.body()
	if err != nil {
		return Spec{}, err
	}
	sp.Dir, sp.Iface = dir, iface
	return sp, nil
}

// MustParse is Parse for specs known to be good (tests, tables): it
// panics on an error.
func MustParse(s string) Spec {
	sp, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sp
}

// checkIface applies the kernel's rules for device names (dev_valid_name).
func checkIface(s string) string {
	if len(s) >= 16 {
		return "interface name longer than 15 characters"
	}
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/: \t\n\r") {
		return "not a valid interface name"
	}
	if strings.Contains(s, ">") {
		return "an interface name with > cannot be written in the notation"
	}
	return ""
}

type parser struct {
	toks []token
	i    int
	end  int
}

func (p *parser) errAt(t token, msg string) error { return &Error{t.s, t.pos, msg} }

func (p *parser) next() (token, bool) {
	if p.i >= len(p.toks) {
		return token{"", p.end}, false
	}
	t := p.toks[p.i]
	p.i++
	return t, true
}

// arg returns the value token after keyword kw.
func (p *parser) arg(kw token) (token, error) {
	t, ok := p.next()
	if !ok {
		return t, p.errAt(kw, kw.s+" needs a value")
	}
	return t, nil
}

// parseUint accepts decimal and 0x hexadecimal.
func parseUint(s string, bits int) (uint64, bool) {
	base := 10
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s, base = s[2:], 16
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, base, bits)
	return v, err == nil
}

func (p *parser) num(kw token, bits int, max uint64) (uint64, error) {
	t, err := p.arg(kw)
	if err != nil {
		return 0, err
	}
	v, ok := parseUint(t.s, bits)
	if !ok || v > max {
		return 0, p.errAt(t, kw.s+" wants a number from 0 to "+strconv.FormatUint(max, 10))
	}
	return v, nil
}

func (p *parser) hexBytes(kw token, max int) ([]byte, error) {
	t, err := p.arg(kw)
	if err != nil {
		return nil, err
	}
	s := strings.TrimPrefix(t.s, "0x")
	b, herr := hex.DecodeString(s)
	if herr != nil || len(b) > max {
		return nil, p.errAt(t, kw.s+" wants up to "+strconv.Itoa(max)+" bytes in hexadecimal")
	}
	return b, nil
}

var protoNames = map[string]uint8{
	"tcp": packet.ProtoTCP, "udp": packet.ProtoUDP, "icmp": packet.ProtoICMP,
	"icmp6": packet.ProtoICMPv6, "icmpv6": packet.ProtoICMPv6, "ipv6-icmp": packet.ProtoICMPv6,
	"esp": packet.ProtoESP, "ip": 0, "ip6": 0,
}

// parseAddr parses an endpoint: a.b.c.d[:port], [v6][:port], a bare IPv6
// address, or tcpdump's addr.port.
func parseAddr(s string, withPort bool) (a netip.Addr, port uint16, ok bool, msg string) {
	host, ps := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return a, 0, false, "missing ]"
		}
		host = s[1:i]
		rest := s[i+1:]
		if rest != "" {
			if rest[0] != ':' && rest[0] != '.' {
				return a, 0, false, "unexpected text after ]"
			}
			ps = rest[1:]
			if ps == "" {
				return a, 0, false, "missing port after " + rest[:1]
			}
		}
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		host, ps = s[:i], s[i+1:]
	default:
		if _, err := netip.ParseAddr(s); err != nil && withPort {
			if i := strings.LastIndexByte(s, '.'); i > 0 {
				host, ps = s[:i], s[i+1:] // tcpdump's addr.port
			}
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return a, 0, false, "not an IPv4 or IPv6 address"
	}
	if withPort {
		if ps == "" {
			return a, 0, false, "needs a port (a.b.c.d:port, [v6]:port)"
		}
		v, pok := parseUint(ps, 16)
		if !pok {
			return a, 0, false, "bad port " + strconv.Quote(ps)
		}
		port = uint16(v)
	} else if ps != "" {
		return a, 0, false, "this protocol has no ports"
	}
	return a, port, true, ""
}

// fields given, for conflicts and post-parse resolution.
type given struct {
	flags, code, typ, payload, length, quote bool
	id, seq                                  *token
	idVal, seqVal                            uint64
	tok                                      map[string]token // the last token of each keyword
}

func (p *parser) body() (Spec, error) {
	pt, ok := p.next()
	if !ok {
		return Spec{}, p.errAt(pt, "empty packet: want a protocol (tcp, udp, icmp, icmp6, esp, ip, ip6)")
	}
	proto, ok := protoNames[pt.s]
	if !ok {
		return Spec{}, p.errAt(pt, "unknown protocol (want tcp, udp, icmp, icmp6, esp, ip, ip6)")
	}
	st, ok := p.next()
	if !ok {
		return Spec{}, p.errAt(st, "missing source address")
	}
	src, sport, aok, msg := parseAddr(st.s, hasPorts(proto))
	if !aok {
		return Spec{}, p.errAt(st, msg)
	}
	if gt, ok := p.next(); !ok || gt.s != ">" {
		return Spec{}, p.errAt(gt, "want > between the addresses")
	}
	dt, ok := p.next()
	if !ok {
		return Spec{}, p.errAt(dt, "missing destination address")
	}
	dst, dport, aok, msg := parseAddr(dt.s, hasPorts(proto))
	if !aok && strings.HasSuffix(dt.s, ":") { // tcpdump's "dst:"
		dst, dport, aok, _ = parseAddr(dt.s[:len(dt.s)-1], hasPorts(proto))
	}
	if !aok {
		return Spec{}, p.errAt(dt, msg)
	}
	if src.Is4() != dst.Is4() {
		return Spec{}, p.errAt(dt, "source and destination of different families")
	}
	v6 := !src.Is4()
	switch {
	case pt.s == "ip" && v6:
		return Spec{}, p.errAt(pt, "IPv6 addresses: use ip6")
	case pt.s == "ip6" && !v6:
		return Spec{}, p.errAt(pt, "IPv4 addresses: use ip")
	case proto == packet.ProtoICMP && v6:
		return Spec{}, p.errAt(pt, "IPv6 addresses: use icmp6")
	case proto == packet.ProtoICMPv6 && !v6:
		return Spec{}, p.errAt(pt, "IPv4 addresses: use icmp")
	}
	if pt.s == "ip" || pt.s == "ip6" {
		proto = packet.ProtoNoNext
		if !v6 {
			proto = 255
		}
	}
	s := New(proto, src, dst)
	s.SrcPort, s.DstPort = sport, dport
	g := given{tok: map[string]token{}}
	if err := p.fields(&s, &g, pt); err != nil {
		return Spec{}, err
	}
	if err := p.resolve(&s, &g); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (p *parser) onlyFor(s *Spec, t token, ok bool, what string) error {
	if !ok {
		return p.errAt(t, "only for "+what)
	}
	return nil
}

func (p *parser) fields(s *Spec, g *given, pt token) error {
	v6 := s.IsIPv6()
	tcp := s.Proto == packet.ProtoTCP
	udp := s.Proto == packet.ProtoUDP
	icmp := isICMP(s.Proto)
	generic := pt.s == "ip" || pt.s == "ip6"
	setFlags := func(f uint8) {
		if !g.flags {
			s.TCPFlags = 0
			g.flags = true
		}
		s.TCPFlags |= f
	}
	for {
		t, ok := p.next()
		if !ok {
			return nil
		}
		g.tok[t.s] = t
		var err error
		var v uint64
		switch t.s {
		case "ttl", "hlim":
			v, err = p.num(t, 8, 255)
			s.TTL = uint8(v)
		case "tos", "tc":
			v, err = p.num(t, 8, 255)
			s.TOS = uint8(v)
		case "id":
			tt := t
			g.id = &tt
			g.idVal, err = p.num(t, 16, 0xffff)
		case "ipid":
			if err = p.onlyFor(s, t, !v6, "IPv4 (IPv6 has fragid)"); err == nil {
				v, err = p.num(t, 16, 0xffff)
				s.IPID = uint16(v)
			}
		case "df", "ce":
			if err = p.onlyFor(s, t, !v6, "IPv4"); err == nil {
				if t.s == "df" {
					s.DF = true
				} else {
					s.CE = true
				}
			}
		case "flow":
			if err = p.onlyFor(s, t, v6, "IPv6"); err == nil {
				v, err = p.num(t, 32, 0xfffff)
				s.Flow = uint32(v)
			}
		case "frag":
			if err = p.onlyFor(s, t, v6, "IPv6 (IPv4 fragments: off, mf)"); err == nil {
				s.Frag = true
			}
		case "fragid":
			if v6 {
				v, err = p.num(t, 32, 0xffffffff)
				s.FragID, s.Frag = uint32(v), true
			} else {
				v, err = p.num(t, 16, 0xffff)
				s.IPID = uint16(v)
			}
		case "off":
			v, err = p.num(t, 16, 65528)
			if err == nil && v%8 != 0 {
				err = p.errAt(p.toks[p.i-1], "fragment offset must be a multiple of 8 bytes")
			}
			s.FragOff = int(v)
			s.Frag = s.Frag || v6
		case "mf", "more":
			s.MF = true
			s.Frag = s.Frag || v6
		case "len":
			v, err = p.num(t, 32, 0xffff+40)
			s.Len = int(v)
		case "payload", "length":
			if g.payload {
				err = p.errAt(t, "payload size given twice")
				break
			}
			g.payload, g.length = true, t.s == "length"
			v, err = p.num(t, 32, 0xffff)
			if err == nil && g.length && (icmp || s.Proto == packet.ProtoESP) {
				// tcpdump's length of ICMP and ESP counts their 8-byte header
				if v < 8 {
					err = p.errAt(p.toks[p.i-1], "length of "+pt.s+" includes its 8-byte header")
				}
				v -= 8
			}
			s.Payload = int(v)
		case "data":
			var b []byte
			if b, err = p.hexBytes(t, 0xffff); err == nil {
				s.Data = b
			}
		case "flags":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				var a token
				if a, err = p.arg(t); err == nil {
					f, fok := parseFlags(a.s)
					if !fok {
						err = p.errAt(a, "unknown TCP flags (names syn,ack,... or tcpdump's letters SFRPUEW. or none)")
					}
					setFlags(f)
				}
			}
		case "ack":
			if err = p.onlyFor(s, t, tcp, "tcp"); err != nil {
				break
			}
			setFlags(packet.TCPAck)
			if p.i < len(p.toks) {
				a := p.toks[p.i].s
				if rel, ok := strings.CutPrefix(a, "peer+"); ok {
					p.i++
					v, vok := parseUint(rel, 32)
					if !vok {
						err = p.errAt(p.toks[p.i-1], "ack peer+N wants a number N")
					}
					s.Ack, s.AckPeer = uint32(v), true
				} else if v, vok := parseUint(a, 32); vok {
					p.i++
					s.Ack = uint32(v)
				}
			}
		case "acknum":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				v, err = p.num(t, 32, 0xffffffff)
				s.Ack = uint32(v)
			}
		case "seq":
			tt := t
			g.seq = &tt
			g.seqVal, err = p.num(t, 32, 0xffffffff)
		case "win", "window":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				v, err = p.num(t, 16, 0xffff)
				s.Win = uint16(v)
			}
		case "urp":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				v, err = p.num(t, 16, 0xffff)
				s.Urp = uint16(v)
			}
		case "res":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				v, err = p.num(t, 8, 15)
				s.TCPRes = uint8(v)
			}
		case "mss":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				v, err = p.num(t, 16, 0xffff)
				s.MSS = uint16(v)
				if err == nil && v == 0 {
					err = p.errAt(p.toks[p.i-1], "mss 0: leave the option out instead")
				}
			}
		case "wscale":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				v, err = p.num(t, 8, 255)
				s.WScale = int(v)
			}
		case "sackok":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				s.SACKOK = true
			}
		case "ts":
			if err = p.onlyFor(s, t, tcp, "tcp"); err != nil {
				break
			}
			var a token
			if a, err = p.arg(t); err == nil {
				val, ecr, _ := strings.Cut(a.s, ":")
				x, ok1 := parseUint(val, 32)
				y, ok2 := uint64(0), true
				if ecr != "" || strings.Contains(a.s, ":") {
					y, ok2 = parseUint(ecr, 32)
				}
				if !ok1 || !ok2 {
					err = p.errAt(a, "ts wants VAL or VAL:ECR")
				}
				s.TS, s.TSVal, s.TSEcr = true, uint32(x), uint32(y)
			}
		case "tcpopts":
			if err = p.onlyFor(s, t, tcp, "tcp"); err == nil {
				s.TCPOptions, err = p.hexBytes(t, 40)
			}
		case "ipopts":
			if err = p.onlyFor(s, t, !v6, "IPv4"); err == nil {
				s.IPOptions, err = p.hexBytes(t, 40)
			}
		case "type":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err != nil {
				break
			}
			if g.typ {
				err = p.errAt(t, "ICMP type given twice")
				break
			}
			var a token
			if a, err = p.arg(t); err == nil {
				if ty, c, ok := lookupICMPName(v6, a.s); ok {
					s.ICMPType = ty
					if c >= 0 && !g.code {
						s.ICMPCode = uint8(c)
					}
				} else if v, ok := parseUint(a.s, 8); ok {
					s.ICMPType = uint8(v)
				} else {
					err = p.errAt(a, "unknown ICMP type")
				}
				g.typ = true
			}
		case "code":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err == nil {
				v, err = p.num(t, 8, 255)
				s.ICMPCode, g.code = uint8(v), true
			}
		case "mtu":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err == nil {
				if v6 {
					v, err = p.num(t, 32, 0xffffffff)
				} else {
					v, err = p.num(t, 16, 0xffff)
				}
				s.ICMPRest = uint32(v)
			}
		case "ptr":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err == nil {
				if v6 {
					v, err = p.num(t, 32, 0xffffffff)
					s.ICMPRest = uint32(v)
				} else {
					v, err = p.num(t, 8, 255)
					s.ICMPRest = uint32(v) << 24
				}
			}
		case "gw":
			if err = p.onlyFor(s, t, icmp && !v6, "icmp"); err != nil {
				break
			}
			var a token
			if a, err = p.arg(t); err == nil {
				gw, perr := netip.ParseAddr(a.s)
				if perr != nil || !gw.Is4() {
					err = p.errAt(a, "gw wants an IPv4 address")
				} else {
					b := gw.As4()
					s.ICMPRest = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
				}
			}
		case "rest":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err == nil {
				v, err = p.num(t, 32, 0xffffffff)
				s.ICMPRest = uint32(v)
			}
		case "quote":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err == nil {
				v, err = p.num(t, 32, 0xffff)
				s.Quote, g.quote = int(v), true
				if err == nil && v == 0 {
					err = p.errAt(p.toks[p.i-1], "quote wants at least one byte")
				}
			}
		case "quoting":
			if err = p.onlyFor(s, t, icmp, "icmp and icmp6"); err != nil {
				break
			}
			if p.i >= len(p.toks) {
				return p.errAt(t, "quoting needs the quoted packet")
			}
			in := parser{toks: p.toks[p.i:], end: p.end}
			inner, ierr := in.body()
			if ierr != nil {
				return ierr
			}
			if inner.IsIPv6() != v6 {
				return p.errAt(p.toks[p.i], "quoted packet of another family")
			}
			if inner.Inner != nil {
				return p.errAt(p.toks[p.i], "quoted packet quotes a packet itself")
			}
			s.Inner = &inner
			p.i = len(p.toks)
		case "spi":
			if err = p.onlyFor(s, t, s.Proto == packet.ProtoESP || udp, "esp and udp"); err == nil {
				v, err = p.num(t, 32, 0xffffffff)
				s.SPI = uint32(v)
				if udp {
					s.UDPESP = true
					if err == nil && v == 0 {
						err = p.errAt(p.toks[p.i-1], "SPI 0 in UDP is the non-ESP marker: use ike")
					}
				}
			}
		case "ike":
			if err = p.onlyFor(s, t, udp, "udp"); err == nil {
				s.IKE = true
			}
		case "proto":
			if err = p.onlyFor(s, t, generic, "ip and ip6"); err == nil {
				v, err = p.num(t, 8, 255)
				s.Proto = uint8(v)
			}
		case "smac", "dmac":
			var a token
			if a, err = p.arg(t); err == nil {
				m, ok := parseMAC(a.s)
				if !ok {
					err = p.errAt(a, "not a MAC address (xx:xx:xx:xx:xx:xx)")
				} else if t.s == "smac" {
					s.SrcMAC, s.HasMAC = m, true
				} else {
					s.DstMAC, s.HasMAC = m, true
				}
			}
		default:
			switch {
			case tcp:
				if f, ok := parseFlags(t.s); ok {
					setFlags(f)
					continue
				}
			case icmp:
				if ty, c, ok := lookupICMPName(v6, t.s); ok {
					if g.typ {
						return p.errAt(t, "ICMP type given twice")
					}
					s.ICMPType, g.typ = ty, true
					if c >= 0 && !g.code {
						s.ICMPCode = uint8(c)
					}
					continue
				}
			}
			return p.errAt(t, "unknown field for "+pt.s)
		}
		if err != nil {
			return err
		}
	}
}

// resolve applies what depends on several fields: id and seq by protocol
// and ICMP type, the payload size from len, and the checks between fields.
func (p *parser) resolve(s *Spec, g *given) error {
	v6 := s.IsIPv6()
	if isICMP(s.Proto) && !s.isEcho() {
		_, mtu := g.tok["mtu"]
		_, ptr := g.tok["ptr"]
		_, gw := g.tok["gw"]
		_, rest := g.tok["rest"]
		if !mtu && !ptr && !gw && !rest {
			s.ICMPRest = 0 // the echo default does not apply
		}
	}
	if g.id != nil {
		switch {
		case s.isEcho():
			s.ICMPRest = uint32(g.idVal)<<16 | s.ICMPRest&0xffff
		case !v6:
			s.IPID = uint16(g.idVal)
		default:
			return p.errAt(*g.id, "IPv6 has no identification outside a fragment header (fragid)")
		}
	}
	if g.seq != nil {
		switch {
		case s.Proto == packet.ProtoTCP || s.Proto == packet.ProtoESP || s.UDPESP:
			s.Seq = uint32(g.seqVal)
		case s.isEcho():
			if g.seqVal > 0xffff {
				return p.errAt(*g.seq, "ICMP echo sequence is 16 bits")
			}
			s.ICMPRest = s.ICMPRest&0xffff0000 | uint32(g.seqVal)
		default:
			return p.errAt(*g.seq, "no sequence number in this packet")
		}
	}
	if s.UDPESP && s.IKE {
		return p.errAt(g.tok["ike"], "ike and spi exclude each other")
	}
	if s.Inner != nil {
		if !s.isError() {
			return p.errAt(g.tok["quoting"], "only ICMP errors quote a packet")
		}
		if g.payload || s.Data != nil {
			return p.errAt(g.tok["quoting"], "the quoted packet is the payload: no payload or data")
		}
	} else if g.quote {
		return p.errAt(g.tok["quote"], "quote without quoting")
	}
	if s.TCPOptions != nil && (s.MSS != 0 || s.WScale >= 0 || s.SACKOK || s.TS) {
		return p.errAt(g.tok["tcpopts"], "tcpopts and option fields exclude each other")
	}
	if s.Data != nil {
		if g.payload && s.Payload != len(s.Data) {
			return p.errAt(g.tok["data"], "data is "+strconv.Itoa(len(s.Data))+" bytes, payload says "+strconv.Itoa(s.Payload))
		}
		s.Payload = len(s.Data)
		g.payload = true
	}
	if s.Len != 0 && !s.IsFragment() {
		hl := s.headerLen()
		if s.Inner != nil {
			if err := s.sizeQuote(p, g); err != nil {
				return err
			}
		} else if !g.payload {
			if s.Len < hl {
				return p.errAt(g.tok["len"], "len "+strconv.Itoa(s.Len)+" is less than the headers ("+strconv.Itoa(hl)+" bytes)")
			}
			s.Payload = s.Len - hl
		} else if hl+s.Payload != s.Len {
			return p.errAt(g.tok["len"], "len "+strconv.Itoa(s.Len)+" disagrees with the headers and payload ("+strconv.Itoa(hl+s.Payload)+" bytes)")
		}
	}
	if s.Len != 0 && s.IsFragment() && s.Len < s.ipHeaderLen() {
		return p.errAt(g.tok["len"], "len is less than the IP header")
	}
	return nil
}

// sizeQuote makes the quote agree with len on an ICMP error.
func (s *Spec) sizeQuote(p *parser, g *given) error {
	q := s.Len - s.headerLen()
	inner, err := s.Inner.Append(nil)
	if err != nil {
		return p.errAt(g.tok["quoting"], err.Error())
	}
	if q <= 0 || q > len(inner) || (g.quote && q != s.Quote) {
		return p.errAt(g.tok["len"], "len disagrees with the quoted packet")
	}
	if q != s.defaultQuote(len(inner)) {
		s.Quote = q
	}
	return nil
}

func parseMAC(s string) (m [6]byte, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, false
	}
	for i, x := range parts {
		if len(x) != 2 {
			return m, false
		}
		v, err := strconv.ParseUint(x, 16, 8)
		if err != nil {
			return m, false
		}
		m[i] = byte(v)
	}
	return m, true
}

var flagNames = []struct {
	name   string
	letter byte
	bit    uint8
}{
	{"syn", 'S', packet.TCPSyn}, {"fin", 'F', packet.TCPFin}, {"rst", 'R', packet.TCPRst},
	{"psh", 'P', packet.TCPPsh}, {"ack", '.', packet.TCPAck}, {"urg", 'U', packet.TCPUrg},
	{"ece", 'E', packet.TCPEce}, {"cwr", 'W', packet.TCPCwr},
}

// parseFlags parses "syn,ack", "none", or tcpdump's letters "S." / "[S.]".
func parseFlags(s string) (uint8, bool) {
	if s == "none" || s == "[none]" {
		return 0, true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") && len(s) > 2 {
		return parseLetters(s[1 : len(s)-1])
	}
	if f, ok := parseLetters(s); ok {
		return f, true
	}
	var f uint8
	for _, n := range strings.Split(s, ",") {
		found := false
		for _, x := range flagNames {
			if x.name == n {
				f |= x.bit
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, true
}

func parseLetters(s string) (uint8, bool) {
	if s == "" {
		return 0, false
	}
	var f uint8
	for i := 0; i < len(s); i++ {
		found := false
		for _, x := range flagNames {
			if x.letter == s[i] {
				f |= x.bit
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, true
}
