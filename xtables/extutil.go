package xtables

import (
	"strconv"
	"strings"
)

// ParsePort is xtables_parse_port: a number 0..65535 or a service name of
// the protocol.
func ParsePort(s, proto string, names Resolver) (uint16, error) {
	if v, ok := StrToUintAll(s, 0, 65535); ok {
		return uint16(v), nil
	}
	if names != nil {
		if p := names.ServicePort(s, proto); p >= 0 {
			return uint16(p), nil
		}
	}
	return 0, Errorf("invalid port/service `%s' specified", s)
}

// ParsePortRange reads "p", "p:", ":p" or "p:q" (parse_tcp_ports and its
// udp twin): a missing low end is 0, a missing high end 65535.
func ParsePortRange(s, proto string, names Resolver) ([2]uint16, error) {
	cp := strings.IndexByte(s, ':')
	if cp < 0 {
		p, err := ParsePort(s, proto, names)
		return [2]uint16{p, p}, err
	}
	r := [2]uint16{0, 0xffff}
	var err error
	if lo := s[:cp]; lo != "" {
		if r[0], err = ParsePort(lo, proto, names); err != nil {
			return r, err
		}
	}
	if hi := s[cp+1:]; hi != "" {
		if r[1], err = ParsePort(hi, proto, names); err != nil {
			return r, err
		}
	}
	if r[0] > r[1] {
		return r, Errorf("invalid portrange (min > max)")
	}
	return r, nil
}

// AppendPort prints a port as its service name unless numeric or unknown.
func AppendPort(b []byte, port uint16, proto string, ctx *Context) []byte {
	if !ctx.Numeric && ctx.Names != nil {
		if s := ctx.Names.ServiceName(port, proto); s != "" {
			return append(b, s...)
		}
	}
	return strconv.AppendUint(b, uint64(port), 10)
}

// AppendInv appends " !" when inv is set (the save form of an inverted
// option).
func AppendInv(b []byte, inv bool) []byte {
	if inv {
		return append(b, " !"...)
	}
	return b
}

// AppendUint appends a decimal number.
func AppendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// AppendHex appends 0x%x.
func AppendHex(b []byte, v uint64) []byte {
	b = append(b, "0x"...)
	return strconv.AppendUint(b, v, 16)
}

// AppendSaveString is xtables_save_string: a space, then the value bare
// when it is made of [_-0-9a-zA-Z] only, else double-quoted with " \ '
// escaped.
func AppendSaveString(b []byte, v string) []byte {
	b = append(b, ' ')
	plain := v != ""
	for i := 0; i < len(v) && plain; i++ {
		c := v[i]
		plain = c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	if plain {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == '\'' {
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}
