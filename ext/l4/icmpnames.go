package l4

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// ICMP type names and their parser (libxt_icmp.h), shared by icmp and
// icmp6.

type icmpName struct {
	name             string
	typ              uint8
	codeMin, codeMax uint8
}

var icmpCodes = []icmpName{
	{"any", 0xFF, 0, 0xFF},
	{"echo-reply", 0, 0, 0xFF},
	{"pong", 0, 0, 0xFF},
	{"destination-unreachable", 3, 0, 0xFF},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 0xFF},
	{"redirect", 5, 0, 0xFF},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 0xFF},
	{"ping", 8, 0, 0xFF},
	{"router-advertisement", 9, 0, 0xFF},
	{"router-solicitation", 10, 0, 0xFF},
	{"time-exceeded", 11, 0, 0xFF},
	{"ttl-exceeded", 11, 0, 0xFF},
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},
	{"parameter-problem", 12, 0, 0xFF},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 0xFF},
	{"timestamp-reply", 14, 0, 0xFF},
	{"address-mask-request", 17, 0, 0xFF},
	{"address-mask-reply", 18, 0, 0xFF},
}

var icmpv6Codes = []icmpName{
	{"destination-unreachable", 1, 0, 0xFF},
	{"no-route", 1, 0, 0},
	{"communication-prohibited", 1, 1, 1},
	{"beyond-scope", 1, 2, 2},
	{"address-unreachable", 1, 3, 3},
	{"port-unreachable", 1, 4, 4},
	{"failed-policy", 1, 5, 5},
	{"reject-route", 1, 6, 6},
	{"packet-too-big", 2, 0, 0xFF},
	{"time-exceeded", 3, 0, 0xFF},
	{"ttl-exceeded", 3, 0, 0xFF},
	{"ttl-zero-during-transit", 3, 0, 0},
	{"ttl-zero-during-reassembly", 3, 1, 1},
	{"parameter-problem", 4, 0, 0xFF},
	{"bad-header", 4, 0, 0},
	{"unknown-header-type", 4, 1, 1},
	{"unknown-option", 4, 2, 2},
	{"echo-request", 128, 0, 0xFF},
	{"ping", 128, 0, 0xFF},
	{"echo-reply", 129, 0, 0xFF},
	{"pong", 129, 0, 0xFF},
	{"router-solicitation", 133, 0, 0xFF},
	{"router-advertisement", 134, 0, 0xFF},
	{"neighbour-solicitation", 135, 0, 0xFF},
	{"neighbor-solicitation", 135, 0, 0xFF},
	{"neighbour-advertisement", 136, 0, 0xFF},
	{"neighbor-advertisement", 136, 0, 0xFF},
	{"redirect", 137, 0, 0xFF},
}

// icmpParseRange is parse_range: "n" or "n:m", each 0..255, returning what
// follows.
func icmpParseRange(s string) (r [2]uint8, rest string, ok bool) {
	v, rest, ok := xtables.StrToUint(s, 0, 255)
	if !ok {
		return r, rest, false
	}
	r[0], r[1] = uint8(v), uint8(v)
	if strings.HasPrefix(rest, ":") {
		v, rest, ok = xtables.StrToUint(rest[1:], 0, 255)
		if !ok {
			return r, rest, false
		}
		r[1] = uint8(v)
	}
	return r, rest, true
}

// parseICMPType is __ipt_parse_icmp: a (case-insensitive, abbreviable)
// type name, or type[/code[:code]] in numbers.
func parseICMPType(codes []icmpName, what, s string) (typ uint8, code [2]uint8, err error) {
	match := -1
	for i := range codes {
		if len(s) > len(codes[i].name) || !strings.EqualFold(codes[i].name[:len(s)], s) {
			continue
		}
		if match >= 0 {
			return 0, code, xtables.Errorf("Ambiguous %s type `%s': `%s' or `%s'?", what, s, codes[match].name, codes[i].name)
		}
		match = i
	}
	if match >= 0 {
		c := codes[match]
		return c.typ, [2]uint8{c.codeMin, c.codeMax}, nil
	}
	types, rest, ok := icmpParseRange(s)
	if !ok {
		return 0, code, xtables.Errorf("Unknown %s type `%s'", what, s)
	}
	code = [2]uint8{0, 0xFF}
	switch {
	case rest == "":
	case rest[0] == '/':
		code, rest, ok = icmpParseRange(rest[1:])
		if !ok {
			return 0, code, xtables.Errorf("Unknown %s code `%s'", what, s)
		}
		if rest != "" {
			return 0, code, xtables.Errorf("unknown character %c", rest[0])
		}
	default:
		return 0, code, xtables.Errorf("unknown character %c", rest[0])
	}
	if types[0] != types[1] {
		return 0, code, xtables.Errorf("%s type range not supported", what)
	}
	return types[0], code, nil
}

// appendICMPType is print_icmptype / print_icmpv6type.
func appendICMPType(b []byte, codes []icmpName, typ uint8, code [2]uint8, inv, numeric bool) []byte {
	if !numeric {
		for _, c := range codes {
			if c.typ == typ && c.codeMin == code[0] && c.codeMax == code[1] {
				b = append(b, ' ')
				if inv {
					b = append(b, '!')
				}
				return append(b, c.name...)
			}
		}
	}
	if inv {
		b = append(b, " !"...)
	}
	b = append(b, "type "...) // no space before it, as in C
	b = xtables.AppendUint(b, uint64(typ))
	if code[0] == code[1] {
		b = append(b, " code "...)
		b = xtables.AppendUint(b, uint64(code[0]))
	} else if code[0] != 0 || code[1] != 0xFF {
		b = append(b, " codes "...)
		b = xtables.AppendUint(b, uint64(code[0]))
		b = append(b, '-')
		b = xtables.AppendUint(b, uint64(code[1]))
	}
	return b
}

// appendICMPState is the lossless form of a type and code range for the
// state file: "type/lo:hi", which parseICMPType reads back.
func appendICMPState(b []byte, opt string, typ uint8, code [2]uint8, inv bool) []byte {
	b = xtables.AppendInv(b, inv)
	b = append(b, ' ')
	b = append(b, opt...)
	b = append(b, ' ')
	b = xtables.AppendUint(b, uint64(typ))
	b = append(b, '/')
	b = xtables.AppendUint(b, uint64(code[0]))
	b = append(b, ':')
	return xtables.AppendUint(b, uint64(code[1]))
}

// icmpTypesHelp is xt_print_icmp_types.
func icmpTypesHelp(codes []icmpName) string {
	var b strings.Builder
	for i, c := range codes {
		if i > 0 && c.typ == codes[i-1].typ {
			if c.codeMin == codes[i-1].codeMin && c.codeMax == codes[i-1].codeMax {
				b.WriteString(" (" + c.name + ")")
			} else {
				b.WriteString("\n   " + c.name)
			}
		} else {
			b.WriteString("\n" + c.name)
		}
	}
	b.WriteString("\n")
	return b.String()
}
