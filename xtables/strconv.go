package xtables

import "math"

// StrToUint parses an unsigned number the way xtables_strtoul does:
// strtoumax with base 0 (0x… hex, 0… octal, else decimal), leading blanks
// and '+' allowed, a leading '-' refused, and the value within [min, max]
// (max 0 meaning no bound). It returns the value and the unparsed rest;
// ok is false when no digits were read or the value is out of range.
func StrToUint(s string, min, max uint64) (v uint64, rest string, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '-' {
		return 0, s, false
	}
	if i < len(s) && s[i] == '+' {
		i++
	}
	base := uint64(10)
	start := i
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && isHex(s[i+2]) {
		base = 16
		i += 2
		start = i
	} else if i < len(s) && s[i] == '0' {
		base = 8
	}
	overflow := false
	for i < len(s) {
		d, good := digitVal(s[i])
		if !good || d >= base {
			break
		}
		if v > (math.MaxUint64-d)/base {
			overflow = true
		}
		v = v*base + d
		i++
	}
	if i == start {
		return 0, s, false
	}
	if overflow || v < min || (max != 0 && v > max) {
		return 0, s[i:], false
	}
	return v, s[i:], true
}

// StrToUintAll is StrToUint that also requires the whole string to be used
// (xtables_strtoul with end == NULL).
func StrToUintAll(s string, min, max uint64) (uint64, bool) {
	v, rest, ok := StrToUint(s, min, max)
	return v, ok && rest == ""
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	_, ok := digitVal(c)
	d, _ := digitVal(c)
	return ok && d < 16
}

func digitVal(c byte) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case c >= 'a' && c <= 'z':
		return uint64(c-'a') + 10, true
	case c >= 'A' && c <= 'Z':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// Strtoul10 is glibc's strtoul(s, &end, 10) on a 64-bit machine: leading
// blanks, an optional sign (a '-' negates modulo 2^64), decimal digits;
// overflow gives the maximum. n is the number of bytes read, 0 when there
// are no digits. sscanf's %u and %lu are this followed by the C cast.
func Strtoul10(s string) (v uint64, n int) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	over := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
		} else {
			v = v*10 + d
		}
		i++
	}
	switch {
	case i == start:
		return 0, 0
	case over:
		return math.MaxUint64, i
	case neg:
		return -v, i
	}
	return v, i
}
