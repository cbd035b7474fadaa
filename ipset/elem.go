package ipset

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// Error is an ipset failure: Msg is printed after "ipset v7.17: ";
// Code is the exit status (2 adds the "Try `ipset help'" line).
type Error struct {
	Code int
	Msg  string
	// noLine: ipset prints this one without restore's "Error in line
	// N: " (a message made of several accumulated reports).
	noLine bool
}

func (e *Error) Error() string { return e.Msg }

func errf(format string, args ...any) *Error {
	return &Error{Code: 1, Msg: fmt.Sprintf(format, args...)}
}

func paramErr(format string, args ...any) *Error {
	return &Error{Code: 2, Msg: fmt.Sprintf(format, args...)}
}

func syntaxErr(format string, args ...any) *Error {
	return errf("Syntax error: "+format, args...)
}

// Kernel error texts (lib/errcode.c).
var (
	errNoSet       = errf("The set with the given name does not exist")
	errExistCreate = errf("Set cannot be created: set with the same name already exists")
	errExistAdd    = errf("Element cannot be added to the set: it's already added")
	errExistDel    = errf("Element cannot be deleted from the set: it's not added")
	errTimeout     = errf("Timeout cannot be used: set was created without timeout support")
	errCounter     = errf("Packet/byte counters cannot be used: set was created without counter support")
	errComment     = errf("Comment cannot be used: set was created without comment support")
	errSkbinfo     = errf("Skbinfo mapping cannot be used: set was created without skbinfo support")
	errCidr        = errf("The value of the CIDR parameter of the IP address is invalid")
	errHashFull    = errf("Hash is full, cannot add more elements")
	errRange       = errf("Element is out of the range of the set")
	errHashElem    = errf("Null-valued element, cannot be stored in a hash type of set")
	errListFull    = errf("The set is full, more elements cannot be added.")
	errProtocol    = errf("Kernel error received: ipset protocol error")
)

// span is a parsed element part before ranges are expanded.
type span struct {
	from, to   netip.Addr // addresses; to == from for a single one
	cidr       int        // compNet/compIP with "/cidr", else -1
	isRange    bool       // "a-b"
	proto      uint8
	pfrom, pto uint16
	portRange  bool
	c          Comp // the non-address, non-port kinds
}

// parseAddr is getaddrinfo restricted to numeric hosts and the host's
// names, in the set's family.
func parseAddr(s string, fam Family, names xtables.Resolver) (netip.Addr, *Error) {
	fname := "IPv4"
	if fam == FamilyInet6 {
		fname = "IPv6"
	}
	if a, err := netip.ParseAddr(s); err == nil && !strings.Contains(s, "%") {
		if (fam == FamilyInet6) == a.Is6() && !a.Is4In6() {
			return a, nil
		}
		return netip.Addr{}, syntaxErr("cannot parse %s: resolving to %s address failed", s, fname)
	}
	if names != nil {
		xf := xtables.IPv4
		if fam == FamilyInet6 {
			xf = xtables.IPv6
		}
		if as := names.HostAddrs(s, xf); len(as) > 0 {
			return as[0], nil
		}
	}
	return netip.Addr{}, syntaxErr("cannot parse %s: resolving to %s address failed", s, fname)
}

// parseIPSpan reads IP, IP/CIDR or IP-IP.
func parseIPSpan(s string, fam Family, names xtables.Resolver) (span, *Error) {
	sp := span{cidr: -1}
	bits := 32
	if fam == FamilyInet6 {
		bits = 128
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		a, err := parseAddr(s[:i], fam, names)
		if err != nil {
			return sp, err
		}
		c, perr := strconv.ParseUint(s[i+1:], 10, 8)
		if perr != nil {
			return sp, syntaxErr("'%s' is invalid as number", s[i+1:])
		}
		if int(c) > bits {
			return sp, syntaxErr("'%s' is out of range 0-%d", s[i+1:], bits)
		}
		sp.from, sp.to, sp.cidr = a, a, int(c)
		return sp, nil
	}
	if i := strings.IndexByte(s, '-'); i >= 0 && fam != FamilyInet6 {
		a, err := parseAddr(s[:i], fam, names)
		if err != nil {
			return sp, err
		}
		b, err := parseAddr(s[i+1:], fam, names)
		if err != nil {
			return sp, err
		}
		sp.from, sp.to, sp.isRange = a, b, true
		return sp, nil
	}
	a, err := parseAddr(s, fam, names)
	if err != nil {
		return sp, err
	}
	sp.from, sp.to = a, a
	return sp, nil
}

// protocols that carry ports.
func portProto(p uint8) bool { return p == 6 || p == 17 || p == 132 || p == 136 }

var icmpNames = []struct {
	name      string
	typ, code uint8
	v6        bool
}{
	{"echo-reply", 0, 0, false}, {"pong", 0, 0, false},
	{"network-unreachable", 3, 0, false}, {"host-unreachable", 3, 1, false},
	{"protocol-unreachable", 3, 2, false}, {"port-unreachable", 3, 3, false},
	{"fragmentation-needed", 3, 4, false}, {"source-route-failed", 3, 5, false},
	{"network-unknown", 3, 6, false}, {"host-unknown", 3, 7, false},
	{"network-prohibited", 3, 9, false}, {"host-prohibited", 3, 10, false},
	{"TOS-network-unreachable", 3, 11, false}, {"TOS-host-unreachable", 3, 12, false},
	{"communication-prohibited", 3, 13, false}, {"host-precedence-violation", 3, 14, false},
	{"precedence-cutoff", 3, 15, false}, {"source-quench", 4, 0, false},
	{"network-redirect", 5, 0, false}, {"host-redirect", 5, 1, false},
	{"TOS-network-redirect", 5, 2, false}, {"TOS-host-redirect", 5, 3, false},
	{"echo-request", 8, 0, false}, {"ping", 8, 0, false},
	{"router-advertisement", 9, 0, false}, {"router-solicitation", 10, 0, false},
	{"ttl-zero-during-transit", 11, 0, false}, {"ttl-zero-during-reassembly", 11, 1, false},
	{"ip-header-bad", 12, 0, false}, {"required-option-missing", 12, 1, false},
	{"timestamp-request", 13, 0, false}, {"timestamp-reply", 14, 0, false},
	{"address-mask-request", 17, 0, false}, {"address-mask-reply", 18, 0, false},
	{"no-route", 1, 0, true}, {"communication-prohibited", 1, 1, true},
	{"address-unreachable", 1, 3, true}, {"port-unreachable", 1, 4, true},
	{"packet-too-big", 2, 0, true}, {"ttl-zero-during-transit", 3, 0, true},
	{"ttl-zero-during-reassembly", 3, 1, true}, {"bad-header", 4, 0, true},
	{"unknown-header-type", 4, 1, true}, {"unknown-option", 4, 2, true},
	{"echo-request", 128, 0, true}, {"ping", 128, 0, true},
	{"echo-reply", 129, 0, true}, {"pong", 129, 0, true},
	{"router-solicitation", 133, 0, true}, {"router-advertisement", 134, 0, true},
	{"neighbour-solicitation", 135, 0, true}, {"neigbour-solicitation", 135, 0, true},
	{"neighbour-advertisement", 136, 0, true}, {"neigbour-advertisement", 136, 0, true},
	{"redirect", 137, 0, true},
}

func protoName(p uint8, names xtables.Resolver) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	if names != nil {
		if n := names.ProtoName(p); n != "" {
			return n
		}
	}
	return strconv.Itoa(int(p))
}

// parsePortSpan reads [PROTO:]PORT[-PORT] (ipset_parse_proto_port).
func parsePortSpan(s string, fam Family, names xtables.Resolver, withProto bool) (span, *Error) {
	sp := span{cidr: -1, proto: 6}
	port := s
	if withProto {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			pn := s[:i]
			port = s[i+1:]
			switch strings.ToLower(pn) {
			case "tcp":
				sp.proto = 6
			case "udp":
				sp.proto = 17
			case "icmp":
				sp.proto = 1
			case "icmpv6", "ipv6-icmp":
				sp.proto = 58
			default:
				p := -1
				if names != nil {
					p = names.ProtoByName(pn)
				}
				if p < 0 {
					v, err := strconv.ParseUint(pn, 10, 8)
					if err != nil {
						return sp, syntaxErr("cannot parse '%s' as a protocol", pn)
					}
					p = int(v)
				}
				sp.proto = uint8(p)
			}
			if sp.proto == 1 || sp.proto == 58 {
				if sp.proto == 1 && fam == FamilyInet6 {
					return sp, syntaxErr("Protocol ICMP can be used with family inet only")
				}
				if sp.proto == 58 && fam != FamilyInet6 {
					return sp, syntaxErr("Protocol ICMPv6 can be used with family inet6 only")
				}
				return parseICMP(sp, port)
			}
			if !portProto(sp.proto) {
				if port != "0" {
					return sp, syntaxErr("Protocol %s can be used with pseudo port value 0 only.", pn)
				}
				sp.pfrom, sp.pto = 0, 0
				return sp, nil
			}
		}
	}
	pname := protoName(sp.proto, names)
	one := func(p string) (uint16, *Error) {
		if v, err := strconv.ParseUint(p, 10, 16); err == nil {
			return uint16(v), nil
		}
		if names != nil {
			if v := names.ServicePort(p, pname); v >= 0 {
				return uint16(v), nil
			}
		}
		return 0, &Error{Code: 1, noLine: true, Msg: fmt.Sprintf("Syntax error: '%s' is invalid as number\nSyntax error: '%s' is invalid as number\ncannot parse '%s' as a %s port", p, pname, p, pname)}
	}
	if i := strings.IndexByte(port, '-'); i >= 0 {
		a, err := one(port[:i])
		if err != nil {
			return sp, err
		}
		b, err := one(port[i+1:])
		if err != nil {
			return sp, err
		}
		if a > b {
			a, b = b, a
		}
		sp.pfrom, sp.pto, sp.portRange = a, b, true
		return sp, nil
	}
	p, err := one(port)
	if err != nil {
		return sp, err
	}
	sp.pfrom, sp.pto = p, p
	return sp, nil
}

func parseICMP(sp span, s string) (span, *Error) {
	v6 := sp.proto == 58
	for _, n := range icmpNames {
		if n.v6 == v6 && strings.EqualFold(n.name, s) {
			v := uint16(n.typ)<<8 | uint16(n.code)
			sp.pfrom, sp.pto = v, v
			return sp, nil
		}
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		t, e1 := strconv.ParseUint(s[:i], 10, 8)
		c, e2 := strconv.ParseUint(s[i+1:], 10, 8)
		if e1 == nil && e2 == nil {
			v := uint16(t)<<8 | uint16(c)
			sp.pfrom, sp.pto = v, v
			return sp, nil
		}
	}
	if v6 {
		return sp, syntaxErr("Invalid ICMPv6 type/code '%s'", s)
	}
	return sp, syntaxErr("Invalid ICMP type/code '%s'", s)
}

func icmpString(p uint8, v uint16) string {
	for _, n := range icmpNames {
		if n.v6 == (p == 58) && uint16(n.typ)<<8|uint16(n.code) == v {
			return n.name
		}
	}
	return strconv.Itoa(int(v>>8)) + "/" + strconv.Itoa(int(v&0xff))
}

// splitElem cuts an element at its commas the way ipset_parse_elem does
// and reports the dimension errors in its words.
func splitElem(t *Type, s string, optional bool) ([]string, *Error) {
	parts := strings.Split(s, ",")
	dim := len(t.comps)
	if len(parts) > dim {
		switch len(parts) - 1 {
		case 1:
			return nil, syntaxErr("Elem separator in %s, but settype %s supports none.", s, t.Name)
		case 2:
			return nil, syntaxErr("Two elem separators in %s, but settype %s supports one.", s, t.Name)
		case 3:
			return nil, syntaxErr("Four elem separators in %s, but settype %s supports three.", s, t.Name)
		default:
			return nil, syntaxErr("Five elem separators in %s, but settype %s supports four.", s, t.Name)
		}
	}
	if len(parts) < dim && !(optional && len(parts) == dim-1) {
		switch len(parts) {
		case 1:
			return nil, syntaxErr("Second element is missing from %s.", s)
		default:
			return nil, syntaxErr("Third element is missing from %s.", s)
		}
	}
	return parts, nil
}

// parseMAC reads an Ethernet address (ipset_parse_ether).
func parseMAC(s string) ([6]byte, *Error) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, syntaxErr("cannot parse '%s' as ethernet address", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) == 0 || len(p) > 2 {
			return m, syntaxErr("cannot parse '%s' as ethernet address", s)
		}
		m[i] = byte(v)
	}
	return m, nil
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5])
}

// compString renders one dimension as list and save print it.
func (s *Set) compString(k compKind, c Comp, names xtables.Resolver) string {
	switch k {
	case compIP:
		if c.shownCidr > 0 {
			return c.Addr.String() + "/" + strconv.Itoa(c.shownCidr)
		}
		return c.Addr.String()
	case compNet:
		if c.Cidr == s.bits() {
			return c.Addr.String()
		}
		return c.Addr.String() + "/" + strconv.Itoa(c.Cidr)
	case compPort:
		if s.Type.kind == kindBitmap {
			return strconv.Itoa(int(c.Port))
		}
		pn := protoName(c.Proto, names)
		if c.Proto == 1 || c.Proto == 58 {
			return pn + ":" + icmpString(c.Proto, c.Port)
		}
		return pn + ":" + strconv.Itoa(int(c.Port))
	case compMAC:
		return macString(c.MAC)
	case compIface:
		if c.Physdev {
			return "physdev:" + c.Iface
		}
		return c.Iface
	case compSet:
		return c.Name
	}
	return ""
}

func (s *Set) entryKey(comps []Comp) string {
	var b strings.Builder
	for i, c := range comps {
		if i > 0 {
			b.WriteByte(',')
		}
		if s.Type.comps[i] == compMAC && c.NoMAC {
			continue
		}
		b.WriteString(s.compString(s.Type.comps[i], c, nil))
	}
	return strings.TrimSuffix(b.String(), ",")
}

// rangeToCidrs splits an IPv4 range into CIDR blocks, low to high
// (ip_set_range_to_cidr).
func rangeToCidrs(from, to uint32) [][2]uint32 {
	var out [][2]uint32
	for {
		c := 32
		for c > 0 {
			mask := uint32(0xffffffff) << (32 - (c - 1))
			if c-1 == 0 {
				mask = 0
			}
			if from&^mask != 0 || from|^mask > to {
				break
			}
			c--
		}
		out = append(out, [2]uint32{from, uint32(c)})
		last := from | ^maskOf(c)
		if last >= to {
			return out
		}
		from = last + 1
	}
}

func maskOf(c int) uint32 {
	if c == 0 {
		return 0
	}
	return uint32(0xffffffff) << (32 - c)
}

// maskAddr keeps the first n bits of a.
func maskAddr(a netip.Addr, n int) netip.Addr {
	p, err := a.Prefix(n)
	if err != nil {
		return a
	}
	return p.Addr()
}
