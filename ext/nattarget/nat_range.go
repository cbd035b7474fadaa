package nattarget

import (
	"net/netip"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// Range flags (NF_NAT_RANGE_* of linux/netfilter/nf_nat.h).
const (
	RangeMapIPs           = 1 << 0
	RangeProtoSpecified   = 1 << 1
	RangeProtoRandom      = 1 << 2
	RangePersistent       = 1 << 3
	RangeProtoRandomFully = 1 << 4
	RangeProtoOffset      = 1 << 5
)

// Range is struct nf_nat_range2. The IPv4 revision-0 targets keep the
// single range of nf_nat_ipv4_multi_range_compat (rangesize is always 1)
// and the revision-1 ones an nf_nat_range: neither has BaseProto, which
// then stays 0. The protocol fields hold the port of union
// nf_conntrack_man_proto in host order.
type Range struct {
	Flags              uint32
	MinAddr, MaxAddr   netip.Addr
	MinProto, MaxProto uint16
	BaseProto          uint16
}

// portOK is the protocol test of __NAT_parse: ICMP is accepted too (its
// id takes the place of a port) although the message does not say so.
func portOK(ctx *xtables.Context) bool {
	if ctx == nil || ctx.Header == nil {
		return false
	}
	switch ctx.Header.Proto {
	case 6, 17, 132, 33, 1: // tcp, udp, sctp, dccp, icmp
		return true
	}
	return false
}

// serviceToPort is xtables_service_to_port(name, NULL): names only.
func serviceToPort(name string, ctx *xtables.Context) int {
	if ctx == nil || ctx.Names == nil {
		return -1
	}
	return ctx.Names.ServicePort(name, "")
}

// parsePorts is parse_ports of libxt_NAT.c: "port", "port-port" or
// "port-port/base"; only the first port and the base may be service names.
//
// zeroBase accepts a base of 0: the targets whose kernel struct has no base
// port save a shifted range as "/0", and iptwin keeps rules as save lines
// in its state file, so that form must read back (the real tool refuses
// it). See the package notes.
func parsePorts(arg string, portok, zeroBase bool, r *Range, ctx *xtables.Context) error {
	if !portok {
		return xtables.Errorf("Need TCP, UDP, SCTP or DCCP with port specification")
	}
	r.Flags |= RangeProtoSpecified

	port, end, ok := xtables.StrToUint(arg, 0, 65535)
	if !ok {
		p := serviceToPort(arg, ctx)
		if p < 0 {
			return xtables.Errorf("Port `%s' not valid", arg)
		}
		port, end = uint64(p), ""
	}
	switch {
	case end == "":
		r.MinProto, r.MaxProto = uint16(port), uint16(port)
		return nil
	case end[0] == '-':
		arg = end[1:]
	case end[0] == ':':
		return xtables.Errorf("Invalid port:port syntax - use dash")
	default:
		return xtables.Errorf("Garbage after port value: `%s'", end)
	}

	// A range: no service names here.
	maxport, end, ok := xtables.StrToUint(arg, 0, 65535)
	if !ok {
		return xtables.Errorf("Port `%s' not valid", arg)
	}
	if maxport < port {
		return xtables.Errorf("Port range `%s' funky", arg)
	}
	r.MinProto, r.MaxProto = uint16(port), uint16(maxport)
	switch {
	case end == "":
		return nil
	case end[0] == '/':
		arg = end[1:]
	default:
		return xtables.Errorf("Garbage after port range: `%s'", end)
	}

	// Trailing garbage after the base is ignored, as in the C code.
	base, _, ok := xtables.StrToUint(arg, 1, 65535)
	if !ok && zeroBase {
		base, _, ok = xtables.StrToUint(arg, 0, 0)
	}
	if !ok {
		p := serviceToPort(arg, ctx)
		if p < 0 {
			return xtables.Errorf("Port `%s' not valid", arg)
		}
		base = uint64(p)
	}
	r.Flags |= RangeProtoOffset
	r.BaseProto = uint16(base)
	return nil
}

// inetPton is inet_pton for the family.
func inetPton(f xtables.Family, s string) (netip.Addr, bool) {
	if f == xtables.IPv6 {
		return xtables.ParseIPv6Numeric(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// parseTo is parse_to of libxt_NAT.c: [addr[-addr]][:ports], IPv6
// addresses in brackets when ports follow. Its pointer arithmetic is kept:
// a colon at offset 2 ("[]:80", but also "12:80") means "ports only".
func parseTo(orig string, portok, zeroBase bool, r *Range, ctx *xtables.Context) error {
	f := ctx.Family
	arg := orig
	var start string // the address part (the C code cuts it with NULs)
	colon := -1      // offset of the port colon in arg
	lb := strings.IndexByte(arg, '[')
	if lb < 0 {
		start = arg
		// One colon is port information, more make an IPv6 address.
		if c := strings.IndexByte(arg, ':'); c >= 0 && !strings.Contains(arg[c+1:], ":") {
			colon = c
		}
	} else {
		rest := arg[lb+1:]
		rb := strings.IndexByte(rest, ']')
		if rb < 0 || f != xtables.IPv6 {
			return xtables.Errorf("Invalid address format")
		}
		start = rest[:rb]
		endOff := lb + 1 + rb
		if c := strings.IndexByte(arg[endOff+1:], ':'); c >= 0 {
			colon = endOff + 1 + c
		}
	}

	if colon >= 0 {
		if err := parsePorts(arg[colon+1:], portok, zeroBase, r, ctx); err != nil {
			return err
		}
		// Starts with a colon, or "[]:": no address.
		if colon == 0 || colon == 2 {
			return nil
		}
		if lb < 0 { // no brackets: the address ends at the colon
			start = arg[:colon]
		}
	}

	r.Flags |= RangeMapIPs
	lo, hi := start, ""
	dash := strings.IndexByte(start, '-')
	if dash >= 0 {
		lo, hi = start[:dash], start[dash+1:]
	}
	a, ok := inetPton(f, lo)
	if !ok {
		return xtables.Errorf("Bad IP address \"%s\"", lo)
	}
	r.MinAddr, r.MaxAddr = a, a
	if dash >= 0 {
		b, ok := inetPton(f, hi)
		if !ok {
			return xtables.Errorf("Bad IP address \"%s\"", hi)
		}
		r.MaxAddr = b
	}
	return nil
}

// appendRange is sprint_range of libxt_NAT.c.
func appendRange(b []byte, r *Range, f xtables.Family) []byte {
	brackets := f == xtables.IPv6 && r.Flags&RangeProtoSpecified != 0
	if r.Flags&RangeMapIPs != 0 {
		if brackets {
			b = append(b, '[')
		}
		b = appendAddr(b, r.MinAddr, f)
		if r.MinAddr != r.MaxAddr {
			b = append(b, '-')
			b = appendAddr(b, r.MaxAddr, f)
		}
		if brackets {
			b = append(b, ']')
		}
	}
	if r.Flags&RangeProtoSpecified != 0 {
		b = append(b, ':')
		b = xtables.AppendUint(b, uint64(r.MinProto))
		if r.MaxProto != r.MinProto {
			b = append(b, '-')
			b = xtables.AppendUint(b, uint64(r.MaxProto))
		}
		if r.Flags&RangeProtoOffset != 0 {
			b = append(b, '/')
			b = xtables.AppendUint(b, uint64(r.BaseProto))
		}
	}
	return b
}

// appendAddr is inet_ntop; an unset address prints as the family's zero.
func appendAddr(b []byte, a netip.Addr, f xtables.Family) []byte {
	if f == xtables.IPv6 {
		return appendIPv6(b, a.As16())
	}
	if !a.IsValid() {
		return append(b, "0.0.0.0"...)
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	return a.AppendTo(b)
}

// appendIPv6 is glibc's inet_ntop6: the longest run (first of equal ones)
// of at least two zero words is shortened to "::", and ::a.b.c.d and
// ::ffff:a.b.c.d keep the IPv4 part dotted.
func appendIPv6(b []byte, s [16]byte) []byte {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	bestBase, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestBase, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		bestBase = -1
	}
	const hex = "0123456789abcdef"
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return netip.AddrFrom4([4]byte{s[12], s[13], s[14], s[15]}).AppendTo(b)
		}
		v, started := w[i], false
		for sh := 12; sh >= 0; sh -= 4 {
			d := v >> uint(sh) & 0xf
			if d != 0 || started || sh == 0 {
				b = append(b, hex[d])
				started = true
			}
		}
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}
