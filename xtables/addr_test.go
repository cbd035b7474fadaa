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
