package report

import (
	"strings"

	"github.com/iptwin/iptwin/xtables"
)

// appendSaveString is xtables.AppendSaveString (xtables_save_string).
func appendSaveString(b []byte, v string) []byte { return xtables.AppendSaveString(b, v) }

// cString is what a C string kept in a fixed char array of size n holds:
// at most n-1 bytes, cut at the first NUL.
func cString(s string, n int) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > n-1 {
		s = s[:n-1]
	}
	return s
}
