package xtables

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// TypeMax is the upper bound of an integer option type.
func TypeMax(t OptionType) uint64 {
	switch t {
	case TypeUint8, TypeUint8RC:
		return math.MaxUint8
	case TypeUint16, TypeUint16RC, TypePort, TypePortRC:
		return math.MaxUint16
	case TypeUint32, TypeUint32RC:
		return math.MaxUint32
	}
	return math.MaxUint64
}

// HasArg reports whether getopt should take an argument for the option.
func (o *Option) HasArg() bool { return o.Type != TypeNone && o.Type != TypeOptional }

// ParseOption runs the generic part of option handling
// (xtables_option_parse): once-only, invertibility, argument presence and
// the typed parse into c.Val. The extension's Parse runs after it.
func ParseOption(c *OptionCall) error {
	o := c.Opt
	flag := uint64(1) << o.ID
	if (o.Flags&Multi == 0 || o.Excl&flag != 0) && c.XFlags&flag != 0 {
		return Errorf("%s: option \"--%s\" can only be used once.\n", c.Ext, o.Name)
	}
	if c.Invert && o.Flags&Invert == 0 {
		return Errorf("%s: option \"--%s\" cannot be inverted.\n", c.Ext, o.Name)
	}
	c.Val = Value{NVals: 1}
	switch o.Type {
	case TypeNone, TypeOptional:
		c.Val.Str = c.Arg
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		lo, hi := o.Min, TypeMax(o.Type)
		if o.Max != 0 {
			hi = o.Max
		}
		v, ok := StrToUintAll(c.Arg, lo, hi)
		if !ok {
			return Errorf("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", c.Ext, o.Name, lo, hi)
		}
		c.Val.U64 = v
	case TypeUint8RC, TypeUint16RC, TypeUint32RC, TypeUint64RC:
		return parseRange(c)
	case TypeDouble:
		v, err := strconv.ParseFloat(strings.TrimSpace(c.Arg), 64)
		if err != nil || (o.Min != o.Max && (v < float64(o.Min) || v > float64(o.Max))) {
			return Errorf("%s: bad value for option \"--%s\", or out of range (%d-%d).\n", c.Ext, o.Name, o.Min, o.Max)
		}
		c.Val.Float = v
	case TypeString:
		if o.Min != 0 && uint64(len(c.Arg)) < o.Min {
			return Errorf("Argument must have a minimum length of %d characters\n", o.Min)
		}
		if o.Max != 0 && uint64(len(c.Arg)) > o.Max {
			return Errorf("Argument must have a maximum length of %d characters\n", o.Max)
		}
		c.Val.Str = c.Arg
	case TypeTOSMask:
		return parseTOSMask(c)
	case TypeMarkMask32:
		return parseMarkMask(c)
	case TypeSyslogLevel:
		lvl, ok := ParseSyslogLevel(c.Arg)
		if !ok {
			return Errorf("log level \"%s\" unknown\n", c.Arg)
		}
		c.Val.Level = lvl
	case TypeHost:
		return parseHost(c)
	case TypeHostMask:
		if p := strings.IndexByte(c.Arg, '/'); p >= 0 {
			orig := c.Arg
			c.Arg = orig[:p]
			if err := parseHost(c); err != nil {
				return err
			}
			c.Arg = orig[p+1:]
			err := parsePlenMask(c)
			c.Arg = orig
			return err
		}
		return parseHost(c)
	case TypeProtocol:
		p, err := ParseProtocol(c.Arg, c.Ctx.Names)
		if err != nil {
			return err
		}
		c.Val.Proto = p
	case TypePort:
		p := portByName(c.Ctx, c.Arg)
		if p < 0 {
			return Errorf("Port \"%s\" does not resolve to anything.\n", c.Arg)
		}
		c.Val.Port = uint16(p)
	case TypePortRC:
		c.Val.Ports = [2]uint16{0, math.MaxUint16}
		c.Val.NVals = 0
		for _, part := range strings.Split(c.Arg, ":") {
			if c.Val.NVals == 2 {
				return Errorf("%s: Too many components for option \"--%s\" (max: 2)\n", c.Ext, o.Name)
			}
			if part != "" {
				p := portByName(c.Ctx, part)
				if p < 0 {
					return Errorf("Port \"%s\" does not resolve to anything.\n", part)
				}
				c.Val.Ports[c.Val.NVals] = uint16(p)
			}
			c.Val.NVals++
		}
		if c.Val.NVals == 1 {
			c.Val.Ports[1] = c.Val.Ports[0]
			c.Val.NVals = 2
		}
	case TypePlen:
		return parsePlen(c)
	case TypePlenMask:
		return parsePlenMask(c)
	case TypeEtherMAC:
		m, ok := ParseMAC(c.Arg)
		if !ok {
			return Errorf("Invalid MAC address specified.")
		}
		c.Val.MAC = m
	}
	return nil
}

func parseRange(c *OptionCall) error {
	o := c.Opt
	lmax := TypeMax(o.Type)
	c.Val.NVals = 0
	arg := c.Arg
	for {
		if c.Val.NVals == 2 {
			return Errorf("%s: Too many components for option \"--%s\" (max: 2)\n", c.Ext, o.Name)
		}
		var v uint64
		end := arg
		if arg == "" || arg[0] == ':' {
			if c.Val.NVals == 1 {
				v = lmax
			}
		} else {
			var ok bool
			v, end, ok = StrToUint(arg, 0, lmax)
			if !ok {
				return Errorf("%s: bad value for option \"--%s\" near \"%s\", or out of range (0-%d).\n", c.Ext, o.Name, arg, lmax)
			}
			if end != "" && end[0] != ':' {
				return Errorf("%s: Argument to \"--%s\" has unexpected characters near \"%s\".\n", c.Ext, o.Name, end)
			}
		}
		c.Val.Range[c.Val.NVals] = v
		c.Val.NVals++
		if end == "" {
			break
		}
		arg = end[1:]
	}
	return nil
}

var tosSymbols = []struct {
	v    uint8
	name string
}{
	{0x10, "Minimize-Delay"},
	{0x08, "Maximize-Throughput"},
	{0x04, "Maximize-Reliability"},
	{0x02, "Minimize-Cost"},
	{0x00, "Normal-Service"},
}

// TOSSymbol returns the symbolic name of a TOS value, if it has one.
func TOSSymbol(v uint8) (string, bool) {
	for _, s := range tosSymbols {
		if s.v == v {
			return s.name, true
		}
	}
	return "", false
}

func parseTOSMask(c *OptionCall) error {
	if _, _, ok := StrToUint(c.Arg, 0, math.MaxUint8); ok {
		v, rest, _ := StrToUint(c.Arg, 0, math.MaxUint8)
		c.Val.TOS, c.Val.TOSMask = uint8(v), math.MaxUint8
		if strings.HasPrefix(rest, "/") {
			m, r2, ok := StrToUint(rest[1:], 0, math.MaxUint8)
			if !ok {
				return Errorf("Illegal value: \"%s\"", c.Arg)
			}
			c.Val.TOSMask = uint8(m)
			rest = r2
		}
		if rest != "" {
			return Errorf("Illegal value: \"%s\"", c.Arg)
		}
		return nil
	}
	c.Val.TOSMask = uint8(c.Opt.Max)
	for _, s := range tosSymbols {
		if strings.EqualFold(c.Arg, s.name) {
			c.Val.TOS = s.v
			return nil
		}
	}
	return Errorf("Symbolic name \"%s\" is unknown", c.Arg)
}

func parseMarkMask(c *OptionCall) error {
	// xtables_parse_val_mask without a name map
	bad := Errorf("%s: bad integer value for option \"--%s\", or out of range.\n", c.Ext, c.Opt.Name)
	garbage := Errorf("%s: trailing garbage after value for option \"--%s\".\n", c.Ext, c.Opt.Name)
	v, rest, ok := StrToUint(c.Arg, 0, math.MaxUint32)
	if !ok {
		return bad
	}
	mask := uint64(math.MaxUint32)
	if rest != "" {
		if rest[0] != '/' {
			return garbage
		}
		if mask, rest, ok = StrToUint(rest[1:], 0, math.MaxUint32); !ok {
			return bad
		}
		if rest != "" {
			return garbage
		}
	}
	c.Val.Mark, c.Val.MarkMask = uint32(v), uint32(mask)
	return nil
}

var syslogLevels = map[string]uint8{
	"alert": 1, "crit": 2, "debug": 7, "emerg": 0, "error": 3,
	"info": 6, "notice": 5, "panic": 0, "warning": 4,
}

// ParseSyslogLevel accepts 0..7 or a syslog level name.
func ParseSyslogLevel(s string) (uint8, bool) {
	if v, ok := StrToUintAll(s, 0, 7); ok {
		return uint8(v), true
	}
	v, ok := syslogLevels[s]
	return v, ok
}

func parseHost(c *OptionCall) error {
	f := c.Ctx.Family
	c.Val.Plen = f.Bits()
	c.Val.Mask = PrefixMask(f, f.Bits())
	var addrs []netip.Addr
	if f == IPv6 {
		if a, ok := ParseIPv6Numeric(c.Arg); ok {
			addrs = []netip.Addr{a}
		}
	} else if a, err := netip.ParseAddr(c.Arg); err == nil && a.Is4() {
		addrs = []netip.Addr{a}
	} else if a, ok := inetAton(c.Arg); ok {
		addrs = []netip.Addr{a}
	}
	if addrs == nil {
		// a numeric address of the other family
		if _, ok := inetAton(c.Arg); ok && f == IPv6 {
			return Errorf("getaddrinfo: Address family for hostname not supported\n")
		}
		if _, ok := ParseIPv6Numeric(c.Arg); ok && f == IPv4 {
			return Errorf("getaddrinfo: Address family for hostname not supported\n")
		}
	}
	if addrs == nil && c.Ctx.Names != nil {
		addrs = c.Ctx.Names.HostAddrs(c.Arg, f)
	}
	if len(addrs) == 0 {
		return Errorf("getaddrinfo: Name or service not known\n")
	}
	for _, a := range addrs[1:] {
		if a != addrs[0] {
			return Errorf("%s resolves to more than one address\n", c.Arg)
		}
	}
	c.Val.Addr = addrs[0]
	return nil
}

// inetAton accepts the numeric forms getaddrinfo takes for IPv4 (a, a.b,
// a.b.c, a.b.c.d with each part in C base-0 notation).
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := StrToUintAll(p, 0, math.MaxUint32)
		if !ok || p == "" || p[0] == ' ' || p[0] == '+' {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 255 {
			return netip.Addr{}, false
		}
		n |= vals[i] << (24 - 8*uint(i))
	}
	if vals[last] >= uint64(1)<<(8*uint(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parsePlen(c *OptionCall) error {
	f := c.Ctx.Family
	bits := f.Bits()
	if v, ok := StrToUintAll(c.Arg, 0, uint64(bits)); ok {
		c.Val.Plen = int(v)
		return nil
	}
	// A mask in full form, read by getaddrinfo(AI_NUMERICHOST): inet_aton
	// for IPv4, so "33" is 0.0.0.33. A mask that is not a prefix gives
	// xtables_ipmask_to_cidr's -1, which the uint8 hlen turns into 255.
	var m netip.Addr
	var ok bool
	if f == IPv6 {
		m, ok = ParseIPv6Numeric(c.Arg)
	} else {
		m, ok = inetAton(c.Arg)
	}
	if ok {
		c.Val.Mask = m
		c.Val.Plen = MaskBits(m)
		if c.Val.Plen < 0 {
			c.Val.Plen = 255
		}
		return nil
	}
	return Errorf("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (%d-%d).\n", c.Ext, c.Opt.Name, 0, bits)
}

func parsePlenMask(c *OptionCall) error {
	if err := parsePlen(c); err != nil {
		return err
	}
	// As in libxtables, a mask given in full form yields its prefix length,
	// and the mask is then rebuilt from that length (all ones for 255).
	if c.Val.Plen > c.Ctx.Family.Bits() {
		c.Val.Mask = PrefixMask(c.Ctx.Family, c.Ctx.Family.Bits())
		return nil
	}
	c.Val.Mask = PrefixMask(c.Ctx.Family, c.Val.Plen)
	return nil
}

// ParseMAC parses six colon-separated hex bytes (one or two digits each).
func ParseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, false
	}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return m, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return m, false
		}
		m[i] = byte(v)
	}
	return m, true
}

// FinalCheck runs the generic final checks (xtables_options_fcheck):
// mandatory options, "also" and "excl" constraints.
func FinalCheck(ext string, opts []Option, xflags uint64) error {
	for i := range opts {
		e := &opts[i]
		ef := uint64(1) << e.ID
		if e.Flags&Mand != 0 && xflags&ef == 0 {
			return Errorf("%s: option \"--%s\" must be specified\n", ext, e.Name)
		}
		if xflags&ef == 0 || e.Also|e.Excl == 0 {
			continue
		}
		// the other options by ID, each the first entry of its ID
		// (xtables_option_lookup), as libxtables walks them
		for id := uint(0); id < 32; id++ {
			if id == e.ID {
				continue
			}
			o := lookupOption(opts, id)
			if o == nil {
				continue
			}
			of := uint64(1) << o.ID
			if e.Also&of != 0 && xflags&of == 0 {
				return Errorf("%s: option \"--%s\" also requires \"--%s\".\n", ext, e.Name, o.Name)
			}
			if e.Excl&of != 0 && xflags&of != 0 {
				return Errorf("%s: option \"--%s\" cannot be used together with \"--%s\".\n", ext, e.Name, o.Name)
			}
		}
	}
	return nil
}

func lookupOption(opts []Option, id uint) *Option {
	for i := range opts {
		if opts[i].ID == id {
			return &opts[i]
		}
	}
	return nil
}

// portByName is the context's service look-up, numbers only without one.
func portByName(ctx *Context, s string) int {
	if ctx != nil && ctx.Names != nil {
		return ctx.Names.PortByName(s)
	}
	if v, ok := StrToUintAll(s, 10, 0xffff); ok {
		return int(v)
	}
	return -1
}
