package stack

import "testing"

func TestParseSocket(t *testing.T) {
	for _, c := range []struct{ in, out, err string }{
		{"tcp 22", "tcp 22", ""},
		{"udp 10.0.0.1 53", "udp 10.0.0.1 53", ""},
		{"tcp6 :: 22 uid 1000 gid 100", "tcp :: 22 uid 1000 gid 100", ""},
		{"sctp 9", "", `"sctp 9": protocol "sctp" is not tcp or udp`},
		{"tcp 0", "", `"tcp 0": bad port "0"`},
		{"tcp 22 uid x", "", `"tcp 22 uid x": bad uid "x"`},
		{"tcp", "", `"tcp": want PROTO [ADDRESS] PORT`},
		{"tcp 22 mode 1", "", `"tcp 22 mode 1": unknown field "mode"`},
	} {
		sk, err := ParseSocket(c.in)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%q: error %v, want %s", c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err == "" && sk.String() != c.out:
			t.Errorf("%q: %q, want %q", c.in, sk.String(), c.out)
		}
	}
}
