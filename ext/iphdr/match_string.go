package iphdr

import (
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// string match, revision 1 (libxt_string.c, xt_string.h).

const (
	strOptFrom uint = iota
	strOptTo
	strOptAlgo
	strOptICase
	strOptString
	strOptHex
)

const (
	strMaxPattern = 128 // XT_STRING_MAX_PATTERN_SIZE
	strMaxAlgo    = 16  // XT_STRING_MAX_ALGO_NAME_SIZE
	strFlagInvert = 0x01
	strFlagICase  = 0x02
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:     "string",
		Revision: 1,
		Family:   xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "from", ID: strOptFrom, Type: xtables.TypeUint16},
			{Name: "to", ID: strOptTo, Type: xtables.TypeUint16},
			{Name: "algo", ID: strOptAlgo, Type: xtables.TypeString, Flags: xtables.Mand},
			{Name: "string", ID: strOptString, Type: xtables.TypeString, Flags: xtables.Invert, Excl: 1 << strOptHex},
			{Name: "hex-string", ID: strOptHex, Type: xtables.TypeString, Flags: xtables.Invert, Excl: 1 << strOptString},
			{Name: "icase", ID: strOptICase, Type: xtables.TypeNone},
		},
		New: func() xtables.MatchInfo { return &String{To: 0xffff} },
		Help: "string match options:\n" +
			"--from                       Offset to start searching from\n" +
			"--to                         Offset to stop searching\n" +
			"--algo                       Algorithm\n" +
			"--icase                      Ignore case (default: 0)\n" +
			"[!] --string string          Match a string in a packet\n" +
			"[!] --hex-string string      Match a hex string in a packet\n",
	})
}

// String is struct xt_string_info (revision 1: u.v1.flags).
type String struct {
	From, To uint16
	Algo     string
	Pattern  []byte
	Flags    uint8
}

// parseHexString is parse_hex_string, character by character: "|..|"
// blocks of hex pairs (a space may follow each pair), "\" quotes the next
// character outside them, and the character after a closing "|" is always
// taken literally.
func parseHexString(s string) ([]byte, error) {
	slen := len(s)
	if slen == 0 {
		return nil, xtables.Errorf("STRING must contain at least one char")
	}
	at := func(i int) byte { // s[i] with the C string's NUL terminator
		if i < slen {
			return s[i]
		}
		return 0
	}
	var pat []byte
	hex, literal := false, false
	i := 0
	for i < slen {
		if len(pat) >= strMaxPattern {
			return nil, xtables.Errorf("STRING too long \"%s\"", s)
		}
		if s[i] == '\\' && !hex {
			literal = true
		} else if s[i] == '\\' {
			return nil, xtables.Errorf("Cannot include literals in hex data")
		} else if s[i] == '|' {
			if hex {
				hex = false
			} else {
				hex = true
				for at(i+1) == ' ' {
					i++
				}
			}
			if i+1 >= slen {
				break
			}
			i++
		}
		switch {
		case literal:
			if i+1 >= slen {
				return nil, xtables.Errorf("Bad literal placement at end of string")
			}
			pat = append(pat, s[i+1])
			i += 2
			literal = false
		case hex:
			if i+1 >= slen {
				return nil, xtables.Errorf("Odd number of hex digits")
			}
			if i+2 >= slen {
				return nil, xtables.Errorf("Invalid hex block")
			}
			if !isXDigit(s[i]) {
				return nil, xtables.Errorf("Invalid hex char '%c'", s[i])
			}
			if !isXDigit(s[i+1]) {
				return nil, xtables.Errorf("Invalid hex char '%c'", s[i+1])
			}
			pat = append(pat, byte(digit(s[i])<<4|digit(s[i+1])))
			if s[i+2] == ' ' {
				i += 3
			} else {
				i += 2
			}
		default:
			pat = append(pat, s[i])
			i++
		}
	}
	return pat, nil
}

func isXDigit(c byte) bool { return digit(c) < 16 }

func (m *String) Parse(c *xtables.OptionCall) error {
	switch c.Opt.ID {
	case strOptFrom:
		m.From = uint16(c.Val.U64)
	case strOptTo:
		m.To = uint16(c.Val.U64)
	case strOptAlgo:
		a := c.Arg
		if len(a) >= strMaxAlgo { // XTOPT_PUT copies into char[16]
			a = a[:strMaxAlgo-1]
		}
		m.Algo = a
	case strOptString:
		if len(c.Arg) > strMaxPattern {
			return xtables.Errorf("STRING too long \"%s\"", c.Arg)
		}
		m.Pattern = []byte(c.Arg)
		if c.Invert {
			m.Flags |= strFlagInvert
		}
	case strOptHex:
		p, err := parseHexString(c.Arg)
		if err != nil {
			return err
		}
		m.Pattern = p
		if c.Invert {
			m.Flags |= strFlagInvert
		}
	case strOptICase:
		m.Flags |= strFlagICase
	}
	return nil
}

func (m *String) Final(f *xtables.FinalCall) error {
	if !f.Has(strOptString) && !f.Has(strOptHex) {
		return xtables.Errorf("STRING match: You must specify `--string' or `--hex-string'")
	}
	return nil
}

// Check is string_mt_check: textsearch_prepare refuses an empty pattern
// and an algorithm the kernel has no ts_<algo> module for.
func (m *String) Check(ctx *xtables.Context) error {
	if m.From > m.To || len(m.Pattern) == 0 {
		return xtables.ErrInvalidArgument
	}
	switch m.Algo {
	case "bm", "kmp":
		return nil
	case "fsm":
		if !fsmPatternOK(m.Pattern, m.Flags&strFlagICase != 0) {
			return xtables.ErrInvalidArgument
		}
		return nil
	}
	return errNoTextSearch
}

// fsmPatternOK is fsm_init's check (lib/ts_fsm.c): the pattern is an array
// of 4-byte struct ts_fsm_token {u16 type (host order); u8 recur; u8
// value}, type <= TS_FSM_TYPE_MAX (13), recur <= TS_FSM_RECUR_MAX (4), a
// HEAD_IGNORE only on a first token that is not the last; no icase.
func fsmPatternOK(p []byte, icase bool) bool {
	if len(p)%4 != 0 || len(p) == 0 || icase {
		return false
	}
	n := len(p) / 4
	for i := 0; i < n; i++ {
		typ := uint16(p[4*i]) | uint16(p[4*i+1])<<8
		recur := p[4*i+2]
		if typ > 13 || recur > 4 {
			return false
		}
		if recur == 4 && (i != 0 || i == n-1) {
			return false
		}
	}
	return true
}

// errNoTextSearch is ENOENT from textsearch_prepare (no ts_<algo> module).
var errNoTextSearch = &xtables.KernelError{Errno: "No such file or directory"}

// isHexString: the pattern is printed in hex when it has a character
// that is not printable (C locale) or ends in a backslash.
func isHexString(p []byte) bool {
	for _, c := range p {
		if c < 0x20 || c > 0x7e {
			return true
		}
	}
	return len(p) > 0 && p[len(p)-1] == '\\'
}

func (m *String) appendPattern(b []byte) []byte {
	if isHexString(m.Pattern) {
		b = append(b, " \"|"...)
		for _, c := range m.Pattern {
			if c < 0x10 {
				b = append(b, '0')
			}
			b = strconv.AppendUint(b, uint64(c), 16)
		}
		return append(b, "|\""...)
	}
	b = append(b, " \""...)
	for _, c := range m.Pattern {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func (m *String) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " STRING match "...)
	b = appendInvBang(b, m.Flags&strFlagInvert != 0)
	b = m.appendPattern(b)
	b = append(b, " ALGO name "...)
	b = append(b, m.Algo...)
	if m.From != 0 {
		b = append(b, " FROM "...)
		b = appendU(b, uint64(m.From))
	}
	if m.To != 0xffff {
		b = append(b, " TO "...)
		b = appendU(b, uint64(m.To))
	}
	if m.Flags&strFlagICase != 0 {
		b = append(b, " ICASE"...)
	}
	return b
}

func (m *String) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Flags&strFlagInvert != 0)
	if isHexString(m.Pattern) {
		b = append(b, " --hex-string"...)
	} else {
		b = append(b, " --string"...)
	}
	b = m.appendPattern(b)
	b = append(b, " --algo "...)
	b = append(b, m.Algo...)
	if m.From != 0 {
		b = append(b, " --from "...)
		b = appendU(b, uint64(m.From))
	}
	if m.To != 0xffff {
		b = append(b, " --to "...)
		b = appendU(b, uint64(m.To))
	}
	if m.Flags&strFlagICase != 0 {
		b = append(b, " --icase"...)
	}
	return b
}
