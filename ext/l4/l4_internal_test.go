package l4

import (
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

// The round trip of port ranges through nft payload expressions
// (expr_gen_range_cmp16, then nft_parse_transport*).
func TestNFTRebuildRange(t *testing.T) {
	full := [2]uint16{0, 0xffff}
	cases := []struct {
		in      [2]uint16
		inv     bool
		out     [2]uint16
		outInv  bool
		comment string
	}{
		{[2]uint16{0, 100}, true, [2]uint16{101, 0xffff}, false, "! 0:N is a > compare"},
		{[2]uint16{0, 0xfffe}, true, [2]uint16{0xffff, 0xffff}, false, "! 0:65534"},
		{[2]uint16{0, 100}, false, [2]uint16{0, 100}, false, "0:N is a <= compare"},
		{[2]uint16{0, 0}, true, [2]uint16{0, 0}, true, "a single port stays"},
		{[2]uint16{4, 3}, false, [2]uint16{4, 3}, false, "a reversed range stays"},
		{[2]uint16{5, 9}, true, [2]uint16{5, 9}, true, "a range expression keeps !"},
	}
	for _, c := range cases {
		out, inv := full, false
		rebuildRange(&out, &inv, c.in, c.inv)
		if out != c.out || inv != c.outInv {
			t.Errorf("%s: %v inv=%v -> %v inv=%v, want %v inv=%v", c.comment, c.in, c.inv, out, inv, c.out, c.outInv)
		}
	}
}

func TestTCPNative(t *testing.T) {
	full := [2]uint16{0, 0xffff}
	ctx := &xtables.Context{Family: xtables.IPv4, Header: &xtables.Header{Proto: 6}}
	// --tcp-flags NONE SYN: native, but no expression: the match vanishes.
	m := &TCP{Spts: full, Dpts: full, FlgCmp: 2}
	if ok, err := m.NFTNative(ctx); !ok || err != nil {
		t.Fatalf("NONE SYN: native %v err %v", ok, err)
	}
	if res, _ := m.NFTRebuild(nil); res != nil {
		t.Errorf("NONE SYN rebuilt as %+v, want nothing", res)
	}
	// Two tcp matches of one rule fold into one.
	a := &TCP{Spts: full, Dpts: [2]uint16{22, 22}}
	b := &TCP{Spts: [2]uint16{1, 1}, Dpts: full}
	acc, merged := a.NFTRebuild(nil)
	acc, _ = b.NFTRebuild(acc)
	got := acc.(*TCP)
	if !merged || got.Spts != [2]uint16{1, 1} || got.Dpts != [2]uint16{22, 22} {
		t.Errorf("merge: %+v", got)
	}
	// Without -p tcp the payload path is refused.
	m = &TCP{Spts: full, Dpts: [2]uint16{22, 22}}
	if _, err := m.NFTNative(&xtables.Context{Header: &xtables.Header{Proto: 17}}); err == nil || err.Error() != "TCP match requires '-p tcp'" {
		t.Errorf("payload path without -p tcp: %v", err)
	}
	// An option check keeps the xt match, which the kernel checks.
	m = &TCP{Spts: full, Dpts: full, Option: 5}
	if ok, _ := m.NFTNative(ctx); ok {
		t.Errorf("--tcp-option went native")
	}
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
