package report

import "strings"

// appendSaveString is xtables_save_string: a space, then the value bare
// when it is made only of [A-Za-z0-9_-], else in double quotes with ", \
// and ' escaped by a backslash.
func appendSaveString(b []byte, v string) []byte {
	b = append(b, ' ')
	if v != "" && strings.Trim(v, "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"', '\\', '\'':
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}

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
