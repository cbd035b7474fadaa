package iphdr

import (
	"strconv"

	"github.com/iptwin/iptwin/xtables"
)

// u32 match (libxt_u32.c, xt_u32.h): the test expression parser and its
// hexadecimal print form.

const u32MaxSize = 10 // XT_U32_MAXSIZE

// Operators of struct xt_u32_location_element.
const (
	u32And = iota
	u32LeftSh
	u32RightSh
	u32At
)

func init() {
	xtables.RegisterMatch(&xtables.MatchType{
		Name:   "u32",
		Family: xtables.AnyFamily,
		Options: []xtables.Option{
			{Name: "u32", ID: 0, Type: xtables.TypeString, Flags: xtables.Mand | xtables.Invert},
		},
		New: func() xtables.MatchInfo { return &U32{} },
		Help: "u32 match options:\n" +
			"[!] --u32 tests\n" +
			"\t\ttests := location \"=\" value | tests \"&&\" location \"=\" value\n" +
			"\t\tvalue := range | value \",\" range\n" +
			"\t\trange := number | number \":\" number\n" +
			"\t\tlocation := number | location operator number\n" +
			"\t\toperator := \"&\" | \"<<\" | \">>\" | \"@\"\n",
	})
}

// U32Location is struct xt_u32_location_element.
type U32Location struct {
	Number uint32
	NextOp uint8
}

// U32Value is struct xt_u32_value_element.
type U32Value struct{ Min, Max uint32 }

// U32Test is struct xt_u32_test.
type U32Test struct {
	Location []U32Location
	Value    []U32Value
}

// U32 is struct xt_u32.
type U32 struct {
	Tests  []U32Test
	Invert uint8
}

func u32Number(s string, pos int) (uint32, string, error) {
	v, rest, ok := xtables.StrToUint(s, 0, 0xffffffff)
	if !ok || rest == s {
		return 0, s, xtables.Errorf("u32: at char %d: not a number or out of range", pos)
	}
	return uint32(v), rest, nil
}

// parseU32 is u32_parse: state 0 reads a location (numbers joined by
// operators) up to "=", state 1 the values up to "&&" or the end.
func parseU32(arg string) ([]U32Test, error) {
	var tests []U32Test
	ct := U32Test{}
	i := 0
	state := 0
	at := func() int { return i }
	for {
		for i < len(arg) && isCSpace(arg[i]) {
			i++
		}
		if i >= len(arg) {
			if state == 0 {
				return nil, xtables.Errorf("u32: abrupt end of input after location specifier")
			}
			if len(ct.Value) == 0 {
				return nil, xtables.Errorf("u32: test ended with no value specified")
			}
			tests = append(tests, ct)
			if len(tests) > u32MaxSize {
				return nil, xtables.Errorf("u32: at char %d: too many \"&&\"s", at())
			}
			return tests, nil
		}
		if state == 0 {
			if arg[i] == '=' {
				if len(ct.Location) == 0 {
					return nil, xtables.Errorf("u32: at char %d: location spec missing", at())
				}
				i++
				state = 1
				continue
			}
			var op uint8
			if len(ct.Location) != 0 {
				switch arg[i] {
				case '&':
					op = u32And
				case '<', '>':
					c := arg[i]
					i++
					if i >= len(arg) || arg[i] != c {
						return nil, xtables.Errorf("u32: at char %d: a second '%c' was expected", at(), c)
					}
					op = u32LeftSh
					if c == '>' {
						op = u32RightSh
					}
				case '@':
					op = u32At
				default:
					return nil, xtables.Errorf("u32: at char %d: operator expected", at())
				}
				i++
			}
			n, rest, err := u32Number(arg[i:], i)
			if err != nil {
				return nil, err
			}
			i = len(arg) - len(rest)
			ct.Location = append(ct.Location, U32Location{Number: n, NextOp: op})
			if len(ct.Location) > u32MaxSize {
				return nil, xtables.Errorf("u32: at char %d: too many operators", at())
			}
			continue
		}
		if arg[i] == '&' {
			i++
			if i >= len(arg) || arg[i] != '&' {
				return nil, xtables.Errorf("u32: at char %d: a second '&' was expected", at())
			}
			if len(ct.Value) == 0 {
				return nil, xtables.Errorf("u32: at char %d: value spec missing", at())
			}
			tests = append(tests, ct)
			ct = U32Test{}
			if len(tests) > u32MaxSize {
				return nil, xtables.Errorf("u32: at char %d: too many \"&&\"s", at())
			}
			i++
			state = 0
			continue
		}
		if len(ct.Value) > 0 {
			if arg[i] != ',' {
				return nil, xtables.Errorf("u32: at char %d: expected \",\" or \"&&\"", at())
			}
			i++
		}
		lo, rest, err := u32Number(arg[i:], i)
		if err != nil {
			return nil, err
		}
		i = len(arg) - len(rest)
		for i < len(arg) && isCSpace(arg[i]) {
			i++
		}
		hi := lo
		if i < len(arg) && arg[i] == ':' {
			i++
			if hi, rest, err = u32Number(arg[i:], i); err != nil {
				return nil, err
			}
			i = len(arg) - len(rest)
		}
		ct.Value = append(ct.Value, U32Value{lo, hi})
		if len(ct.Value) > u32MaxSize {
			return nil, xtables.Errorf("u32: at char %d: too many \",\"s", at())
		}
	}
}

func (m *U32) Parse(c *xtables.OptionCall) error {
	if c.Invert {
		m.Invert = 1
	}
	t, err := parseU32(c.Arg)
	if err != nil {
		return err
	}
	m.Tests = t
	return nil
}

func appendHexU32(b []byte, v uint32) []byte {
	b = append(b, "0x"...)
	return strconv.AppendUint(b, uint64(v), 16)
}

var u32Ops = [4]string{"&", "<<", ">>", "@"}

// appendU32 is u32_dump.
func (m *U32) appendU32(b []byte) []byte {
	b = append(b, " \""...)
	for ti, t := range m.Tests {
		if ti > 0 {
			b = append(b, "&&"...)
		}
		for li, l := range t.Location {
			if li > 0 {
				b = append(b, u32Ops[l.NextOp&3]...)
			}
			b = appendHexU32(b, l.Number)
		}
		b = append(b, '=')
		for vi, v := range t.Value {
			if vi > 0 {
				b = append(b, ',')
			}
			b = appendHexU32(b, v.Min)
			if v.Min != v.Max {
				b = append(b, ':')
				b = appendHexU32(b, v.Max)
			}
		}
	}
	return append(b, '"')
}

func (m *U32) Print(b []byte, ctx *xtables.Context) []byte {
	b = append(b, " u32"...)
	b = xtables.AppendInv(b, m.Invert != 0)
	return m.appendU32(b)
}

func (m *U32) Save(b []byte, ctx *xtables.Context) []byte {
	b = xtables.AppendInv(b, m.Invert != 0)
	b = append(b, " --u32"...)
	return m.appendU32(b)
}

// MatchPacket is u32_mt (xt_u32.c): every test's value must be in one of
// its ranges; a read past the packet fails the whole match (before the
// inversion).
func (m *U32) MatchPacket(st *xtables.PacketState) bool {
	return u32Match(m.Tests, pktData(st)) != (m.Invert != 0)
}

func u32Match(tests []U32Test, d []byte) bool {
	n := uint32(len(d))
	for ti := range tests {
		t := &tests[ti]
		if len(t.Location) == 0 {
			return false
		}
		var at uint32
		pos := t.Location[0].Number
		if n < 4 || pos > n-4 {
			return false
		}
		val := be32(d[pos:])
		for _, l := range t.Location[1:] {
			switch l.NextOp {
			case u32And:
				val &= l.Number
			case u32LeftSh:
				val <<= l.Number & 31 // the x86 shift the kernel compiles to
			case u32RightSh:
				val >>= l.Number & 31
			case u32At:
				if at+val < at {
					return false
				}
				at += val
				pos = l.Number
				if at+4 < at || n < at+4 || pos > n-at-4 {
					return false
				}
				val = be32(d[at+pos:])
			}
		}
		ok := false
		for _, v := range t.Value {
			if v.Min <= val && val <= v.Max {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
