package rate

import (
	"math"
	"net/netip"
	"testing"
)

func TestStrtod(t *testing.T) {
	for _, c := range []struct {
		in   string
		v    float64
		used int
	}{
		{"0.5", 0.5, 3}, {"1e-3x", 0.001, 4}, {"0x.8", 0.5, 4}, {" .25", 0.25, 4},
		{"8bit", 8, 1}, {"abc", 0, 0}, {"", 0, 0}, {"-1", -1, 2}, {"1.5GBps", 1.5, 3},
	} {
		v, n := strtod(c.in)
		if v != c.v || n != c.used {
			t.Errorf("strtod(%q) = %v, %d; want %v, %d", c.in, v, n, c.v, c.used)
		}
	}
	if v, n := strtod("inf"); !math.IsInf(v, 1) || n != 3 {
		t.Errorf("strtod(inf) = %v, %d", v, n)
	}
}

func TestAddrNumeric(t *testing.T) {
	for in, want := range map[string]string{
		"ffff:ffff::":            "ffff:ffff::",
		"::ffff:0:0":             "::ffff:0.0.0.0",
		"::ff00:0":               "::255.0.0.0",
		"::1":                    "::1",
		"1:0:1:0:1:0:1:0":        "1:0:1:0:1:0:1:0",
		"ffff::ffff:0:0:0":       "ffff::ffff:0:0:0",
		"255.255.0.0":            "255.255.0.0",
		"fe80:0:0:1::":           "fe80:0:0:1::",
		"2001:db8::1:0:0:1":      "2001:db8::1:0:0:1",
		"0:0:1::":                "0:0:1::",
		"ffff:ffff:ffff:ffff::1": "ffff:ffff:ffff:ffff::1",
	} {
		if got := addrNumeric(netip.MustParseAddr(in)); got != want {
			t.Errorf("addrNumeric(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"33": "0.0.0.33", "1.2": "1.0.0.2", "1.2.3": "1.2.0.3", "0x10.010.0.1": "16.8.0.1",
	} {
		a, ok := inetAton(in)
		if !ok || a.String() != want {
			t.Errorf("inetAton(%q) = %v, %v; want %s", in, a, ok, want)
		}
	}
	for _, in := range []string{"", "1..2", "256.0.0.1", "1.2.3.4.5", "08", "+1", "1.2.65536"} {
		if a, ok := inetAton(in); ok {
			t.Errorf("inetAton(%q) = %v, want failure", in, a)
		}
	}
}

func TestLimitRoundTrip(t *testing.T) {
	// What nft keeps of a rate must print as the rate typed, for rates the
	// units divide.
	for _, r := range []string{"1/sec", "7/min", "3/hour", "999/day", "10000/sec"} {
		v, ok, err := parseLimitRate(r)
		if !ok || err != nil {
			t.Fatalf("parseLimitRate(%s): %v %v", r, ok, err)
		}
		l := &Limit{Avg: v}
		l.Final(nil)
		got := string(appendLimitRate(nil, l.Avg))
		want := " " + r
		if got != want {
			t.Errorf("%s prints as %q", r, got)
		}
	}
}
