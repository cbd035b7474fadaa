package meta

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// appendSaveString is xtables_save_string: the value bare when it is made
// of [A-Za-z0-9_-] only, else double-quoted with " \ ' escaped.
func appendSaveString(b []byte, s string) []byte {
	b = append(b, ' ')
	plain := s != ""
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	if plain {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("\"\\'", s[i]) >= 0 {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendMAC is xtables_print_mac: lower-case hex bytes joined by ':'.
func appendMAC(b []byte, m [6]byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return b
}

// cstr cuts a string at its first NUL, as C string handling does.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// checkHooks is the x_tables core's hook check of a match or target that
// declares the hooks it serves: a rule in a chain reachable from another
// hook is refused with EINVAL.
func checkHooks(ctx *xtables.Context, allowed uint) error {
	if ctx.Hooks&^allowed != 0 {
		return xtables.ErrInvalidArgument
	}
	return nil
}

// checkTables is the x_tables core's table check of an extension bound to
// some tables.
func checkTables(ctx *xtables.Context, tables ...string) error {
	for _, t := range tables {
		if ctx.Table == t {
			return nil
		}
	}
	return xtables.ErrInvalidArgument
}
