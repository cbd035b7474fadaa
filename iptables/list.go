package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"github.com/iptwin/iptwin/xtables"
)

// netipAddr keeps signatures short.
type netipAddr = netip.Addr

// Format bits of -L (FMT_* of xshared.h).
const (
	FmtNumeric      = 0x0001
	FmtNoCounts     = 0x0002
	FmtKiloMegaGiga = 0x0004
	FmtOptions      = 0x0008
	FmtNoTable      = 0x0010
	FmtNoTarget     = 0x0020
	FmtVia          = 0x0040
	FmtNonewline    = 0x0080
	FmtLineNumbers  = 0x0100
)

// ListFormat computes the -L format from the options (list_entries).
func ListFormat(verbose, numeric, expanded, linenumbers bool) int {
	f := FmtOptions
	if !verbose {
		f |= FmtNoCounts
	} else {
		f |= FmtVia
	}
	if numeric {
		f |= FmtNumeric
	}
	if !expanded {
		f |= FmtKiloMegaGiga
	}
	if linenumbers {
		f |= FmtLineNumbers
	}
	return f
}

// appendNum is xtables_print_num (table form).
func appendNum(b []byte, n uint64, format int) []byte {
	if format&FmtKiloMegaGiga == 0 {
		return append(appendUintRight(b, n, 8), ' ')
	}
	if n <= 99999 {
		return append(appendUintRight(b, n, 5), ' ')
	}
	for _, unit := range []byte{'K', 'M', 'G'} {
		n = (n + 500) / 1000
		if n <= 9999 {
			return append(appendUintRight(b, n, 4), unit, ' ')
		}
	}
	n = (n + 500) / 1000
	return append(appendUintRight(b, n, 4), 'T', ' ')
}

// appendUintRight appends n right-aligned in width ("%*d").
func appendUintRight(b []byte, n uint64, width int) []byte {
	var d [20]byte
	s := strconv.AppendUint(d[:0], n, 10)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// appendNumNoTable is xtables_print_num with FMT_NOTABLE.
func appendNumNoTable(b []byte, n uint64, format int) []byte {
	if format&FmtKiloMegaGiga == 0 || n <= 99999 {
		b = strconv.AppendUint(b, n, 10)
		return append(b, ' ')
	}
	for _, unit := range []string{"K", "M", "G"} {
		n = (n + 500) / 1000
		if n <= 9999 {
			return fmt.Appendf(b, "%d%s ", n, unit)
		}
	}
	n = (n + 500) / 1000
	return fmt.Appendf(b, "%dT ", n)
}

// appendHeader is print_header.
func appendHeader(b []byte, format int, c *xtables.Chain, refs int) []byte {
	b = append(b, "Chain "...)
	b = append(b, c.Name...)
	if c.Builtin {
		b = append(b, " (policy "...)
		b = append(b, c.Policy...)
		if format&FmtNoCounts == 0 {
			b = append(b, ' ')
			b = appendNumNoTable(b, c.Counters.Packets, format)
			b = append(b, "packets, "...)
			b = appendNumNoTable(b, c.Counters.Bytes, format)
			b = append(b, "bytes"...)
		}
		b = append(b, ")\n"...)
	} else {
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(refs), 10)
		b = append(b, " references)\n"...)
	}
	if format&FmtLineNumbers != 0 {
		b = fmt.Appendf(b, "%-4s ", "num")
	}
	if format&FmtNoCounts == 0 {
		if format&FmtKiloMegaGiga != 0 {
			b = fmt.Appendf(b, "%5s %5s ", "pkts", "bytes")
		} else {
			b = fmt.Appendf(b, "%8s %10s ", "pkts", "bytes")
		}
	}
	if format&FmtNoTarget == 0 {
		b = fmt.Appendf(b, "%-9s ", "target")
	}
	b = append(b, " prot "...)
	if format&FmtOptions != 0 {
		b = append(b, "opt"...)
	}
	if format&FmtVia != 0 {
		b = fmt.Appendf(b, " %-6s %-6s ", "in", "out")
	}
	b = fmt.Appendf(b, " %-19s  %-19s \n", "source", "destination")
	return b
}

// appendAddrString is ipv4_addr_to_string / ipv6_addr_to_string.
func appendAddrString(b []byte, a, m netip.Addr, format int, ctx *xtables.Context) []byte {
	numeric := format&FmtNumeric != 0
	if !a.IsValid() {
		a = xtables.ZeroAddr(ctx.Family)
	}
	if ctx.Family == xtables.IPv4 {
		if xtables.IsZero(m) && !numeric {
			return append(b, "anywhere"...)
		}
	} else if a.IsUnspecified() && !numeric {
		return append(b, "anywhere"...)
	}
	name := ""
	if !numeric && ctx.Names != nil {
		name = ctx.Names.HostName(a)
		if name == "" && ctx.Family == xtables.IPv4 {
			name = ctx.Names.NetworkName(a)
		}
	}
	if name != "" {
		b = append(b, name...)
	} else {
		b = xtables.AppendAddr(b, a)
	}
	bits := xtables.MaskBits(m)
	switch {
	case bits == ctx.Family.Bits():
	case bits >= 0:
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(bits), 10)
	default:
		b = append(b, '/')
		b = xtables.AppendAddr(b, m)
	}
	return b
}

// padRunes pads b, which ends with s, to width runes of s (as "%-*s").
func padRunes(b []byte, s string, width int) []byte {
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

func padRight(b []byte, start, width int) []byte {
	for len(b)-start < width {
		b = append(b, ' ')
	}
	return b
}

// FmtPrintRule is the format of the rule iptables -v prints when it adds,
// checks or deletes one (FMT_PRINT_RULE).
const FmtPrintRule = FmtNoCounts | FmtOptions | FmtVia | FmtNumeric | FmtNoTable

// AppendRuleLine appends one rule of -L (print_firewall of nft-ipv4/6), or
// with FmtNoTable the untabulated form of FmtPrintRule.
func AppendRuleLine(b []byte, num int, r *xtables.Rule, format int, ctx *xtables.Context) []byte {
	pctx := *ctx
	return appendRuleLine(b, num, r, format, &pctx)
}

// appendRuleLine is AppendRuleLine with a context it may change (its
// Header and Numeric), as for appendRuleSpec.
func appendRuleLine(b []byte, num int, r *xtables.Rule, format int, ctx *xtables.Context) []byte {
	pctx := ctx
	pctx.Header = &r.Header
	pctx.Numeric = format&FmtNumeric != 0
	notab := format&FmtNoTable != 0
	if format&FmtLineNumbers != 0 {
		at := len(b)
		b = strconv.AppendInt(b, int64(num), 10)
		if !notab {
			b = padRight(b, at, 4)
		}
		b = append(b, ' ')
	}
	if format&FmtNoCounts == 0 {
		b = appendNum(b, r.Counters.Packets, format)
		b = appendNum(b, r.Counters.Bytes, format)
	}
	if format&FmtNoTarget == 0 {
		name := ""
		if r.Target != nil {
			name = targetName(r.Target)
		}
		b = append(b, name...)
		if !notab {
			b = padRunes(b, name, 9)
		}
		b = append(b, ' ')
	}
	if r.Inv&xtables.InvProto != 0 {
		b = append(b, '!')
	} else {
		b = append(b, ' ')
	}
	pname := xtables.ProtoToName(r.Proto, format&FmtNumeric != 0, ctx.Names)
	switch {
	case format&(FmtNumeric|FmtNoTable) == FmtNumeric || pname == "":
		at := len(b)
		b = strconv.AppendUint(b, uint64(r.Proto), 10)
		if !notab {
			b = padRight(b, at, 4)
		}
		b = append(b, ' ')
	case notab:
		b = append(b, pname...)
		b = append(b, ' ')
	default:
		b = append(b, pname...)
		b = padRunes(b, pname, 4)
		b = append(b, ' ')
	}
	if format&FmtOptions != 0 {
		if notab {
			b = append(b, "opt "...)
		}
		if ctx.Family == xtables.IPv6 {
			b = append(b, "--"...)
		} else {
			if r.Inv&xtables.InvFrag != 0 {
				b = append(b, '!')
			} else {
				b = append(b, '-')
			}
			if r.Flags&xtables.FlagFrag != 0 {
				b = append(b, 'f')
			} else {
				b = append(b, '-')
			}
		}
		b = append(b, ' ')
	}
	if format&FmtVia != 0 {
		any := "any"
		if format&FmtNumeric != 0 {
			any = "*"
		}
		for i, ifc := range []xtables.Iface{r.In, r.Out} {
			s := ifc.String()
			if s == "" {
				s = any
			}
			if i == 0 && r.Inv&xtables.InvViaIn != 0 || i == 1 && r.Inv&xtables.InvViaOut != 0 {
				s = "!" + s
			}
			switch {
			case notab && i == 0:
				b = append(b, "in "+s+" "...)
			case notab:
				b = append(b, "out "+s+" "...)
			default:
				if i == 0 {
					b = append(b, ' ')
				}
				start := len(b)
				b = append(b, s...)
				b = padRight(b, start, 6)
				b = append(b, ' ')
			}
		}
	}
	for i, a := range [][2]netip.Addr{{r.Src, r.SrcMask}, {r.Dst, r.DstMask}} {
		inv := r.Inv&xtables.InvSrcIP != 0
		if i == 1 {
			inv = r.Inv&xtables.InvDstIP != 0
		}
		if inv {
			b = append(b, '!')
		} else {
			b = append(b, ' ')
		}
		switch {
		case notab && i == 0:
			b = appendAddrString(b, a[0], a[1], format, ctx)
			b = append(b, ' ')
		case notab:
			b = append(b, "-> "...)
			b = appendAddrString(b, a[0], a[1], format, ctx)
		default:
			start := len(b)
			b = appendAddrString(b, a[0], a[1], format, ctx)
			b = padRight(b, start, 19)
			b = append(b, ' ')
		}
	}
	if notab {
		b = append(b, "  "...)
	}
	if r.Goto() {
		b = append(b, "[goto] "...)
	}
	for _, m := range r.Matches {
		b = m.Info.Print(b, pctx)
	}
	if r.Target != nil && r.Target.Type != nil {
		b = r.Target.Info.Print(b, pctx)
	}
	if format&FmtNonewline != 0 {
		return b
	}
	return append(b, '\n')
}

// AppendList appends `iptables -L` of a table (or one chain, or one rule).
func AppendList(b []byte, t *xtables.Table, chain string, rulenum int, format int, ctx *xtables.Context) []byte {
	found := false
	refs := t.ReferenceCounts()
	// One context for every rule: a copy per chain or rule would escape
	// to the heap (see appendRuleLine).
	cctx := *ctx
	one := func(c *xtables.Chain) {
		if rulenum == 0 {
			if found {
				b = append(b, '\n')
			}
			found = true
			b = appendHeader(b, format, c, refs[c.Name])
		}
		for i, r := range c.Rules {
			if rulenum != 0 && i+1 != rulenum {
				continue
			}
			cctx.Table, cctx.Chain = t.Name, c.Name
			b = appendRuleLine(b, i+1, r, format, &cctx)
		}
	}
	if chain != "" {
		if c := t.Chain(chain); c != nil {
			one(c)
		}
		return b
	}
	for _, c := range t.Sorted() {
		one(c)
	}
	return b
}
