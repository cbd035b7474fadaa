package iphdr

import (
	"math"
	"net/netip"
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// badValue is xtables_param_act(XTF_BAD_VALUE, ...).
func badValue(mod, opt, val string) error {
	return xtables.Errorf("%s: Bad value for \"%s\" option: \"%s\"", mod, opt, val)
}

// cStrtoul is glibc strtoul on a 64-bit host: leading blanks, an optional
// sign ("-" negates modulo 2^64), base 0/8/10/16 prefixes. It returns the
// value, the unparsed rest, whether any digit was read and whether the
// value overflowed (then the value is ULONG_MAX, errno ERANGE).
func cStrtoul(s string, base int) (v uint64, rest string, ok, overflow bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(s) && s[i] == '0' && (s[i+1]|0x20) == 'x' && i+2 < len(s) && digit(s[i+2]) < 16 {
		base = 16
		i += 2
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	start := i
	b := uint64(base)
	for i < len(s) {
		d := digit(s[i])
		if d >= b {
			break
		}
		if v > (math.MaxUint64-d)/b {
			overflow = true
		}
		v = v*b + d
		i++
	}
	if i == start {
		return 0, s, false, false
	}
	if overflow {
		return math.MaxUint64, s[i:], true, true
	}
	if neg {
		v = -v
	}
	return v, s[i:], true, false
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func digit(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'z':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return uint64(c-'A') + 10
	}
	return math.MaxUint64
}

// appendHex02 is printf("0x%02x").
func appendHex02(b []byte, v uint64) []byte {
	b = append(b, "0x"...)
	if v < 0x10 {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, v, 16)
}

// appendInt is printf("%d") of a value stored in a C int of that width.
func appendInt32(b []byte, v uint32) []byte {
	return strconv.AppendInt(b, int64(int32(v)), 10)
}

func appendU(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// appendInvBang appends "!" (the -L form of an inverted field) when inv.
func appendInvBang(b []byte, inv bool) []byte {
	if inv {
		return append(b, '!')
	}
	return b
}

// ip6String is xtables_ip6addr_to_numeric (see xtables.AppendIPv6).
func ip6String(a netip.Addr) string { return string(xtables.AppendIPv6(nil, a)) }

// maskCIDR6 is xtables_ip6mask_to_cidr printed with %u: the prefix length,
// or 4294967295 (-1) for a non-contiguous mask.
func maskCIDR6(m netip.Addr) uint64 {
	if !m.IsValid() {
		return 0
	}
	n := xtables.MaskBits(netip.AddrFrom16(m.As16()))
	if n < 0 {
		return math.MaxUint32
	}
	return uint64(n)
}
