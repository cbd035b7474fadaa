package xtables

import (
	"net/netip"
	"strconv"
	"strings"
)

// ParseIPv4Numeric parses a dotted address the way libxtables'
// __numeric_to_ipaddr does: up to four components 0..255 (each as strtoul
// base 0), a short form being completed with zeros ("10" is 10.0.0.0,
// "10.1" is 10.1.0.0). With isMask, all four components are required.
func ParseIPv4Numeric(s string, isMask bool) (netip.Addr, bool) {
	if len(s) > 19 { // the C code copies into a 20-byte buffer
		s = s[:19]
	}
	var b [4]byte
	p := s
	for i := 0; i < 3; i++ {
		q := strings.IndexByte(p, '.')
		if q < 0 {
			if isMask {
				return netip.Addr{}, false
			}
			v, ok := StrToUintAll(p, 0, 255)
			if !ok {
				return netip.Addr{}, false
			}
			b[i] = byte(v)
			return netip.AddrFrom4(b), true
		}
		v, ok := StrToUintAll(p[:q], 0, 255)
		if !ok {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
		p = p[q+1:]
	}
	v, ok := StrToUintAll(p, 0, 255)
	if !ok {
		return netip.Addr{}, false
	}
	b[3] = byte(v)
	return netip.AddrFrom4(b), true
}

// ParseIPv6Numeric is inet_pton(AF_INET6).
func ParseIPv6Numeric(s string) (netip.Addr, bool) {
	if strings.ContainsAny(s, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// PrefixMask returns the mask of n leading one bits in the family.
func PrefixMask(f Family, n int) netip.Addr {
	if f == IPv6 {
		var b [16]byte
		for i := 0; i < 16; i++ {
			switch {
			case n >= 8:
				b[i] = 0xff
				n -= 8
			case n > 0:
				b[i] = byte(0xff << (8 - n))
				n = 0
			}
		}
		return netip.AddrFrom16(b)
	}
	var b [4]byte
	for i := 0; i < 4; i++ {
		switch {
		case n >= 8:
			b[i] = 0xff
			n -= 8
		case n > 0:
			b[i] = byte(0xff << (8 - n))
			n = 0
		}
	}
	return netip.AddrFrom4(b)
}

// MaskBits returns the prefix length of a contiguous mask, or -1.
func MaskBits(m netip.Addr) int {
	if !m.IsValid() {
		return 0
	}
	s := m.AsSlice()
	n := 0
	i := 0
	for ; i < len(s) && s[i] == 0xff; i++ {
		n += 8
	}
	if i < len(s) {
		c := s[i]
		for c&0x80 != 0 {
			n++
			c <<= 1
		}
		if c != 0 {
			return -1
		}
		for i++; i < len(s); i++ {
			if s[i] != 0 {
				return -1
			}
		}
	}
	return n
}

// ApplyMask returns a & m.
func ApplyMask(a, m netip.Addr) netip.Addr {
	as, ms := a.As16(), m.As16()
	if a.Is4() {
		a4, m4 := a.As4(), m.As4()
		for i := range a4 {
			a4[i] &= m4[i]
		}
		return netip.AddrFrom4(a4)
	}
	for i := range as {
		as[i] &= ms[i]
	}
	return netip.AddrFrom16(as)
}

// ZeroAddr is 0.0.0.0 or ::.
func ZeroAddr(f Family) netip.Addr {
	if f == IPv6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// IsZero reports whether every bit of a is zero (or a is invalid).
func IsZero(a netip.Addr) bool {
	return !a.IsValid() || a.IsUnspecified()
}

// ParseAddrList parses -s/-d arguments as xtables_ipparse_multiple and
// xtables_ip6parse_multiple do: comma-separated host/network[/mask] items,
// each possibly resolving to several addresses, masked.
func ParseAddrList(s string, f Family, names Resolver) (addrs, masks []netip.Addr, err error) {
	if a, m, ok, err := ParseAddrSingle(s, f); err != nil {
		return nil, nil, err
	} else if ok {
		z := []netip.Addr{a, m}
		return z[:1:1], z[1:], nil
	}
	items := strings.Split(s, ",")
	for _, item := range items {
		item = strings.TrimLeft(item, " \t\n\v\f\r")
		if len(item) > 255 {
			return nil, nil, Errorf("Hostname too long")
		}
		host := item
		var mask netip.Addr
		if p := strings.LastIndexByte(item, '/'); p >= 0 {
			host = item[:p]
			mask, err = parseMask(item[p+1:], f)
			if err != nil {
				return nil, nil, err
			}
		} else {
			mask = PrefixMask(f, f.Bits())
		}
		if IsZero(mask) {
			host = ZeroAddr(f).String()
		}
		as, err := parseHostNetwork(host, f, names)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range as {
			addrs = append(addrs, ApplyMask(a, mask))
			masks = append(masks, mask)
		}
	}
	return addrs, masks, nil
}

// ParseAddrSingle is ParseAddrList for the common argument that is one
// numeric address with an optional mask, without allocating: ok is false
// when s needs ParseAddrList (several items, or names to resolve).
func ParseAddrSingle(s string, f Family) (addr, mask netip.Addr, ok bool, err error) {
	if s == "0.0.0.0/0" || s == "::0/0" {
		return ZeroAddr(f), ZeroAddr(f), true, nil
	}
	if strings.IndexByte(s, ',') >= 0 {
		return
	}
	item := strings.TrimLeft(s, " \t\n\v\f\r")
	host, maskStr, hasMask := item, "", false
	if p := strings.LastIndexByte(item, '/'); p >= 0 {
		host, maskStr, hasMask = item[:p], item[p+1:], true
	}
	var a netip.Addr
	if f == IPv6 {
		a, ok = ParseIPv6Numeric(host)
	} else {
		a, ok = ParseIPv4Numeric(host, false)
	}
	if !ok || len(item) > 255 {
		return netip.Addr{}, netip.Addr{}, false, nil
	}
	mask = PrefixMask(f, f.Bits())
	if hasMask {
		if mask, err = parseMask(maskStr, f); err != nil {
			return netip.Addr{}, netip.Addr{}, false, err
		}
	}
	if IsZero(mask) {
		a = ZeroAddr(f)
	}
	return ApplyMask(a, mask), mask, true, nil
}

func parseMask(m string, f Family) (netip.Addr, error) {
	if f == IPv6 {
		if a, ok := ParseIPv6Numeric(m); ok {
			return a, nil
		}
	} else if a, ok := ParseIPv4Numeric(m, true); ok {
		return a, nil
	}
	bits, ok := StrToUintAll(m, 0, uint64(f.Bits()))
	if !ok {
		return netip.Addr{}, Errorf("invalid mask `%s' specified", m)
	}
	return PrefixMask(f, int(bits)), nil
}

func parseHostNetwork(name string, f Family, names Resolver) ([]netip.Addr, error) {
	if f == IPv6 {
		if a, ok := ParseIPv6Numeric(name); ok {
			return []netip.Addr{a}, nil
		}
	} else if a, ok := ParseIPv4Numeric(name, false); ok {
		return []netip.Addr{a}, nil
	} else if names != nil {
		if a, ok := names.NetworkAddr(name); ok {
			return []netip.Addr{a}, nil
		}
	}
	if names != nil {
		if as := names.HostAddrs(name, f); len(as) > 0 {
			return as, nil
		}
	}
	return nil, Errorf("host/network `%s' not found", name)
}

// MaskString is the save form of a mask (mask_to_str): a prefix length when
// contiguous, else the dotted (or IPv6) mask.
func MaskString(m netip.Addr) string {
	if n := MaskBits(m); n >= 0 {
		return itoa(n)
	}
	return string(AppendAddr(nil, m))
}

// AppendMask appends what MaskString returns.
func AppendMask(b []byte, m netip.Addr) []byte {
	if n := MaskBits(m); n >= 0 {
		return strconv.AppendUint(b, uint64(n), 10)
	}
	return AppendAddr(b, m)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
