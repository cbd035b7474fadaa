package ctmatch

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// hostMask returns the mask an XTTYPE_HOSTMASK/PLENMASK option yields. A
// mask that is not contiguous (or a number read as a dotted mask) has no
// prefix length; libxtables then leaves the mask all ones.
func hostMask(v *xtables.Value, f xtables.Family) netip.Addr {
	if v.Plen < 0 || v.Plen > f.Bits() || !v.Mask.IsValid() {
		return xtables.PrefixMask(f, f.Bits())
	}
	return v.Mask
}

// appendMaskNumeric is xtables_ipmask_to_numeric / xtables_ip6mask_to_numeric:
// nothing for a host mask, "/len" when contiguous, else "/mask".
func appendMaskNumeric(b []byte, m netip.Addr, f xtables.Family) []byte {
	n := xtables.MaskBits(m)
	switch {
	case n == f.Bits():
		return b
	case n < 0:
		b = append(b, '/')
		return append(b, m.String()...)
	}
	b = append(b, '/')
	return strconv.AppendInt(b, int64(n), 10)
}

// appendAnyName is xtables_ipaddr_to_anyname / xtables_ip6addr_to_anyname:
// a host name, then (IPv4) a network name, else the number.
func appendAnyName(b []byte, a netip.Addr, f xtables.Family, ctx *xtables.Context) []byte {
	if ctx.Names != nil {
		if n := ctx.Names.HostName(a); n != "" {
			return append(b, n...)
		}
		if f == xtables.IPv4 {
			if n := ctx.Names.NetworkName(a); n != "" {
				return append(b, n...)
			}
		}
	}
	return append(b, a.String()...)
}

// appendDumpAddr is conntrack_dump_addr (and ipvs_mt_dump_addr): " anywhere"
// for the zero address unless numeric, else address and mask.
func appendDumpAddr(b []byte, a, m netip.Addr, f xtables.Family, numeric bool, ctx *xtables.Context) []byte {
	if !numeric && xtables.IsZero(a) {
		return append(b, " anywhere"...)
	}
	b = append(b, ' ')
	if numeric {
		b = append(b, a.String()...)
	} else {
		b = appendAnyName(b, a, f, ctx)
	}
	return appendMaskNumeric(b, m, f)
}

// appendMarkMask is xtables_print_mark_mask.
func appendMarkMask(b []byte, mark, mask uint32) []byte {
	b = append(b, " 0x"...)
	b = strconv.AppendUint(b, uint64(mark), 16)
	if mask != 0xffffffff {
		b = append(b, "/0x"...)
		b = strconv.AppendUint(b, uint64(mask), 16)
	}
	return b
}

// appendSaveString is xtables.AppendSaveString (xtables_save_string).
func appendSaveString(b []byte, v string) []byte { return xtables.AppendSaveString(b, v) }

// appendHex08 is printf("0x%08x").
func appendHex08(b []byte, v uint32) []byte {
	s := strconv.FormatUint(uint64(v), 16)
	b = append(b, "0x"...)
	for i := len(s); i < 8; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// prefixMatch is strncasecmp(arg, name, len(arg)) == 0 for a non-empty arg:
// arg is a case-insensitive prefix of name.
func prefixMatch(arg, name string) bool {
	return len(arg) <= len(name) && strings.EqualFold(arg, name[:len(arg)])
}

// hookMask builds a Context.Hooks mask.
func hookMask(hooks ...int) uint {
	var m uint
	for _, h := range hooks {
		m |= 1 << uint(h)
	}
	return m
}
