package l4

import (
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

// The round trip of port ranges through nft payload expressions
// (expr_gen_range_cmp16, then nft_parse_transport*).
func TestNftPortSide(t *testing.T) {
	full := [2]uint16{0, 0xffff}
	cases := []struct {
		in      [2]uint16
		inv     bool
		out     [2]uint16
		outInv  bool
		comment string
	}{
		{full, true, full, false, "an inverted full range emits nothing"},
		{[2]uint16{0, 100}, true, [2]uint16{101, 0xffff}, false, "! 0:N is a > compare"},
		{[2]uint16{0, 0xfffe}, true, [2]uint16{0xffff, 0xffff}, false, "! 0:65534"},
		{[2]uint16{0, 100}, false, [2]uint16{0, 100}, false, "0:N is a <= compare"},
		{[2]uint16{0, 0}, true, [2]uint16{0, 0}, true, "a single port stays"},
		{[2]uint16{4, 3}, false, [2]uint16{4, 3}, false, "a reversed range stays"},
		{[2]uint16{5, 9}, true, [2]uint16{5, 9}, true, "a range expression keeps !"},
	}
	for _, c := range cases {
		out, inv := nftPortSide(c.in, c.inv)
		if out != c.out || inv != c.outInv {
			t.Errorf("%s: %v inv=%v -> %v inv=%v, want %v inv=%v", c.comment, c.in, c.inv, out, inv, c.out, c.outInv)
		}
	}
	// Both ports single, non-zero, same inversion: one 32-bit compare.
	s, d, si, di := nftPorts([2]uint16{1, 1}, [2]uint16{2, 2}, true, true)
	if s != [2]uint16{1, 1} || d != [2]uint16{2, 2} || !si || !di {
		t.Errorf("combined compare: %v %v %v %v", s, d, si, di)
	}
}

func TestTCPCheck(t *testing.T) {
	hdr := &xtables.Header{Proto: 6}
	ctx := &xtables.Context{Family: xtables.IPv4, Header: hdr}
	m := &TCP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}, FlgCmp: 2}
	if err := m.Check(ctx); err != nil || !m.Elided() || m.FlgCmp != 0 {
		t.Errorf("--tcp-flags NONE SYN: err %v, elided %v, cmp %#x", err, m.Elided(), m.FlgCmp)
	}
	m = &TCP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{22, 22}}
	err := m.Final(&xtables.FinalCall{Ext: "tcp", Ctx: &xtables.Context{Header: &xtables.Header{Proto: 17}}})
	if err == nil || err.Error() != "TCP match requires '-p tcp'" {
		t.Errorf("payload path without -p tcp: %v", err)
	}
	m = &TCP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}, Option: 5}
	if err := m.Check(&xtables.Context{Header: &xtables.Header{}}); err != xtables.ErrInvalidArgument {
		t.Errorf("compat path without -p tcp: %v", err)
	}
}

func TestParseICMPType(t *testing.T) {
	cases := []struct {
		in   string
		typ  uint8
		code [2]uint8
		err  string
	}{
		{"echo-request", 8, [2]uint8{0, 0xff}, ""},
		{"PORT-UNR", 3, [2]uint8{3, 3}, ""},
		{"3/4:6", 3, [2]uint8{4, 6}, ""},
		{"0x5", 5, [2]uint8{0, 0xff}, ""},
		{"e", 0, [2]uint8{}, "Ambiguous ICMP type `e': `echo-reply' or `echo-request'?"},
		{"3:5", 0, [2]uint8{}, "ICMP type range not supported"},
		{"3x", 0, [2]uint8{}, "unknown character x"},
		{"3/x", 0, [2]uint8{}, "Unknown ICMP code `3/x'"},
		{"256", 0, [2]uint8{}, "Unknown ICMP type `256'"},
	}
	for _, c := range cases {
		typ, code, err := parseICMPType(icmpCodes, "ICMP", c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || typ != c.typ || code != c.code {
			t.Errorf("%q: %d %v %v, want %d %v", c.in, typ, code, err, c.typ, c.code)
		}
	}
}
