package cli

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/internal/wallclock"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xfrm"
)

// ip xfrm (iproute2 6.1 ip/xfrm_state.c, ip/xfrm_policy.c, ip/ipxfrm.c):
// the twin host's SAs and policies, kept in the state directory's "xfrm"
// file (package xfrm). The parser follows iproute2's argument walk (its
// NEXT_ARG/PREV_ARG back-tracking decides which word an error names);
// messages and exit statuses are the real tool's: 255 for a usage error,
// 1 for a missing or inconsistent argument, 2 for the kernel's answer.

// xfrmNow is the wall clock of add and use times (tests may set it).
var xfrmNow = func() int64 { return time.Now().Unix() }

// xfrmLocation is the time zone of the listings' dates (nil: local).
var xfrmLocation *time.Location

// xfrm runs "ip xfrm ARGS" with the options ip.go parsed (-4/-6, -o).
func (c *ipCtx) xfrm(args []string) int { return c.xfrmWith(args, 0) }

// xfrmWith runs "ip xfrm ARGS" with stats -s options (show_stats).
func (c *ipCtx) xfrmWith(args []string, stats int) int {
	x := &xfrmCLI{c: c, stats: stats, pref: xfrm.Family(c.family)}
	db, err := xfrm.Load(c.env.StatePath)
	if err != nil {
		c.errf("ip: %v\n", err)
		return 4
	}
	x.db = db
	x.names = (&state.Dir{Path: c.env.StatePath}).Names()
	rc := x.runCatch(&xargv{v: args})
	// What the kernel did before an error stays done.
	if x.dirty {
		if err := db.Save(c.env.StatePath); err != nil {
			c.errf("ip: %v\n", err)
			return 4
		}
	}
	return rc
}

// runCatch runs the command, turning an xfrmExit into its status.
func (x *xfrmCLI) runCatch(a *xargv) (rc int) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(xfrmExit)
			if !ok {
				panic(r)
			}
			rc = int(e)
		}
	}()
	return x.run(a)
}

// xfrmExit unwinds a command as iproute2's exit() does.
type xfrmExit int

type xfrmCLI struct {
	c     *ipCtx
	db    *xfrm.DB
	names *names.DB
	stats int
	// pref is iproute2's preferred_family, which the parsers change.
	pref  xfrm.Family
	dirty bool
}

// xargv is iproute2's argc/argv pair: v[i] is *argv, len(v)-i is argc.
type xargv struct {
	v []string
	i int
}

func (a *xargv) argc() int { return len(a.v) - a.i }

func (a *xargv) cur() string {
	if a.i < 0 || a.i >= len(a.v) {
		return ""
	}
	return a.v[a.i]
}

// next is NEXT_ARG.
func (a *xargv) next(x *xfrmCLI) {
	a.i++
	if a.argc() <= 0 {
		x.exitf(255, "Command line is not complete. Try option \"help\"\n")
	}
}

// nextOK is NEXT_ARG_OK.
func (a *xargv) nextOK() bool { return a.argc()-1 > 0 }

// prev is PREV_ARG.
func (a *xargv) prev() { a.i-- }

func (x *xfrmCLI) exitf(code int, format string, args ...any) {
	x.c.errf(format, args...)
	panic(xfrmExit(code))
}

func (x *xfrmCLI) invarg(msg, arg string) {
	x.exitf(255, "Error: argument \"%s\" is wrong: %s\n", arg, msg)
}

func (x *xfrmCLI) duparg(key, arg string) {
	x.exitf(255, "Error: duplicate \"%s\": \"%s\" is the second value.\n", key, arg)
}

func (x *xfrmCLI) missarg(key string) { x.exitf(255, "Error: argument \"%s\" is required\n", key) }

// kernel prints the kernel's answer and exits with 2 (rtnl_talk failed).
func (x *xfrmCLI) kernel(err *xfrm.Error) {
	if err != nil {
		x.exitf(2, "%s\n", err.Error())
	}
}

func (x *xfrmCLI) out(b []byte) { x.c.w.Write(b) }

func (x *xfrmCLI) usageTop() {
	x.exitf(255, "Usage: ip xfrm XFRM-OBJECT { COMMAND | help }\nwhere  XFRM-OBJECT := state | policy | monitor\n")
}

func (x *xfrmCLI) run(a *xargv) int {
	if a.argc() < 1 {
		x.usageTop()
	}
	obj := a.cur()
	a.i++
	switch {
	case matches(obj, "state"), matches(obj, "sa"):
		return x.state(a)
	case matches(obj, "policy"):
		return x.policy(a)
	case matches(obj, "monitor"):
		x.exitf(255, "ip: \"xfrm monitor\" is not supported by iptwin\n")
	}
	x.usageTop()
	return 255
}

// ---- numbers and addresses (lib/utils.c) ----

// strtoul is C's strtoul as iproute2's get_u32 & co. use it: leading
// space, a sign, base 0 prefixes; ok when every character was used.
func strtoul(s string, base int) (uint64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') &&
		i+2 < len(s) && hexDigit(s[i+2]) >= 0 {
		i += 2
		base = 16
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	start := i
	var v uint64
	over := false
	for ; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || d >= base {
			break
		}
		nv := v*uint64(base) + uint64(d)
		if nv/uint64(base) != v && !over || nv < v {
			over = true
		}
		v = nv
	}
	if i == start || i != len(s) {
		return 0, false
	}
	if over {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

func getU(s string, base int, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	v, ok := strtoul(s, base)
	if !ok || v > max {
		return 0, false
	}
	return v, true
}

func getU32(s string) (uint32, bool) {
	v, ok := getU(s, 0, 0xffffffff)
	return uint32(v), ok
}

func getU16(s string) (uint16, bool) {
	v, ok := getU(s, 0, 0xffff)
	return uint16(v), ok
}

func getU8(s string, base int) (uint8, bool) {
	v, ok := getU(s, base, 0xff)
	return uint8(v), ok
}

func getU64(s string) (uint64, bool) { return getU(s, 0, ^uint64(0)) }

// xfrmAddrIPv4 is get_addr_ipv4: up to four numbers (base 0) separated
// by dots.
func xfrmAddrIPv4(s string) (netip.Addr, bool) {
	var b [4]byte
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(s, '.')
		part := s
		if j >= 0 {
			part = s[:j]
		}
		// strtoul stops at the first non-digit: the part must be all of it
		v, ok := strtoul(part, 0)
		if !ok || v > 255 || part == "" {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
		if j < 0 {
			return netip.AddrFrom4(b), true
		}
		if i == 3 {
			return netip.Addr{}, false
		}
		s = s[j+1:]
	}
	return netip.AddrFrom4(b), true
}

// xprefix is inet_prefix: a family, the address and the bit length.
type xprefix struct {
	family xfrm.Family
	addr   netip.Addr
	bitlen int
}

// getAddr1 is get_addr_1 for the inet families.
func getAddr1(s string, fam xfrm.Family) (xprefix, bool) {
	if s == "default" || s == "all" || s == "any" {
		return xprefix{family: fam, bitlen: -2}, true
	}
	if strings.Contains(s, ":") {
		if fam != xfrm.Unspec && fam != xfrm.Inet6 {
			return xprefix{}, false
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return xprefix{}, false
		}
		return xprefix{family: xfrm.Inet6, addr: a, bitlen: -1}, true
	}
	if fam != xfrm.Unspec && fam != xfrm.Inet {
		return xprefix{}, false
	}
	a, ok := xfrmAddrIPv4(s)
	if !ok {
		return xprefix{}, false
	}
	return xprefix{family: xfrm.Inet, addr: a, bitlen: -1}, true
}

// getPrefix1 is get_prefix_1: an address with an optional /length
// (a number or a dotted mask).
func getPrefix1(s string, fam xfrm.Family) (xprefix, bool) {
	addr, plen, slash := strings.Cut(s, "/")
	p, ok := getAddr1(addr, fam)
	if !ok {
		return p, false
	}
	bits := 32
	if p.family == xfrm.Inet6 {
		bits = 128
	}
	if slash {
		if p.bitlen == -2 {
			return p, false
		}
		n, ok := getNetmask(plen)
		if !ok || n > bits {
			return p, false
		}
		bits = n
	} else if p.bitlen == -2 {
		bits = 0
	}
	if p.family == xfrm.Unspec {
		bits = 0
	}
	p.bitlen = bits
	return p, true
}

// getNetmask is get_netmask: a number (base 0) or a contiguous dotted
// mask.
func getNetmask(s string) (int, bool) {
	if v, ok := getU(s, 0, 0xffffffff); ok {
		return int(v), true
	}
	m, ok := xfrmAddrIPv4(s)
	if !ok {
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return 0, false
	}
	return n, true
}

func familyVerbose(f xfrm.Family) string {
	switch f {
	case xfrm.Inet:
		return "inet"
	case xfrm.Inet6:
		return "inet6"
	}
	return "any valid"
}

// getPrefix is get_prefix: exits with iproute2's message on a bad prefix.
func (x *xfrmCLI) getPrefix(s string, fam xfrm.Family) xprefix {
	p, ok := getPrefix1(s, fam)
	if !ok {
		x.exitf(1, "Error: %s prefix is expected rather than \"%s\".\n", familyVerbose(fam), s)
	}
	return p
}

// getAddr is get_addr.
func (x *xfrmCLI) getAddr(s string, fam xfrm.Family) xprefix {
	p, ok := getAddr1(s, fam)
	if !ok {
		x.exitf(1, "Error: %s address is expected rather than \"%s\".\n", familyVerbose(fam), s)
	}
	return p
}

// llNameToIndex is ll_name_to_index (a device of the host, or "ifN").
func (x *xfrmCLI) llNameToIndex(name string) int {
	if l := x.c.net.LinkByName(name); l != nil {
		return l.Index
	}
	if rest, ok := strings.CutPrefix(name, "if"); ok {
		if v, err := strconv.ParseUint(rest, 10, 31); err == nil {
			return int(v)
		}
	}
	return 0
}

// now is the host's wall clock in seconds: its state's (a simulation's
// virtual clock, package wallclock) or the machine's.
func (x *xfrmCLI) now() int64 {
	if t, ok := wallclock.Read(x.c.env.StatePath); ok {
		return t.Unix()
	}
	return xfrmNow()
}

// location is the zone of the listings' dates: the host's wall clock's
// when it has one.
func (x *xfrmCLI) location() *time.Location {
	if t, ok := wallclock.Read(x.c.env.StatePath); ok && xfrmLocation == nil {
		return t.Location()
	}
	return xfrmLocation
}

func (x *xfrmCLI) format() *xfrm.FormatOptions {
	return &xfrm.FormatOptions{
		Location: x.location(),
		Stats:    x.stats,
		Oneline:  x.c.oneline,
		ProtoName: func(p uint8) string {
			return x.names.ProtoName(p)
		},
		IfName: func(i int) string {
			if l := x.c.net.LinkByIndex(i); l != nil {
				return l.Name
			}
			return ""
		},
	}
}

// strxfProto is strxf_proto (getprotobynumber or the number).
func (x *xfrmCLI) strxfProto(p uint8) string {
	if n := x.names.ProtoName(p); n != "" {
		return n
	}
	return strconv.Itoa(int(p))
}

// ---- shared parsers (ip/ipxfrm.c) ----

var xfrmProtoNames = map[string]uint8{
	"esp": xfrm.ProtoESP, "ah": xfrm.ProtoAH, "comp": xfrm.ProtoComp,
	"route2": xfrm.ProtoRouting, "hao": xfrm.ProtoDstOpts, "ipsec-any": xfrm.ProtoIPsecAny,
}

// xfrmID is what xfrm_id_parse fills: the source, and struct xfrm_id.
type xfrmID struct {
	src, dst netip.Addr
	srcLen   int // filter.id_src_mask
	dstLen   int
	proto    uint8
	protoSet bool
	spi      uint32
	spiSet   bool
	family   xfrm.Family
	srcFam   xfrm.Family
	dstFam   xfrm.Family
}

// idParse is xfrm_id_parse.
func (x *xfrmCLI) idParse(a *xargv, id *xfrmID, loose bool) {
	start := a.argc()
	for {
		switch a.cur() {
		case "src":
			a.next(x)
			p := x.getPrefix(a.cur(), x.pref)
			if p.family == xfrm.Unspec {
				x.invarg("value after \"src\" has an unrecognized address family", a.cur())
			}
			id.family, id.srcFam, id.src, id.srcLen = p.family, p.family, p.addr, p.bitlen
		case "dst":
			a.next(x)
			p := x.getPrefix(a.cur(), x.pref)
			if p.family == xfrm.Unspec {
				x.invarg("value after \"dst\" has an unrecognized address family", a.cur())
			}
			id.family, id.dstFam, id.dst, id.dstLen = p.family, p.family, p.addr, p.bitlen
		case "proto":
			a.next(x)
			v, ok := xfrmProtoNames[a.cur()]
			if !ok {
				x.invarg("XFRM-PROTO value is invalid", a.cur())
			}
			id.proto, id.protoSet = v, true
		case "spi":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("SPI value is invalid", a.cur())
			}
			id.spi, id.spiSet = v, true
		default:
			a.prev()
			goto done
		}
		if !a.nextOK() {
			break
		}
		a.next(x)
	}
done:
	if id.srcFam != 0 && id.dstFam != 0 && id.srcFam != id.dstFam {
		x.invarg("the same address family is required between values after \"src\" and \"dst\"", a.cur())
	}
	if id.spi != 0 && id.proto != 0 {
		if id.proto == xfrm.ProtoRouting || id.proto == xfrm.ProtoDstOpts {
			x.exitf(1, "\"spi\" is invalid with XFRM-PROTO value \"%s\"\n", xfrm.XfrmProtoName(id.proto))
		} else if id.proto == xfrm.ProtoComp && id.spi >= 0x10000 {
			x.exitf(1, "SPI value is too large with XFRM-PROTO value \"%s\"\n", xfrm.XfrmProtoName(id.proto))
		}
	}
	if !loose && id.proto == 0 {
		x.missarg("XFRM-PROTO")
	}
	if a.argc() == start {
		x.missarg("ID")
	}
}

// modeParse is xfrm_mode_parse (a prefix of the mode's name).
func (x *xfrmCLI) modeParse(s string) xfrm.Mode {
	switch {
	case matches(s, "transport"):
		return xfrm.ModeTransport
	case matches(s, "tunnel"):
		return xfrm.ModeTunnel
	case matches(s, "ro"):
		return xfrm.ModeRO
	case matches(s, "in_trigger"):
		return xfrm.ModeInTrigger
	case matches(s, "beet"):
		return xfrm.ModeBEET
	}
	x.invarg("MODE value is invalid", s)
	return 0
}

func (x *xfrmCLI) reqidParse(s string) uint32 {
	v, ok := getU32(s)
	if !ok {
		x.invarg("REQID value is invalid", s)
	}
	return v
}

// markParse is xfrm_parse_mark (a is at "mark").
func (x *xfrmCLI) markParse(a *xargv) xfrm.Mark {
	var m xfrm.Mark
	a.next(x)
	v, ok := getU32(a.cur())
	if !ok {
		x.invarg("MARK value is invalid\n", a.cur())
	}
	m.V = v
	if a.argc() > 1 {
		a.next(x)
	} else {
		m.M = 0xffffffff
		return m
	}
	if a.cur() == "mask" {
		a.next(x)
		v, ok := getU32(a.cur())
		if !ok {
			x.invarg("MASK value is invalid\n", a.cur())
		}
		m.M = v
	} else {
		m.M = 0xffffffff
		a.prev()
	}
	return m
}

// selFilter is what xfrm_selector_parse records in the list filter.
type selFilter struct {
	srcLen, dstLen int
	dev, proto     bool
	sport, dport   bool
}

// selectorParse is xfrm_selector_parse.
func (x *xfrmCLI) selectorParse(a *xargv, sel *xfrm.Selector, f *selFilter) {
	start := a.argc()
	var srcFam, dstFam xfrm.Family
	upspec := false
	for {
		switch a.cur() {
		case "src":
			a.next(x)
			p := x.getPrefix(a.cur(), x.pref)
			if p.family == xfrm.Unspec {
				x.invarg("value after \"src\" has an unrecognized address family", a.cur())
			}
			sel.Family, srcFam = p.family, p.family
			sel.Src, sel.SrcLen, f.srcLen = p.addr, uint8(p.bitlen), p.bitlen
		case "dst":
			a.next(x)
			p := x.getPrefix(a.cur(), x.pref)
			if p.family == xfrm.Unspec {
				x.invarg("value after \"dst\" has an unrecognized address family", a.cur())
			}
			sel.Family, dstFam = p.family, p.family
			sel.Dst, sel.DstLen, f.dstLen = p.addr, uint8(p.bitlen), p.bitlen
		case "dev":
			a.next(x)
			idx := 0
			if a.cur() != "none" {
				idx = x.llNameToIndex(a.cur())
				if idx <= 0 {
					x.invarg("DEV value is invalid", a.cur())
				}
			}
			sel.Ifindex, f.dev = idx, true
		default:
			if upspec {
				a.prev()
				goto done
			}
			upspec = true
			x.upspecParse(a, sel, f)
		}
		if !a.nextOK() {
			break
		}
		a.next(x)
	}
done:
	if srcFam != 0 && dstFam != 0 && srcFam != dstFam {
		x.invarg("the same address family is required between values after \"src\" and \"dst\"", a.cur())
	}
	if a.argc() == start {
		x.missarg("SELECTOR")
	}
}

// upspecParse is xfrm_selector_upspec_parse.
func (x *xfrmCLI) upspecParse(a *xargv, sel *xfrm.Selector, f *selFilter) {
	start := a.argc()
	var sportp, dportp, typep, codep, grekey bool
	for {
		switch a.cur() {
		case "proto":
			a.next(x)
			var p uint8
			if a.cur() != "any" {
				if n := x.names.ProtoByName(a.cur()); n >= 0 {
					p = uint8(n)
				} else {
					v, ok := getU8(a.cur(), 0)
					if !ok {
						x.invarg("PROTO value is invalid", a.cur())
					}
					p = v
				}
			}
			sel.Proto, f.proto = p, true
		case "sport":
			sportp = true
			a.next(x)
			v, ok := getU16(a.cur())
			if !ok {
				x.invarg("value after \"sport\" is invalid", a.cur())
			}
			sel.Sport = v
			if v != 0 {
				sel.SportMask = 0xffff
			}
			f.sport = true
		case "dport":
			dportp = true
			a.next(x)
			v, ok := getU16(a.cur())
			if !ok {
				x.invarg("value after \"dport\" is invalid", a.cur())
			}
			sel.Dport = v
			if v != 0 {
				sel.DportMask = 0xffff
			}
			f.dport = true
		case "type":
			typep = true
			a.next(x)
			v, ok := getU16(a.cur())
			if !ok || v > 0xff {
				x.invarg("value after \"type\" is invalid", a.cur())
			}
			sel.Sport, sel.SportMask, f.sport = v, 0xffff, true
		case "code":
			codep = true
			a.next(x)
			v, ok := getU16(a.cur())
			if !ok || v > 0xff {
				x.invarg("value after \"code\" is invalid", a.cur())
			}
			sel.Dport, sel.DportMask, f.dport = v, 0xffff, true
		case "key":
			grekey = true
			a.next(x)
			var k uint32
			if strings.Contains(a.cur(), ".") {
				p, ok := getAddr1(a.cur(), xfrm.Inet)
				if !ok || p.bitlen == -2 {
					x.exitf(1, "Error: an IP address is expected rather than \"%s\"\n", a.cur())
				}
				b := p.addr.As4()
				k = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			} else {
				v, ok := getU32(a.cur())
				if !ok {
					x.exitf(255, "value after \"key\" is invalid\n")
				}
				k = v
			}
			sel.Sport, sel.Dport = uint16(k>>16), uint16(k)
			sel.SportMask, sel.DportMask = 0xffff, 0xffff
			f.dport = true
		default:
			a.prev()
			goto done
		}
		if !a.nextOK() {
			break
		}
		a.next(x)
	}
done:
	if a.argc() == start {
		x.missarg("UPSPEC")
	}
	if sportp || dportp {
		switch sel.Proto {
		case 6, 17, 132, 33, 0:
		default:
			x.exitf(1, "\"sport\" and \"dport\" are invalid with PROTO value \"%s\"\n", x.strxfProto(sel.Proto))
		}
	}
	if typep || codep {
		switch sel.Proto {
		case 1, 58, 135:
		default:
			x.exitf(1, "\"type\" and \"code\" are invalid with PROTO value \"%s\"\n", x.strxfProto(sel.Proto))
		}
	}
	if grekey && sel.Proto != 47 {
		x.exitf(1, "\"key\" is invalid with PROTO value \"%s\"\n", x.strxfProto(sel.Proto))
	}
}

// lifetimeParse is xfrm_lifetime_cfg_parse (a is at the limit's name).
func (x *xfrmCLI) lifetimeParse(a *xargv, l *xfrm.LifetimeCfg) {
	var dst *uint64
	switch name := a.cur(); name {
	case "time-soft":
		dst = &l.SoftAdd
	case "time-hard":
		dst = &l.HardAdd
	case "time-use-soft":
		dst = &l.SoftUse
	case "time-use-hard":
		dst = &l.HardUse
	case "byte-soft":
		dst = &l.SoftBytes
	case "byte-hard":
		dst = &l.HardBytes
	case "packet-soft":
		dst = &l.SoftPackets
	case "packet-hard":
		dst = &l.HardPackets
	default:
		x.invarg("LIMIT value is invalid", name)
	}
	name := a.cur()
	a.next(x)
	v, ok := getU64(a.cur())
	if !ok {
		x.invarg("value after \""+name+"\" is invalid", a.cur())
	}
	*dst = v
}

// ---- state ----

func (x *xfrmCLI) state(a *xargv) int {
	if a.argc() < 1 {
		return x.stateList(a, false)
	}
	cmd := a.cur()
	a.i++
	switch {
	case matches(cmd, "add"):
		return x.stateModify(a, false)
	case matches(cmd, "update"):
		return x.stateModify(a, true)
	case matches(cmd, "allocspi"):
		return x.stateAllocSPI(a)
	case matches(cmd, "delete"):
		return x.stateGetOrDelete(a, true)
	case matches(cmd, "deleteall"), matches(cmd, "delall"):
		return x.stateList(a, true)
	case matches(cmd, "list"), matches(cmd, "show"), matches(cmd, "lst"):
		return x.stateList(a, false)
	case matches(cmd, "get"):
		return x.stateGetOrDelete(a, false)
	case matches(cmd, "flush"):
		return x.stateFlush(a)
	case matches(cmd, "count"):
		return x.stateCount()
	case matches(cmd, "help"):
		x.exitf(255, "%s", xfrmStateUsage)
	}
	x.exitf(255, "Command \"%s\" is unknown, try \"ip xfrm state help\".\n", cmd)
	return 255
}

// algoParse is xfrm_algo_parse: the name as given (at most 63 bytes) and
// the key (hexadecimal after "0x", else the string's bytes).
func (x *xfrmCLI) algoParse(name, key string) *xfrm.Algo {
	if len(name) > 63 {
		name = name[:63]
	}
	al := &xfrm.Algo{Name: name}
	if len(key) > 2 && strings.HasPrefix(key, "0x") {
		p := key[2:]
		n := (len(p) + 1) / 2
		if n > 512 {
			x.invarg("ALGO-KEYMAT value makes buffer overflow\n", key)
		}
		al.Key = make([]byte, n)
		for i, j := -(len(p) % 2), 0; j < n; i, j = i+2, j+1 {
			var pair string
			if i >= 0 {
				pair = p[i : i+2]
			} else {
				pair = "0" + p[i+1:i+2]
			}
			v, ok := getU8(pair, 16)
			if !ok {
				x.invarg("ALGO-KEYMAT value is invalid", key)
			}
			al.Key[j] = v
		}
	} else if len(key) > 0 {
		if len(key) > 512 {
			x.invarg("ALGO-KEYMAT value makes buffer overflow\n", key)
		}
		al.Key = []byte(key)
	}
	al.KeyBits = len(al.Key) * 8
	return al
}

func (x *xfrmCLI) stateFlagParse(a *xargv, flags *uint8) {
	s := a.cur()
	if len(s) > 2 && strings.HasPrefix(s, "0x") {
		v, ok := getU8(s, 16)
		if !ok {
			x.invarg("FLAG value is invalid", s)
		}
		*flags = v
		return
	}
	for {
		switch a.cur() {
		case "noecn":
			*flags |= xfrm.StateNoECN
		case "decap-dscp":
			*flags |= xfrm.StateDecapDSCP
		case "nopmtudisc":
			*flags |= xfrm.StateNoPMTUDisc
		case "wildrecv":
			*flags |= xfrm.StateWildRecv
		case "icmp":
			*flags |= xfrm.StateICMP
		case "af-unspec":
			*flags |= xfrm.StateAFUnspec
		case "align4":
			*flags |= xfrm.StateAlign4
		case "esn":
			*flags |= xfrm.StateESN
		default:
			a.prev()
			return
		}
		if !a.nextOK() {
			return
		}
		a.next(x)
	}
}

func (x *xfrmCLI) extraFlagParse(a *xargv, flags *uint32) {
	s := a.cur()
	if len(s) > 2 && strings.HasPrefix(s, "0x") {
		v, ok := getU(s, 16, 0xffffffff)
		if !ok {
			x.invarg("\"EXTRA-FLAG\" is invalid", s)
		}
		*flags = uint32(v)
		return
	}
	for {
		switch a.cur() {
		case "dont-encap-dscp":
			*flags |= xfrm.ExtraDontEncapDSCP
		case "oseq-may-wrap":
			*flags |= xfrm.ExtraOSeqMayWrap
		default:
			a.prev()
			return
		}
		if !a.nextOK() {
			return
		}
		a.next(x)
	}
}

// stateModify is xfrm_state_modify (add or update).
func (x *xfrmCLI) stateModify(a *xargv, update bool) int {
	r := &xfrm.StateRequest{Family: x.pref, Lft: xfrm.DefaultLifetime()}
	var (
		replayWindow, seq, oseq, seqHi, oseqHi uint32
		idp, aeadp, ealgp, aalgp, calgp        bool
		coap, ctxp                             bool
		mark, outputMark                       xfrm.Mark
		sf                                     selFilter
	)
	for a.argc() > 0 {
		switch a.cur() {
		case "mode":
			a.next(x)
			r.Mode = x.modeParse(a.cur())
		case "mark":
			mark = x.markParse(a)
		case "reqid":
			a.next(x)
			r.Reqid = x.reqidParse(a.cur())
		case "seq":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("SEQ value is invalid", a.cur())
			}
			r.KmSeq = v
		case "replay-window", "replay-seq", "replay-seq-hi", "replay-oseq", "replay-oseq-hi":
			name := a.cur()
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("value after \""+name+"\" is invalid", a.cur())
			}
			switch name {
			case "replay-window":
				replayWindow = v
			case "replay-seq":
				seq = v
			case "replay-seq-hi":
				seqHi = v
			case "replay-oseq":
				oseq = v
			default:
				oseqHi = v
			}
		case "flag":
			a.next(x)
			x.stateFlagParse(a, &r.Flags)
		case "extra-flag":
			a.next(x)
			x.extraFlagParse(a, &r.ExtraFlags)
		case "sel":
			a.next(x)
			x.pref = xfrm.Unspec
			x.selectorParse(a, &r.Sel, &sf)
			x.pref = r.Sel.Family
		case "limit":
			a.next(x)
			x.lifetimeParse(a, &r.Lft)
		case "encap":
			a.next(x)
			e := &xfrm.Encap{}
			switch a.cur() {
			case "espinudp-nonike":
				e.Type = xfrm.EncapESPinUDPNonIKE
			case "espinudp":
				e.Type = xfrm.EncapESPinUDP
			case "espintcp":
				e.Type = xfrm.EncapESPinTCP
			default:
				x.invarg("ENCAP-TYPE value is invalid", a.cur())
			}
			a.next(x)
			v, ok := getU16(a.cur())
			if !ok {
				x.invarg("SPORT value after \"encap\" is invalid", a.cur())
			}
			e.Sport = v
			a.next(x)
			v, ok = getU16(a.cur())
			if !ok {
				x.invarg("DPORT value after \"encap\" is invalid", a.cur())
			}
			e.Dport = v
			a.next(x)
			e.OA = x.getAddr(a.cur(), xfrm.Unspec).addr
			r.Encap = e
		case "coa":
			if coap {
				x.duparg("coa", a.cur())
			}
			coap = true
			a.next(x)
			p := x.getPrefix(a.cur(), x.pref)
			if p.family == xfrm.Unspec {
				x.invarg("value after \"coa\" has an unrecognized address family", a.cur())
			}
			r.Coaddr = p.addr
		case "ctx":
			if ctxp {
				x.duparg("ctx", a.cur())
			}
			ctxp = true
			a.next(x)
			// no security module: the kernel keeps no context
		case "offload":
			a.next(x)
			if a.cur() == "dev" {
				a.next(x)
				if x.llNameToIndex(a.cur()) == 0 {
					x.invarg("value after \"offload dev\" is invalid", a.cur())
				}
				a.next(x)
			}
			if a.cur() == "dir" {
				a.next(x)
				if a.cur() != "in" && a.cur() != "out" {
					x.invarg("DIR value is invalid", a.cur())
				}
			} else {
				x.invarg("value after \"offload dir\" is invalid", a.cur())
			}
			// crypto offload to a device without it: the kernel ignores it
		case "output-mark":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("value after \"output-mark\" is invalid", a.cur())
			}
			outputMark.V = v
			if a.argc() > 1 {
				a.next(x)
				if a.cur() == "mask" {
					a.next(x)
					v, ok := getU32(a.cur())
					if !ok {
						x.invarg("mask value is invalid\n", a.cur())
					}
					outputMark.M = v
				} else {
					a.prev()
				}
			}
		case "if_id":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("value after \"if_id\" is invalid", a.cur())
			}
			r.IfID = v
		case "tfcpad":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("value after \"tfcpad\" is invalid", a.cur())
			}
			r.TFCPad = v
		default:
			typ := a.cur()
			switch typ {
			case "enc", "auth", "auth-trunc", "aead", "comp":
				switch typ {
				case "aead":
					if ealgp || aalgp || aeadp {
						x.duparg("ALGO-TYPE", typ)
					}
					aeadp = true
				case "enc":
					if ealgp || aeadp {
						x.duparg("ALGO-TYPE", typ)
					}
					ealgp = true
				case "auth", "auth-trunc":
					if aalgp || aeadp {
						x.duparg("ALGO-TYPE", typ)
					}
					aalgp = true
				case "comp":
					if calgp {
						x.duparg("ALGO-TYPE", typ)
					}
					calgp = true
				}
				if !a.nextOK() {
					x.missarg("ALGO-NAME")
				}
				a.next(x)
				name, key := a.cur(), ""
				if typ != "comp" {
					if !a.nextOK() {
						x.missarg("ALGO-KEYMAT")
					}
					a.next(x)
					key = a.cur()
				}
				var icvLen, truncLen uint32
				switch typ {
				case "aead":
					if !a.nextOK() {
						x.missarg("ALGO-ICV-LEN")
					}
					a.next(x)
					v, ok := getU32(a.cur())
					if !ok {
						x.invarg("ALGO-ICV-LEN value is invalid", a.cur())
					}
					icvLen = v
				case "auth-trunc":
					if !a.nextOK() {
						x.missarg("ALGO-TRUNC-LEN")
					}
					a.next(x)
					v, ok := getU32(a.cur())
					if !ok {
						x.invarg("ALGO-TRUNC-LEN value is invalid", a.cur())
					}
					truncLen = v
				}
				al := x.algoParse(name, key)
				switch typ {
				case "aead":
					al.ICVLen = int(icvLen)
					r.AEAD = al
				case "enc":
					r.Crypt = al
				case "auth":
					r.Auth = al
				case "auth-trunc":
					al.TruncLen = int(truncLen)
					r.AuthTrunc = al
				case "comp":
					r.Comp = al
				}
			default:
				if idp {
					x.invarg("unknown", a.cur())
				}
				idp = true
				var id xfrmID
				id.family = r.Family
				x.idParse(a, &id, false)
				r.Src, r.Dst, r.Proto, r.SPI, r.Family = id.src, id.dst, id.proto, id.spi, id.family
				if x.pref == xfrm.Unspec {
					x.pref = r.Family
				}
			}
		}
		a.i++
	}

	if r.Flags&xfrm.StateESN != 0 && replayWindow == 0 {
		x.exitf(255, "Error: esn flag set without replay-window.\n")
	}
	if replayWindow > xfrm.ReplayESNMax {
		x.exitf(255, "Error: replay-window (%d) > XFRMA_REPLAY_ESN_MAX (%d).\n", replayWindow, xfrm.ReplayESNMax)
	}
	if r.Flags&xfrm.StateESN != 0 || replayWindow > 32 {
		r.ReplayESN = &xfrm.Replay{Seq: seq, OSeq: oseq, SeqHi: seqHi, OSeqHi: oseqHi, Window: replayWindow,
			Bmp: make([]uint32, (replayWindow+31)/32)}
	} else {
		if seq != 0 || oseq != 0 {
			r.ReplayVal = &xfrm.Replay{Seq: seq, OSeq: oseq}
		}
		r.ReplayWindow = replayWindow
	}
	if !idp {
		x.exitf(1, "Not enough information: ID is required\n")
	}
	if mark.M != 0 {
		r.Mark = mark
	}
	proto := xfrm.XfrmProtoName(r.Proto)
	switch r.Proto {
	case xfrm.ProtoESP, xfrm.ProtoAH, xfrm.ProtoComp:
		switch {
		case r.Mode == xfrm.ModeTransport, r.Mode == xfrm.ModeTunnel:
		case r.Mode == xfrm.ModeBEET && r.Proto == xfrm.ProtoESP:
		default:
			x.exitf(1, "MODE value is invalid with XFRM-PROTO value \"%s\"\n", proto)
		}
		switch r.Proto {
		case xfrm.ProtoESP:
			if calgp {
				x.exitf(1, "ALGO-TYPE value \"comp\" is invalid with XFRM-PROTO value \"%s\"\n", proto)
			}
			if !ealgp && !aeadp {
				x.exitf(1, "ALGO-TYPE value \"enc\" or \"aead\" is required with XFRM-PROTO value \"%s\"\n", proto)
			}
		case xfrm.ProtoAH:
			if ealgp || aeadp || calgp {
				x.exitf(1, "ALGO-TYPE values \"enc\", \"aead\", and \"comp\" are invalid with XFRM-PROTO value \"%s\"\n", proto)
			}
			if !aalgp {
				x.exitf(1, "ALGO-TYPE value \"auth\" or \"auth-trunc\" is required with XFRM-PROTO value \"%s\"\n", proto)
			}
		case xfrm.ProtoComp:
			if ealgp || aalgp || aeadp {
				x.exitf(1, "ALGO-TYPE values \"enc\", \"auth\", \"auth-trunc\", and \"aead\" are invalid with XFRM-PROTO value \"%s\"\n", proto)
			}
			if !calgp {
				x.exitf(1, "ALGO-TYPE value \"comp\" is required with XFRM-PROTO value \"%s\"\n", proto)
			}
		}
	default:
		if ealgp || aalgp || aeadp || calgp {
			x.exitf(1, "ALGO is invalid with XFRM-PROTO value \"%s\"\n", proto)
		}
	}
	if r.Proto == xfrm.ProtoRouting || r.Proto == xfrm.ProtoDstOpts {
		switch r.Mode {
		case xfrm.ModeRO, xfrm.ModeInTrigger:
		case 0:
			x.exitf(1, "\"mode\" is required with XFRM-PROTO value \"%s\"\n", proto)
		default:
			x.exitf(1, "MODE value is invalid with XFRM-PROTO value \"%s\"\n", proto)
		}
		if !coap {
			x.exitf(1, "\"coa\" is required with XFRM-PROTO value \"%s\"\n", proto)
		}
	} else if coap {
		x.exitf(1, "\"coa\" is invalid with XFRM-PROTO value \"%s\"\n", proto)
	}
	// XFRMA_SET_MARK only for a non-zero mark, XFRMA_SET_MARK_MASK only
	// for a non-zero mask (xfrm_smark_init ignores a lone mask).
	if outputMark.V != 0 {
		r.SetMark = outputMark
	}
	if r.Family == xfrm.Unspec {
		r.Family = xfrm.Inet
	}
	if !r.Src.IsValid() {
		r.Src = zeroAddr(r.Family)
	}
	if !r.Dst.IsValid() {
		r.Dst = zeroAddr(r.Family)
	}
	x.kernel(x.db.AddState(r, update, x.now()))
	x.dirty = true
	return 0
}

func zeroAddr(f xfrm.Family) netip.Addr {
	if f == xfrm.Inet6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// stateAllocSPI is xfrm_state_allocspi.
func (x *xfrmCLI) stateAllocSPI(a *xargv) int {
	r := &xfrm.AllocRequest{Family: x.pref}
	var idp, minp, maxp bool
	var mark xfrm.Mark
	for a.argc() > 0 {
		switch a.cur() {
		case "mode":
			a.next(x)
			r.Mode = x.modeParse(a.cur())
		case "mark":
			mark = x.markParse(a)
		case "reqid":
			a.next(x)
			r.Reqid = x.reqidParse(a.cur())
		case "seq":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("SEQ value is invalid", a.cur())
			}
			r.KmSeq = v
		case "min", "max":
			name := a.cur()
			dup := &minp
			if name == "max" {
				dup = &maxp
			}
			if *dup {
				x.duparg(name, a.cur())
			}
			*dup = true
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("value after \""+name+"\" is invalid", a.cur())
			}
			if name == "min" {
				r.Min = v
			} else {
				r.Max = v
			}
		default:
			if idp {
				x.invarg("unknown", a.cur())
			}
			idp = true
			var id xfrmID
			id.family = r.Family
			x.idParse(a, &id, false)
			if id.spi != 0 {
				x.exitf(1, "\"spi\" is invalid\n")
			}
			r.Src, r.Dst, r.Proto, r.Family = id.src, id.dst, id.proto, id.family
			if x.pref == xfrm.Unspec {
				x.pref = r.Family
			}
		}
		a.i++
	}
	if !idp {
		x.exitf(1, "Not enough information: ID is required\n")
	}
	if minp {
		if !maxp {
			x.exitf(1, "\"max\" is missing\n")
		}
		if r.Min > r.Max {
			x.exitf(1, "value after \"min\" is larger than value after \"max\"\n")
		}
	} else {
		if maxp {
			x.exitf(1, "\"min\" is missing\n")
		}
		r.Min, r.Max = 0x100, 0x0fffffff
		if r.Proto == xfrm.ProtoComp {
			r.Max = 0xffff
		}
	}
	if mark.M&mark.V != 0 {
		r.Mark = mark
	}
	if r.Family == xfrm.Unspec {
		r.Family = xfrm.Inet
	}
	if !r.Src.IsValid() {
		r.Src = zeroAddr(r.Family)
	}
	if !r.Dst.IsValid() {
		r.Dst = zeroAddr(r.Family)
	}
	s, err := x.db.AllocSPI(r, x.now())
	x.dirty = true // a larval state stays even when no SPI was free
	x.kernel(err)
	x.out(xfrm.AppendState(nil, s, x.format()))
	return 0
}

// stateGetOrDelete is xfrm_state_get_or_delete.
func (x *xfrmCLI) stateGetOrDelete(a *xargv, del bool) int {
	id := xfrm.StateID{Family: x.pref}
	idp := false
	var mark xfrm.Mark
	for a.argc() > 0 {
		if a.cur() == "mark" {
			mark = x.markParse(a)
		} else {
			if idp {
				x.invarg("unknown", a.cur())
			}
			idp = true
			var p xfrmID
			p.family = id.Family
			x.idParse(a, &p, false)
			id.Dst, id.SPI, id.Proto, id.Family = p.dst, p.spi, p.proto, p.family
			id.Src, id.HasSrc = p.src, true
		}
		a.i++
	}
	if mark.M&mark.V != 0 {
		id.Mark = mark
	}
	if id.Family == xfrm.Unspec {
		id.Family = xfrm.Inet
	}
	if del {
		x.kernel(x.db.DeleteState(&id))
		x.dirty = true
		return 0
	}
	s, err := x.db.GetState(&id)
	x.kernel(err)
	x.out(xfrm.AppendState(nil, s, x.format()))
	return 0
}

// stateFilter is the state part of struct xfrm_filter.
type stateFilter struct {
	use      bool
	family   xfrm.Family
	id       xfrmID
	mode     xfrm.Mode
	modeSet  bool
	reqid    uint32
	reqidSet bool
	flags    uint8
	flagsSet bool
	nokeys   bool
}

// match is xfrm_state_filter_match after the kernel's own filter
// (XFRMA_PROTO: xfrm_id_proto_match; XFRMA_ADDRESS_FILTER).
func (f *stateFilter) match(s *xfrm.State) bool {
	if f.id.protoSet && f.id.proto != 0 && !protoMatchUser(s.Proto, f.id.proto) {
		return false
	}
	if f.family == xfrm.Inet || f.family == xfrm.Inet6 {
		if s.Family != f.family {
			return false
		}
	}
	if f.id.srcLen > 0 && !xfrm.PrefixMatch(s.Src, f.id.src, uint8(f.id.srcLen)) {
		return false
	}
	if f.id.dstLen > 0 && !xfrm.PrefixMatch(s.Dst, f.id.dst, uint8(f.id.dstLen)) {
		return false
	}
	if !f.use {
		return true
	}
	if f.family != xfrm.Unspec && f.family != s.Family {
		return false
	}
	if f.id.protoSet && s.Proto != f.id.proto {
		return false
	}
	if f.id.spiSet && s.SPI != f.id.spi {
		return false
	}
	if f.modeSet && s.Mode != f.mode {
		return false
	}
	if f.reqidSet && s.Reqid != f.reqid {
		return false
	}
	if f.flagsSet && s.Flags&f.flags == 0 {
		return false
	}
	return true
}

func protoMatchUser(proto, user uint8) bool {
	return user == 0 || proto == user || user == xfrm.ProtoIPsecAny &&
		(proto == xfrm.ProtoESP || proto == xfrm.ProtoAH || proto == xfrm.ProtoComp)
}

func addr16(a netip.Addr) [16]byte {
	var r [16]byte
	switch {
	case !a.IsValid():
	case a.Is4():
		b := a.As4()
		copy(r[:], b[:])
	default:
		r = a.As16()
	}
	return r
}

// stateList is xfrm_state_list_or_deleteall.
func (x *xfrmCLI) stateList(a *xargv, deleteall bool) int {
	var f stateFilter
	if a.argc() > 0 || x.pref != xfrm.Unspec {
		f.use = true
	}
	f.family = x.pref
	idp := false
	for a.argc() > 0 {
		switch a.cur() {
		case "nokeys":
			f.nokeys = true
		case "mode":
			a.next(x)
			f.mode, f.modeSet = x.modeParse(a.cur()), true
		case "reqid":
			a.next(x)
			f.reqid, f.reqidSet = x.reqidParse(a.cur()), true
		case "flag":
			a.next(x)
			x.stateFlagParse(a, &f.flags)
			f.flagsSet = true
		default:
			if idp {
				x.invarg("unknown", a.cur())
			}
			idp = true
			f.id.family = f.family
			x.idParse(a, &f.id, true)
			f.family = f.id.family
			if x.pref == xfrm.Unspec {
				x.pref = f.family
			}
		}
		a.i++
	}
	if deleteall {
		var del []xfrm.StateID
		for _, s := range x.db.States {
			if !f.match(s) || s.Proto == 4 || s.Proto == 41 {
				continue
			}
			del = append(del, xfrm.StateID{Dst: s.Dst, SPI: s.SPI, Proto: s.Proto, Family: s.Family,
				Src: s.Src, HasSrc: true, Mark: s.Mark})
		}
		var failed *xfrm.Error
		for i := range del {
			if err := x.db.DeleteState(&del[i]); err == nil {
				x.dirty = true
			} else if failed == nil {
				failed = err
			}
		}
		if failed != nil {
			// perror of rtnl_send_check's answer (the message ends in \n)
			x.exitf(1, "Failed to send delete-all request\n: %s\n", xfrm.Strerror(failed.Errno))
		}
		return 0
	}
	o := x.format()
	o.NoKeys = f.nokeys
	var b []byte
	for _, s := range x.db.States {
		if f.match(s) {
			b = xfrm.AppendState(b, s, o)
		}
	}
	x.out(b)
	return 0
}

func (x *xfrmCLI) stateFlush(a *xargv) int {
	var proto uint8
	protop := false
	for a.argc() > 0 {
		if a.cur() == "proto" {
			if protop {
				x.duparg("proto", a.cur())
			}
			protop = true
			a.next(x)
			v, ok := xfrmProtoNames[a.cur()]
			if !ok {
				x.invarg("XFRM-PROTO value is invalid", a.cur())
			}
			proto = v
		} else {
			x.invarg("unknown", a.cur())
		}
		a.i++
	}
	x.db.FlushStates(proto)
	x.dirty = true
	return 0
}

func (x *xfrmCLI) stateCount() int {
	n := len(x.db.States)
	b := fmt.Appendf(nil, "\t SAD count %d", n)
	if x.stats > 0 {
		// state_hmask grows as the table fills (xfrm_hash_grow_check)
		buckets := 8
		for n > buckets-1 && buckets < 1<<20 {
			buckets *= 2
		}
		b = fmt.Appendf(b, " (buckets count %d Max %d)", buckets, 1<<20)
	}
	x.out(append(b, '\n'))
	return 0
}

// ---- policy ----

func (x *xfrmCLI) policy(a *xargv) int {
	if a.argc() < 1 {
		return x.policyList(a, false)
	}
	cmd := a.cur()
	a.i++
	switch {
	case matches(cmd, "add"):
		return x.policyModify(a, false)
	case matches(cmd, "update"):
		return x.policyModify(a, true)
	case matches(cmd, "delete"):
		return x.policyGetOrDelete(a, true)
	case matches(cmd, "deleteall"), matches(cmd, "delall"):
		return x.policyList(a, true)
	case matches(cmd, "list"), matches(cmd, "show"), matches(cmd, "lst"):
		return x.policyList(a, false)
	case matches(cmd, "get"):
		return x.policyGetOrDelete(a, false)
	case matches(cmd, "flush"):
		return x.policyFlush(a)
	case matches(cmd, "count"):
		return x.policyCount()
	case matches(cmd, "set"):
		return x.policySet(a)
	case matches(cmd, "setdefault"):
		return x.policySetDefault(a)
	case matches(cmd, "getdefault"):
		return x.policyGetDefault()
	case matches(cmd, "help"):
		x.exitf(255, "%s", xfrmPolicyUsage)
	}
	x.exitf(255, "Command \"%s\" is unknown, try \"ip xfrm policy help\".\n", cmd)
	return 255
}

func (x *xfrmCLI) dirParse(s string) xfrm.Dir {
	switch s {
	case "in":
		return xfrm.DirIn
	case "out":
		return xfrm.DirOut
	case "fwd":
		return xfrm.DirFwd
	}
	x.invarg("DIR value is invalid", s)
	return 0
}

func (x *xfrmCLI) ptypeParse(s string) uint8 {
	switch s {
	case "main":
		return xfrm.TypeMain
	case "sub":
		return xfrm.TypeSub
	}
	x.invarg("PTYPE value is invalid", s)
	return 0
}

func (x *xfrmCLI) policyFlagParse(a *xargv, flags *uint8) {
	s := a.cur()
	if len(s) > 2 && strings.HasPrefix(s, "0x") {
		v, ok := getU8(s, 16)
		if !ok {
			x.invarg("FLAG value is invalid", s)
		}
		*flags = v
		return
	}
	for {
		switch a.cur() {
		case "localok":
			*flags |= xfrm.PolicyLocalOK
		case "icmp":
			*flags |= xfrm.PolicyICMP
		default:
			a.prev()
			return
		}
		if !a.nextOK() {
			return
		}
		a.next(x)
	}
}

// tmplParse is xfrm_tmpl_parse.
func (x *xfrmCLI) tmplParse(a *xargv, t *xfrm.Tmpl) {
	start := a.argc()
	idp := false
	for {
		switch a.cur() {
		case "mode":
			a.next(x)
			t.Mode = x.modeParse(a.cur())
		case "reqid":
			a.next(x)
			t.Reqid = x.reqidParse(a.cur())
		case "level":
			a.next(x)
			switch a.cur() {
			case "required":
				t.Optional = 0
			case "use":
				t.Optional = 1
			default:
				x.invarg("LEVEL value is invalid\n", a.cur())
			}
		default:
			if idp {
				a.prev()
				goto done
			}
			idp = true
			x.pref = xfrm.Unspec
			var id xfrmID
			id.family = t.Family
			x.idParse(a, &id, false)
			t.Src, t.Dst, t.Proto, t.SPI, t.Family = id.src, id.dst, id.proto, id.spi, id.family
			x.pref = t.Family
		}
		if !a.nextOK() {
			break
		}
		a.next(x)
	}
done:
	if a.argc() == start {
		x.missarg("TMPL")
	}
}

// policyModify is xfrm_policy_modify (add or update).
func (x *xfrmCLI) policyModify(a *xargv, update bool) int {
	r := &xfrm.PolicyRequest{Lft: xfrm.DefaultLifetime()}
	r.Sel.Family = x.pref
	var dirp, selp, ptypep, ctxp bool
	var mark xfrm.Mark
	var sf selFilter
	for a.argc() > 0 {
		switch a.cur() {
		case "dir":
			if dirp {
				x.duparg("dir", a.cur())
			}
			dirp = true
			a.next(x)
			r.Dir = x.dirParse(a.cur())
		case "ctx":
			if ctxp {
				x.duparg("ctx", a.cur())
			}
			ctxp = true
			a.next(x)
		case "mark":
			mark = x.markParse(a)
		case "index":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("INDEX value is invalid", a.cur())
			}
			r.Index = v
		case "ptype":
			if ptypep {
				x.duparg("ptype", a.cur())
			}
			ptypep = true
			a.next(x)
			r.Type = x.ptypeParse(a.cur())
		case "action":
			a.next(x)
			switch a.cur() {
			case "allow":
				r.Action = xfrm.Allow
			case "block":
				r.Action = xfrm.Block
			default:
				x.invarg("ACTION value is invalid\n", a.cur())
			}
		case "priority":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("PRIORITY value is invalid", a.cur())
			}
			r.Priority = v
		case "flag":
			a.next(x)
			x.policyFlagParse(a, &r.Flags)
		case "limit":
			a.next(x)
			x.lifetimeParse(a, &r.Lft)
		case "tmpl":
			if (len(r.Tmpls)+1)*64 > 1024 {
				x.exitf(1, "Too many tmpls: buffer overflow\n")
			}
			t := xfrm.Tmpl{Family: x.pref, AAlgos: ^uint32(0), EAlgos: ^uint32(0), CAlgos: ^uint32(0)}
			a.next(x)
			x.tmplParse(a, &t)
			r.Tmpls = append(r.Tmpls, t)
		case "if_id":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("IF_ID value is invalid", a.cur())
			}
			r.IfID = v
		default:
			if selp {
				x.duparg("unknown", a.cur())
			}
			selp = true
			x.selectorParse(a, &r.Sel, &sf)
			if x.pref == xfrm.Unspec {
				x.pref = r.Sel.Family
			}
		}
		a.i++
	}
	if !dirp {
		x.exitf(1, "Not enough information: DIR is required.\n")
	}
	if mark.M != 0 {
		r.Mark = mark
	}
	if r.Sel.Family == xfrm.Unspec {
		r.Sel.Family = xfrm.Inet
	}
	fixSelector(&r.Sel)
	for i := range r.Tmpls {
		fixTmpl(&r.Tmpls[i])
	}
	x.kernel(x.db.AddPolicy(r, update, x.now()))
	x.dirty = true
	return 0
}

// fixSelector gives unset selector addresses the family's zero address
// (the kernel's selector holds zeros there).
func fixSelector(s *xfrm.Selector) {
	if !s.Src.IsValid() {
		s.Src = zeroAddr(s.Family)
	} else if xfrm.Family(famOf(s.Src)) != s.Family {
		s.Src = reinterpret(s.Src, s.Family)
	}
	if !s.Dst.IsValid() {
		s.Dst = zeroAddr(s.Family)
	} else if xfrm.Family(famOf(s.Dst)) != s.Family {
		s.Dst = reinterpret(s.Dst, s.Family)
	}
}

// reinterpret reads an address's bytes in another family (the kernel
// keeps 16 bytes whatever the family).
func reinterpret(a netip.Addr, f xfrm.Family) netip.Addr {
	b := addr16(a)
	if f == xfrm.Inet {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

func fixTmpl(t *xfrm.Tmpl) {
	f := t.Family
	if f == xfrm.Unspec {
		return // the kernel gives it the policy's family
	}
	if t.Src.IsValid() && xfrm.Family(famOf(t.Src)) != f {
		t.Src = reinterpret(t.Src, f)
	}
	if t.Dst.IsValid() && xfrm.Family(famOf(t.Dst)) != f {
		t.Dst = reinterpret(t.Dst, f)
	}
}

// policyID parses the arguments of get and delete
// (xfrm_policy_get_or_delete).
func (x *xfrmCLI) policyGetOrDelete(a *xargv, del bool) int {
	id := xfrm.PolicyID{}
	var dirp, selp, indexp, ptypep, ctxp bool
	var mark xfrm.Mark
	var sf selFilter
	for a.argc() > 0 {
		switch a.cur() {
		case "dir":
			if dirp {
				x.duparg("dir", a.cur())
			}
			dirp = true
			a.next(x)
			id.Dir = x.dirParse(a.cur())
		case "ctx":
			if ctxp {
				x.duparg("ctx", a.cur())
			}
			ctxp = true
			a.next(x)
		case "mark":
			mark = x.markParse(a)
		case "index":
			if indexp {
				x.duparg("index", a.cur())
			}
			indexp = true
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("INDEX value is invalid", a.cur())
			}
			id.Index = v
		case "ptype":
			if ptypep {
				x.duparg("ptype", a.cur())
			}
			ptypep = true
			a.next(x)
			id.Type = x.ptypeParse(a.cur())
		case "if_id":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("IF_ID value is invalid", a.cur())
			}
			id.IfID = v
		default:
			if selp {
				x.invarg("unknown", a.cur())
			}
			selp = true
			x.selectorParse(a, &id.Sel, &sf)
			if x.pref == xfrm.Unspec {
				x.pref = id.Sel.Family
			}
		}
		a.i++
	}
	if !dirp {
		x.exitf(1, "Not enough information: DIR is required.\n")
	}
	if !selp && !indexp {
		x.exitf(1, "Not enough information: either SELECTOR or INDEX is required.\n")
	}
	if selp && indexp {
		x.exitf(255, "Error: either \"SELECTOR\" is duplicate, or \"INDEX\" is a garbage.\n")
	}
	if id.Sel.Family == xfrm.Unspec {
		id.Sel.Family = xfrm.Inet
	}
	fixSelector(&id.Sel)
	if mark.M&mark.V != 0 {
		id.Mark = mark
	}
	if del {
		x.kernel(x.db.DeletePolicy(&id))
		x.dirty = true
		return 0
	}
	p, err := x.db.GetPolicy(&id)
	x.kernel(err)
	x.out(xfrm.AppendPolicy(nil, p, x.format()))
	return 0
}

// policyFilter is the policy part of struct xfrm_filter.
type policyFilter struct {
	use      bool
	family   xfrm.Family
	sel      xfrm.Selector
	sf       selFilter
	dir      xfrm.Dir
	dirSet   bool
	index    uint32
	indexSet bool
	ptype    uint8
	ptypeSet bool
	action   xfrm.Action
	actSet   bool
	prio     uint32
	prioSet  bool
	flags    uint8
	flagsSet bool
	nosock   bool // filter_socket: no per-socket policies
}

// match is xfrm_policy_filter_match.
func (f *policyFilter) match(p *xfrm.Policy) bool {
	if !f.use {
		return true
	}
	if f.family != xfrm.Unspec && f.family != p.Sel.Family {
		return false
	}
	if f.dirSet && p.Dir != f.dir {
		return false
	}
	if f.nosock && p.Dir.Socket() {
		return false
	}
	if f.ptypeSet && p.Type != f.ptype {
		return false
	}
	if f.sf.srcLen > 0 && !xfrm.PrefixMatch(p.Sel.Src, f.sel.Src, uint8(f.sf.srcLen)) {
		return false
	}
	if f.sf.dstLen > 0 && !xfrm.PrefixMatch(p.Sel.Dst, f.sel.Dst, uint8(f.sf.dstLen)) {
		return false
	}
	if f.sf.dev && p.Sel.Ifindex != f.sel.Ifindex {
		return false
	}
	if f.sf.proto && p.Sel.Proto != f.sel.Proto {
		return false
	}
	if f.sf.sport && p.Sel.Sport != f.sel.Sport {
		return false
	}
	if f.sf.dport && p.Sel.Dport != f.sel.Dport {
		return false
	}
	if f.indexSet && p.Index != f.index {
		return false
	}
	if f.actSet && p.Action != f.action {
		return false
	}
	if f.prioSet && p.Priority != f.prio {
		return false
	}
	if f.flagsSet && p.Flags&f.flags == 0 {
		return false
	}
	return true
}

// policyList is xfrm_policy_list_or_deleteall.
func (x *xfrmCLI) policyList(a *xargv, deleteall bool) int {
	var f policyFilter
	if a.argc() > 0 || x.pref != xfrm.Unspec {
		f.use = true
	}
	f.family = x.pref
	selp := false
	for a.argc() > 0 {
		switch a.cur() {
		case "dir":
			a.next(x)
			f.dir, f.dirSet = x.dirParse(a.cur()), true
		case "index":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("INDEX value is invalid", a.cur())
			}
			f.index, f.indexSet = v, true
		case "ptype":
			a.next(x)
			f.ptype, f.ptypeSet = x.ptypeParse(a.cur()), true
		case "action":
			a.next(x)
			switch a.cur() {
			case "allow":
				f.action = xfrm.Allow
			case "block":
				f.action = xfrm.Block
			default:
				x.invarg("ACTION value is invalid\n", a.cur())
			}
			f.actSet = true
		case "priority":
			a.next(x)
			v, ok := getU32(a.cur())
			if !ok {
				x.invarg("PRIORITY value is invalid", a.cur())
			}
			f.prio, f.prioSet = v, true
		case "flag":
			a.next(x)
			x.policyFlagParse(a, &f.flags)
			f.flagsSet = true
		case "nosock":
			f.nosock = true
		default:
			if selp {
				x.invarg("unknown", a.cur())
			}
			selp = true
			f.sel.Family = f.family
			x.selectorParse(a, &f.sel, &f.sf)
			f.family = f.sel.Family
			if x.pref == xfrm.Unspec {
				x.pref = f.sel.Family
			}
		}
		a.i++
	}
	if deleteall {
		var del []xfrm.PolicyID
		stuck := false
		for _, p := range x.db.Policies {
			if !f.match(p) || p.Dir.Socket() {
				// xfrm_policy_keep_deleteall: "can't delete socket
				// policies"
				continue
			}
			if p.Type != xfrm.TypeMain {
				// the delete request carries no policy type: the kernel
				// looks for a main policy with that index
				stuck = true
				continue
			}
			del = append(del, xfrm.PolicyID{Sel: p.Sel, Index: p.Index, Dir: p.Dir, Mark: p.Mark, IfID: p.IfID})
		}
		for i := range del {
			if err := x.db.DeletePolicy(&del[i]); err == nil {
				x.dirty = true
			}
		}
		if stuck {
			x.exitf(1, "Failed to send delete-all request: No such file or directory\n")
		}
		return 0
	}
	o := x.format()
	var b []byte
	for _, p := range x.db.Policies {
		if f.match(p) {
			b = xfrm.AppendPolicy(b, p, o)
		}
	}
	x.out(b)
	return 0
}

func (x *xfrmCLI) policyFlush(a *xargv) int {
	var typ uint8
	ptypep := false
	for a.argc() > 0 {
		if a.cur() == "ptype" {
			if ptypep {
				x.duparg("ptype", a.cur())
			}
			ptypep = true
			a.next(x)
			typ = x.ptypeParse(a.cur())
		} else {
			x.invarg("unknown", a.cur())
		}
		a.i++
	}
	x.db.FlushPolicies(typ)
	x.dirty = true
	return 0
}

func (x *xfrmCLI) policyCount() int {
	in, out, fwd := x.db.Count()
	sl := "\n"
	if x.c.oneline {
		sl = "\\"
	}
	b := fmt.Appendf(nil, "\t SPD IN  %d OUT %d FWD %d", in, out, fwd)
	if x.stats > 0 {
		si, so, sf := x.db.SocketCount()
		b = fmt.Appendf(b, " (Sock: IN %d OUT %d FWD %d)", si, so, sf)
	}
	b = append(b, sl...)
	if x.stats > 1 {
		// policy_idx_hmask grows with the number of policies
		hmask := 7
		for n := in + out + fwd; n > hmask && hmask < 1<<20-1; {
			hmask = hmask*2 + 1
		}
		b = fmt.Appendf(b, "\t SPD buckets: count %d Max %d%s", hmask, 1<<20, sl)
		h := x.db.Hthresh
		if h == [4]uint8{} {
			h = [4]uint8{32, 32, 128, 128}
		}
		b = fmt.Appendf(b, "\t SPD IPv4 thresholds: local %d remote %d%s", h[0], h[1], sl)
		b = fmt.Appendf(b, "\t SPD IPv6 thresholds: local %d remote %d%s", h[2], h[3], sl)
	}
	if x.c.oneline {
		b = append(b, '\n')
	}
	x.out(b)
	return 0
}

// policySet is xfrm_spd_setinfo (hash thresholds).
func (x *xfrmCLI) policySet(a *xargv) int {
	h := x.db.Hthresh
	if h == [4]uint8{} {
		h = [4]uint8{32, 32, 128, 128}
	}
	var thr4, thr6 bool
	for a.argc() > 0 {
		switch a.cur() {
		case "hthresh4", "hthresh6":
			name := a.cur()
			dup, max, i := &thr4, uint8(32), 0
			if name == "hthresh6" {
				dup, max, i = &thr6, 128, 2
			}
			if *dup {
				x.duparg(name, a.cur())
			}
			*dup = true
			a.next(x)
			l, ok := getU8(a.cur(), 0)
			if !ok || l > max {
				x.invarg(name+" LBITS value is invalid", a.cur())
			}
			a.next(x)
			r, ok := getU8(a.cur(), 0)
			if !ok || r > max {
				x.invarg(name+" RBITS value is invalid", a.cur())
			}
			h[i], h[i+1] = l, r
		default:
			x.invarg("unknown", a.cur())
		}
		a.i++
	}
	x.db.Hthresh = h
	x.dirty = true
	return 0
}

// policySetDefault is xfrm_spd_setdefault.
func (x *xfrmCLI) policySetDefault(a *xargv) int {
	var set [3]uint8 // 0 unspec, 1 block, 2 accept
	for a.argc() > 0 {
		var d xfrm.Dir
		switch a.cur() {
		case "in":
			d = xfrm.DirIn
		case "fwd":
			d = xfrm.DirFwd
		case "out":
			d = xfrm.DirOut
		default:
			x.invarg("unknown direction", a.cur())
		}
		if set[d] != 0 {
			x.duparg(a.cur(), a.cur())
		}
		name := a.cur()
		a.next(x)
		switch a.cur() {
		case "block":
			set[d] = 1
		case "accept":
			set[d] = 2
		default:
			x.invarg(name+" policy value is invalid", a.cur())
		}
		a.i++
	}
	for d, v := range set {
		if v != 0 {
			x.db.DefaultBlock[d] = v == 1
		}
	}
	x.dirty = true
	return 0
}

func (x *xfrmCLI) policyGetDefault() int {
	name := func(block bool) string {
		if block {
			return "block"
		}
		return "accept"
	}
	d := x.db.DefaultBlock
	x.out(fmt.Appendf(nil, "Default policies:\n in:  %s\n fwd: %s\n out: %s\n",
		name(d[xfrm.DirIn]), name(d[xfrm.DirFwd]), name(d[xfrm.DirOut])))
	return 0
}

const xfrmStateUsage = `Usage: ip xfrm state { add | update } ID [ ALGO-LIST ] [ mode MODE ]
        [ mark MARK [ mask MASK ] ] [ reqid REQID ] [ seq SEQ ]
        [ replay-window SIZE ] [ replay-seq SEQ ] [ replay-oseq SEQ ]
        [ replay-seq-hi SEQ ] [ replay-oseq-hi SEQ ]
        [ flag FLAG-LIST ] [ sel SELECTOR ] [ LIMIT-LIST ] [ encap ENCAP ]
        [ coa ADDR[/PLEN] ] [ ctx CTX ] [ extra-flag EXTRA-FLAG-LIST ]
        [ offload [dev DEV] dir DIR ]
        [ output-mark OUTPUT-MARK [ mask MASK ] ]
        [ if_id IF_ID ] [ tfcpad LENGTH ]
Usage: ip xfrm state allocspi ID [ mode MODE ] [ mark MARK [ mask MASK ] ]
        [ reqid REQID ] [ seq SEQ ] [ min SPI max SPI ]
Usage: ip xfrm state { delete | get } ID [ mark MARK [ mask MASK ] ]
Usage: ip xfrm state deleteall [ ID ] [ mode MODE ] [ reqid REQID ]
        [ flag FLAG-LIST ]
Usage: ip xfrm state list [ nokeys ] [ ID ] [ mode MODE ] [ reqid REQID ]
        [ flag FLAG-LIST ]
Usage: ip xfrm state flush [ proto XFRM-PROTO ]
Usage: ip xfrm state count
ID := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]
XFRM-PROTO := esp | ah | comp | route2 | hao
ALGO-LIST := [ ALGO-LIST ] ALGO
ALGO := { enc | auth } ALGO-NAME ALGO-KEYMAT |
        auth-trunc ALGO-NAME ALGO-KEYMAT ALGO-TRUNC-LEN |
        aead ALGO-NAME ALGO-KEYMAT ALGO-ICV-LEN |
        comp ALGO-NAME
MODE := transport | tunnel | beet | ro | in_trigger
FLAG-LIST := [ FLAG-LIST ] FLAG
FLAG := noecn | decap-dscp | nopmtudisc | wildrecv | icmp | af-unspec | align4 | esn
EXTRA-FLAG-LIST := [ EXTRA-FLAG-LIST ] EXTRA-FLAG
EXTRA-FLAG := dont-encap-dscp | oseq-may-wrap
SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ dev DEV ] [ UPSPEC ]
UPSPEC := proto { { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |
                  { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] |
                  gre [ key { DOTTED-QUAD | NUMBER } ] | PROTO }
LIMIT-LIST := [ LIMIT-LIST ] limit LIMIT
LIMIT := { time-soft | time-hard | time-use-soft | time-use-hard } SECONDS |
         { byte-soft | byte-hard } SIZE | { packet-soft | packet-hard } COUNT
ENCAP := { espinudp | espinudp-nonike | espintcp } SPORT DPORT OADDR
DIR := in | out
`

const xfrmPolicyUsage = `Usage: ip xfrm policy { add | update } SELECTOR dir DIR [ ctx CTX ]
	[ mark MARK [ mask MASK ] ] [ index INDEX ] [ ptype PTYPE ]
	[ action ACTION ] [ priority PRIORITY ] [ flag FLAG-LIST ]
	[ if_id IF_ID ] [ LIMIT-LIST ] [ TMPL-LIST ]
Usage: ip xfrm policy { delete | get } { SELECTOR | index INDEX } dir DIR
	[ ctx CTX ] [ mark MARK [ mask MASK ] ] [ ptype PTYPE ]
	[ if_id IF_ID ]
Usage: ip xfrm policy { deleteall | list } [ nosock ] [ SELECTOR ] [ dir DIR ]
	[ index INDEX ] [ ptype PTYPE ] [ action ACTION ] [ priority PRIORITY ]
	[ flag FLAG-LIST ]
Usage: ip xfrm policy flush [ ptype PTYPE ]
Usage: ip xfrm policy count
Usage: ip xfrm policy set [ hthresh4 LBITS RBITS ] [ hthresh6 LBITS RBITS ]
Usage: ip xfrm policy setdefault DIR ACTION [ DIR ACTION ] [ DIR ACTION ]
Usage: ip xfrm policy getdefault
SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ dev DEV ] [ UPSPEC ]
UPSPEC := proto { { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |
                  { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] |
                  gre [ key { DOTTED-QUAD | NUMBER } ] | PROTO }
DIR := in | out | fwd
PTYPE := main | sub
ACTION := allow | block
FLAG-LIST := [ FLAG-LIST ] FLAG
FLAG := localok | icmp
LIMIT-LIST := [ LIMIT-LIST ] limit LIMIT
LIMIT := { time-soft | time-hard | time-use-soft | time-use-hard } SECONDS |
         { byte-soft | byte-hard } SIZE | { packet-soft | packet-hard } COUNT
TMPL-LIST := [ TMPL-LIST ] tmpl TMPL
TMPL := ID [ mode MODE ] [ reqid REQID ] [ level LEVEL ]
ID := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]
XFRM-PROTO := esp | ah | comp | route2 | hao
MODE := transport | tunnel | beet | ro | in_trigger
LEVEL := required | use
`
