package xtables

import "testing"

func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"33": "0.0.0.33", "10.1": "10.0.0.1", "1.2.3.4": "1.2.3.4", "0x7f.1": "127.0.0.1",
		"010.0.0.1": "8.0.0.1", "255.255.255.255": "255.255.255.255", "1.2.65535": "1.2.255.255",
		"256.1.1.1": "", "1.2.3.4.5": "", "": "", "1..2": "", "a": "", "1.2.65536": "",
	} {
		a, ok := inetAton(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("inetAton(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStrtoul10(t *testing.T) {
	for _, c := range []struct {
		in string
		v  uint64
		n  int
	}{
		{"12x", 12, 2}, {"  +7", 7, 4}, {"-1", 1<<64 - 1, 2}, {"x", 0, 0}, {"", 0, 0},
		{"99999999999999999999999", 1<<64 - 1, 23}, {"\t4294967296", 1 << 32, 11}, {"-", 0, 0},
	} {
		v, n := Strtoul10(c.in)
		if v != c.v || n != c.n {
			t.Errorf("Strtoul10(%q) = %d, %d; want %d, %d", c.in, v, n, c.v, c.n)
		}
	}
}
