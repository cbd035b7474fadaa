package rate

import (
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// appendSaveString is xtables.AppendSaveString (xtables_save_string).
func appendSaveString(b []byte, v string) []byte { return xtables.AppendSaveString(b, v) }

// cString is what a fixed char[size] field keeps of s: XTOPT_PUT copies at
// most size-1 bytes, and the C string ends at the first NUL.
func cString(s string, size int) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > size-1 {
		s = s[:size-1]
	}
	return s
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// strtoll parses like glibc strtoll(s, &end, 10): leading blanks, a sign,
// decimal digits, clamped to the int64 range. n is the number of bytes
// used (0 when no digits).
func strtoll(s string) (v int64, n int) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	over := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if u > (math.MaxUint64-d)/10 {
			over = true
		} else {
			u = u*10 + d
		}
		i++
	}
	if i == start {
		return 0, 0
	}
	switch {
	case neg && (over || u > 1<<63):
		return math.MinInt64, i
	case neg:
		return -int64(u), i
	case over || u > math.MaxInt64:
		return math.MaxInt64, i
	}
	return int64(u), i
}

// atoi is C atoi: (int)strtol(s, NULL, 10).
func atoi(s string) int32 {
	v, _ := strtoll(s)
	return int32(v)
}

// atoll is C atoll.
func atoll(s string) int64 {
	v, _ := strtoll(s)
	return v
}

// strtoul10 is glibc strtoul(s, &end, 10) (xtables.Strtoul10), returning
// the rest of s after the number (all of s when no digits).
func strtoul10(s string) (uint64, string) {
	v, n := xtables.Strtoul10(s)
	if n == 0 {
		return 0, s
	}
	return v, s[n:]
}

// strtoul0 is strtoul(s, &end, 0): base from the prefix (0x hex, 0 octal).
func strtoul0(s string) (uint64, string) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && hexVal(s[i+2]) < 16 {
		base = 16
		i += 2
	} else if i < len(s) && s[i] == '0' {
		base = 8
	}
	start := i
	var u uint64
	over := false
	for i < len(s) && hexVal(s[i]) < base {
		d := hexVal(s[i])
		if u > (math.MaxUint64-d)/base {
			over = true
		} else {
			u = u*base + d
		}
		i++
	}
	if i == start {
		if base == 16 { // "0x" followed by no hex digit: the "0" is the number
			return 0, s[i-1:]
		}
		return 0, s
	}
	if over {
		return math.MaxUint64, s[i:]
	}
	if neg {
		u = -u
	}
	return u, s[i:]
}

func hexVal(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'z':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return uint64(c-'A') + 10
	}
	return 99
}

// strtod is C strtod: the longest prefix of s that is a decimal or hex
// floating-point number, "inf"/"infinity" or "nan", after leading blanks.
// n is the number of bytes used (0 when there is no number).
func strtod(s string) (v float64, n int) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		i += 8
	case strings.HasPrefix(rest, "inf"):
		i += 3
	case strings.HasPrefix(rest, "nan"):
		i += 3
		if j := strings.IndexByte(s[i:], ')'); i < len(s) && s[i] == '(' && j > 0 {
			ok := true
			for _, c := range s[i+1 : i+j] {
				if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
					ok = false
				}
			}
			if ok {
				i += j + 1
			}
		}
	default:
		hex := len(rest) > 2 && rest[0] == '0' && rest[1] == 'x' &&
			(hexVal(rest[2]) < 16 || rest[2] == '.' && len(rest) > 3 && hexVal(rest[3]) < 16)
		digits := func(base uint64) int {
			k := 0
			for i < len(s) && hexVal(s[i]) < base {
				i++
				k++
			}
			return k
		}
		base, exp := uint64(10), byte('e')
		if hex {
			i += 2
			base, exp = 16, 'p'
		}
		nd := digits(base)
		if i < len(s) && s[i] == '.' {
			i++
			nd += digits(base)
		}
		if nd == 0 {
			return 0, 0
		}
		if i < len(s) && (s[i]|0x20) == exp {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && s[j] >= '0' && s[j] <= '9' {
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				i = j
			}
		}
		num := s[start:i]
		if hex && !strings.ContainsAny(num, "pP") {
			num += "p0"
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return 0, 0
			}
		}
		return f, i
	}
	word := strings.ToLower(s[start:i])
	neg := strings.HasPrefix(word, "-")
	word = strings.TrimLeft(word, "+-")
	if strings.HasPrefix(word, "nan") {
		return math.NaN(), i
	}
	if neg {
		return math.Inf(-1), i
	}
	return math.Inf(1), i
}

// addrNumeric is xtables_ipaddr_to_numeric / xtables_ip6addr_to_numeric:
// inet_ntop, whose IPv6 form (glibc) writes an embedded IPv4 address for
// ::a.b.c.d and ::ffff:a.b.c.d.
func addrNumeric(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	b := a.As16()
	var w [8]uint16
	for i := range w {
		w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
			bestBase, bestLen = curBase, curLen
		}
		curBase = -1
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	var out []byte
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				out = append(out, ':')
			}
			continue
		}
		if i != 0 {
			out = append(out, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || bestLen == 5 && w[5] == 0xffff) {
			out = append(out, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).String()...)
			return string(out)
		}
		out = strconv.AppendUint(out, uint64(w[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		out = append(out, ':')
	}
	return string(out)
}

// inetAton is glibc's exact inet_aton (what getaddrinfo uses for a numeric
// IPv4 host): one to four parts in C notation, the last filling the bytes
// left.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		if p == "" || p[0] < '0' || p[0] > '9' {
			return netip.Addr{}, false
		}
		v, rest := strtoul0(p)
		if rest != "" || v > 0xffffffff {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	last := len(vals) - 1
	var n uint64
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
