package iphdr

import (
	"math/rand"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

func TestIP6StringIsGlibcInetNtop(t *testing.T) {
	for in, want := range map[string]string{
		"::":              "::",
		"::1":             "::1",
		"::1:2":           "::0.1.0.2", // 96 zero bits: dotted tail
		"::1.2.3.4":       "::1.2.3.4",
		"::ffff:1.2.3.4":  "::ffff:1.2.3.4",
		"1::":             "1::",
		"1:0:0:1:0:0:0:1": "1:0:0:1::1",
		"1:0:0:2:0:0:3:4": "1::2:0:0:3:4",
		"2001:db8::10":    "2001:db8::10",
		"1:2:3:4:5:6:7:8": "1:2:3:4:5:6:7:8",
		"0:0:1::":         "0:0:1::",
	} {
		if got := ip6String(netip.MustParseAddr(in)); got != want {
			t.Errorf("ip6String(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCStrtoul(t *testing.T) {
	for _, c := range []struct {
		in       string
		base     int
		v        uint64
		rest     string
		ok, ovfl bool
	}{
		{"12", 0, 12, "", true, false},
		{" -1", 0, ^uint64(0), "", true, false},
		{"0x1fz", 0, 31, "z", true, false},
		{"0x", 0, 0, "x", true, false},
		{"010", 0, 8, "", true, false},
		{"010", 10, 10, "", true, false},
		{"", 0, 0, "", false, false},
		{"-", 0, 0, "-", false, false},
		{"99999999999999999999999", 0, ^uint64(0), "", true, true},
	} {
		v, rest, ok, ovfl := cStrtoul(c.in, c.base)
		if v != c.v || rest != c.rest || ok != c.ok || ovfl != c.ovfl {
			t.Errorf("cStrtoul(%q, %d) = %d %q %v %v", c.in, c.base, v, rest, ok, ovfl)
		}
	}
}

func TestParseHexString(t *testing.T) {
	for in, want := range map[string]string{
		"|41 42|C|44|": "ABCD",
		`ab\|c`:        "ab|c",
		"|41||42|":     "A|42", // the character after a closing "|" is literal; a final "|" ends it
		"|  7e7f|":     "~\x7f",
	} {
		got, err := parseHexString(in)
		if err != nil || string(got) != want {
			t.Errorf("parseHexString(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":      "STRING must contain at least one char",
		"|4|":   "Invalid hex block",
		"|414|": "Invalid hex block",
		"|4g|":  "Invalid hex char 'g'",
		`|41\|`: "Cannot include literals in hex data",
		`ab\`:   "Bad literal placement at end of string",
		"||":    "Odd number of hex digits",
		"|41":   "Invalid hex block",
	} {
		if _, err := parseHexString(in); err == nil || err.Error() != msg {
			t.Errorf("parseHexString(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestParseU32(t *testing.T) {
	tests, err := parseU32("6&0xFF=1:17,0x11 && 0>>22&0x3C@4>>16=80")
	if err != nil {
		t.Fatal(err)
	}
	m := &U32{Tests: tests, Invert: 1}
	want := ` ! --u32 "0x6&0xff=0x1:0x11,0x11&&0x0>>0x16&0x3c@0x4>>0x10=0x50"`
	if got := string(m.Save(nil, &xtables.Context{})); got != want {
		t.Errorf("save = %s, want %s", got, want)
	}
	for in, msg := range map[string]string{
		"0<1=1":   "u32: at char 2: a second '<' was expected",
		"0 x 1=1": "u32: at char 2: operator expected",
		"=1":      "u32: at char 0: location spec missing",
		"0=&&1=1": "u32: at char 3: value spec missing",
		"0=1 2":   "u32: at char 4: expected \",\" or \"&&\"",
		"0=":      "u32: test ended with no value specified",
		"0":       "u32: abrupt end of input after location specifier",
		"0=-1":    "u32: at char 2: not a number or out of range",
	} {
		if _, err := parseU32(in); err == nil || err.Error() != msg {
			t.Errorf("parseU32(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestClassicBPF(t *testing.T) {
	for prog, ok := range map[string]bool{
		"4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0": true,
		"1,48 0 0 9":                          false, // no final ret
		"2,21 0 1 6,6 0 0 0":                  false, // jf out of range
		"2,52 0 0 0,6 0 0 0":                  false, // div by constant 0
		"2,96 0 0 3,6 0 0 0":                  false, // M[3] read before written
		"3,2 0 0 3,96 0 0 3,22 0 0 0":         true,
		"2,32 0 0 4294963200,6 0 0 0":         true, // SKF_AD_PROTOCOL
		"2,32 0 0 4294963296,6 0 0 0":         false,
	} {
		p, err := parseBPF(prog)
		if err != nil {
			t.Fatalf("%s: %v", prog, err)
		}
		if got := checkClassicBPF(p); got != ok {
			t.Errorf("checkClassicBPF(%s) = %v, want %v", prog, got, ok)
		}
	}
}

// TestParsersDoNotPanic feeds random strings to the hand-written parsers.
func TestParsersDoNotPanic(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const alphabet = "0123456789abcdefx:,|\\ &<>@=-+!.\"/"
	for i := 0; i < 20000; i++ {
		var sb strings.Builder
		for n := r.Intn(24); n > 0; n-- {
			sb.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
		s := sb.String()
		parseHexString(s)
		parseU32(s)
		if p, err := parseBPF(s); err == nil {
			checkClassicBPF(p)
		}
		parseRTAddrs(s)
		(&Opts{name: "hbh"}).parseOpts(s)
		classToDSCP(s)
		ctx := &xtables.Context{Family: xtables.IPv4}
		parseIPRange(s, ctx, "--src-range")
	}
}

func TestIPRangeReversedWarning(t *testing.T) {
	var got []string
	ctx := &xtables.Context{Family: xtables.IPv6, Notices: &got}
	if _, _, err := parseIPRange("::1:2-::3:0:0", ctx, "--dst-range"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parseIPRange("::3:0:0-::1:2", ctx, "--dst-range"); err != nil {
		t.Fatal(err)
	}
	ctx.State = true // reading the state file back: no second warning
	parseIPRange("::3:0:0-::1:2", ctx, "--dst-range")
	want := []string{"xt_iprange: range ::3:0:0-::1:2 is reversed and will never match"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("warnings = %q, want %q", got, want)
	}
	if _, _, err := parseIPRange("1.2.3.4", &xtables.Context{Family: xtables.IPv4}, "--src-range"); err != nil {
		t.Error(err)
	}
	if _, _, err := parseIPRange("1.2.3.4-", &xtables.Context{Family: xtables.IPv4}, "--src-range"); err == nil ||
		err.Error() != `iprange: Bad value for "--src-range" option: ""` {
		t.Errorf("err = %v", err)
	}
}

// The save form drops an inverted full id range, as the real tool does;
// the state form keeps it.
func TestFullRangeStateForm(t *testing.T) {
	f := &Frag{IDs: [2]uint32{0, ^uint32(0)}, Flags: fragIDs, InvFlags: fragInvIDs}
	if got := string(f.Save(nil, &xtables.Context{})); got != "" {
		t.Errorf("save = %q", got)
	}
	if got := string(f.Save(nil, &xtables.Context{State: true})); got != " ! --fragid 0:4294967295" {
		t.Errorf("state save = %q", got)
	}
	if got := string(f.Print(nil, &xtables.Context{})); got != " frag ids:!0:4294967295" {
		t.Errorf("print = %q", got)
	}
	r := &RT{SegsLeft: [2]uint32{0, ^uint32(0)}, Flags: rtSgs, InvFlags: rtInvSgs}
	if got := string(r.Save(nil, &xtables.Context{State: true})); got != " ! --rt-segsleft 0:4294967295" {
		t.Errorf("rt state save = %q", got)
	}
}
