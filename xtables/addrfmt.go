package xtables

import (
	"net/netip"
	"strconv"
)

// AppendIPv6 appends an IPv6 address as xtables_ip6addr_to_numeric prints it: glibc's inet_ntop, which
// differs from netip's form in writing the last 32 bits dotted when the
// address starts with 96 zero bits (or 80 zeros and 0xffff), "::0.1.0.2".
func AppendIPv6(out []byte, a netip.Addr) []byte {
	var w [8]uint16
	if a.IsValid() {
		b := a.As16()
		for i := range w {
			w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
	}
	// The longest run of zero words (at least two), the first on ties.
	best, bestLen := -1, 0
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
			best, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		best = -1
	}
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				out = append(out, ':')
			}
			continue
		}
		if i != 0 {
			out = append(out, ':')
		}
		if i == 6 && best == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			for k, v := range []uint16{w[6] >> 8, w[6] & 0xff, w[7] >> 8, w[7] & 0xff} {
				if k > 0 {
					out = append(out, '.')
				}
				out = strconv.AppendUint(out, uint64(v), 10)
			}
			return out
		}
		out = strconv.AppendUint(out, uint64(w[i]), 16)
	}
	if best >= 0 && best+bestLen == 8 {
		out = append(out, ':')
	}
	return out
}

// AppendAddr appends an address in the numeric form iptables prints:
// dotted IPv4, glibc's inet_ntop form for IPv6.
func AppendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		return a.AppendTo(b)
	}
	return AppendIPv6(b, a)
}
