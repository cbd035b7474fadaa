package pktspec

// ICMP and ICMPv6 type names as iptables names them (libxt_icmp.h, also
// in ext/l4/icmpnames.go). A name with a code sets both; a type-only name
// (code -1) sets code 0. The first name of a (type, code) is the one
// String prints; aliases follow it.

type icmpName struct {
	name string
	typ  uint8
	code int16 // -1: the name is the type's, any code
}

var icmpNames = []icmpName{
	{"echo-reply", 0, -1},
	{"pong", 0, -1},
	{"destination-unreachable", 3, -1},
	{"network-unreachable", 3, 0},
	{"host-unreachable", 3, 1},
	{"protocol-unreachable", 3, 2},
	{"port-unreachable", 3, 3},
	{"fragmentation-needed", 3, 4},
	{"source-route-failed", 3, 5},
	{"network-unknown", 3, 6},
	{"host-unknown", 3, 7},
	{"network-prohibited", 3, 9},
	{"host-prohibited", 3, 10},
	{"TOS-network-unreachable", 3, 11},
	{"TOS-host-unreachable", 3, 12},
	{"communication-prohibited", 3, 13},
	{"host-precedence-violation", 3, 14},
	{"precedence-cutoff", 3, 15},
	{"source-quench", 4, -1},
	{"redirect", 5, -1},
	{"network-redirect", 5, 0},
	{"host-redirect", 5, 1},
	{"TOS-network-redirect", 5, 2},
	{"TOS-host-redirect", 5, 3},
	{"echo-request", 8, -1},
	{"ping", 8, -1},
	{"router-advertisement", 9, -1},
	{"router-solicitation", 10, -1},
	{"time-exceeded", 11, -1},
	{"ttl-exceeded", 11, -1},
	{"ttl-zero-during-transit", 11, 0},
	{"ttl-zero-during-reassembly", 11, 1},
	{"parameter-problem", 12, -1},
	{"ip-header-bad", 12, 0},
	{"required-option-missing", 12, 1},
	{"timestamp-request", 13, -1},
	{"timestamp-reply", 14, -1},
	{"address-mask-request", 17, -1},
	{"address-mask-reply", 18, -1},
}

var icmpv6Names = []icmpName{
	{"destination-unreachable", 1, -1},
	{"no-route", 1, 0},
	{"communication-prohibited", 1, 1},
	{"beyond-scope", 1, 2},
	{"address-unreachable", 1, 3},
	{"port-unreachable", 1, 4},
	{"failed-policy", 1, 5},
	{"reject-route", 1, 6},
	{"packet-too-big", 2, -1},
	{"time-exceeded", 3, -1},
	{"ttl-exceeded", 3, -1},
	{"ttl-zero-during-transit", 3, 0},
	{"ttl-zero-during-reassembly", 3, 1},
	{"parameter-problem", 4, -1},
	{"bad-header", 4, 0},
	{"unknown-header-type", 4, 1},
	{"unknown-option", 4, 2},
	{"echo-request", 128, -1},
	{"ping", 128, -1},
	{"echo-reply", 129, -1},
	{"pong", 129, -1},
	{"router-solicitation", 133, -1},
	{"router-advertisement", 134, -1},
	{"neighbour-solicitation", 135, -1},
	{"neighbor-solicitation", 135, -1},
	{"neighbour-advertisement", 136, -1},
	{"neighbor-advertisement", 136, -1},
	{"redirect", 137, -1},
}

func icmpTable(v6 bool) []icmpName {
	if v6 {
		return icmpv6Names
	}
	return icmpNames
}

// lookupICMPName finds a type name (exact, case-sensitive as iptables
// prints them; TOS-* names also in lower case).
func lookupICMPName(v6 bool, s string) (typ uint8, code int16, ok bool) {
	for _, n := range icmpTable(v6) {
		if n.name == s || (n.name[0] == 'T' && equalFoldASCII(n.name, s)) {
			return n.typ, n.code, true
		}
	}
	return 0, 0, false
}

// icmpNameOf returns the name for a type and code: a code-specific name
// when there is one (exact = true), else the type's name.
func icmpNameOf(v6 bool, typ, code uint8) (name string, exact bool) {
	for _, n := range icmpTable(v6) {
		if n.typ == typ && n.code == int16(code) {
			return n.name, true
		}
	}
	for _, n := range icmpTable(v6) {
		if n.typ == typ && n.code < 0 {
			return n.name, false
		}
	}
	return "", false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
