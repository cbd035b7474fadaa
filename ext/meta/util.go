package meta

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// appendSaveString is xtables.AppendSaveString (xtables_save_string).
func appendSaveString(b []byte, v string) []byte { return xtables.AppendSaveString(b, v) }

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
