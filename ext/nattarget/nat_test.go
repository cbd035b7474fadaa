package nattarget

import (
	"math/rand"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

func TestAppendIPv6(t *testing.T) {
	// glibc inet_ntop forms where Go's String differs or is easy to get
	// wrong: embedded IPv4, runs of one zero word, ties.
	for in, want := range map[string]string{
		"::":                   "::",
		"::1":                  "::1",
		"::1.2.3.4":            "::1.2.3.4",
		"::ffff:1.2.3.4":       "::ffff:1.2.3.4",
		"::ffff:0:1.2.3.4":     "::ffff:0:102:304",
		"1::":                  "1::",
		"1:0:2:0:0:3:0:0":      "1:0:2::3:0:0",
		"1:0:0:2:0:0:3:4":      "1::2:0:0:3:4",
		"2001:db8:0:1:0:0:0:1": "2001:db8:0:1::1",
		"1:2:3:4:5:6:7:0":      "1:2:3:4:5:6:7:0",
		"dead::beef:0":         "dead::beef:0",
	} {
		a := netip.MustParseAddr(in)
		if got := string(appendIPv6(nil, a.As16())); got != want {
			t.Errorf("appendIPv6(%s) = %q, want %q", in, got, want)
		}
	}
	// Whatever the form, it must read back as the same address.
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		var b [16]byte
		for j := range b {
			if rng.Intn(3) > 0 {
				b[j] = byte(rng.Intn(256))
			}
		}
		s := string(appendIPv6(nil, b))
		a, ok := xtables.ParseIPv6Numeric(s)
		if !ok || a.As16() != b {
			t.Fatalf("appendIPv6 gave %q for %x, which reads back as %v", s, b, a)
		}
	}
}

func natCtx(f xtables.Family, proto uint8) *xtables.Context {
	return &xtables.Context{Family: f, Header: &xtables.Header{Proto: proto}}
}

func TestParsePortsErrors(t *testing.T) {
	for arg, want := range map[string]string{
		"65536":     "Port `65536' not valid",
		"10:20":     "Invalid port:port syntax - use dash",
		"10x":       "Garbage after port value: `x'",
		"10-20x":    "Garbage after port range: `x'",
		"20-10":     "Port range `10' funky",
		"10-":       "Port `' not valid",
		"10-20/0":   "Port `0' not valid",
		"10-20/":    "Port `' not valid",
		"-1":        "Port `-1' not valid",
		"10-70000":  "Port `70000' not valid",
		"nosuchsvc": "Port `nosuchsvc' not valid",
	} {
		var r Range
		err := parsePorts(arg, true, false, &r, natCtx(xtables.IPv4, 6))
		if err == nil || err.Error() != want {
			t.Errorf("parsePorts(%q) = %v, want %q", arg, err, want)
		}
	}
	var r Range
	err := parsePorts("80", false, false, &r, natCtx(xtables.IPv4, 0))
	if err == nil || !strings.HasPrefix(err.Error(), "Need TCP, UDP") {
		t.Errorf("parsePorts without a protocol = %v", err)
	}
}

func TestParseTo(t *testing.T) {
	type tc struct {
		f    xtables.Family
		arg  string
		want Range
	}
	a4 := netip.MustParseAddr
	for _, c := range []tc{
		{xtables.IPv4, "1.1.1.1", Range{Flags: RangeMapIPs, MinAddr: a4("1.1.1.1"), MaxAddr: a4("1.1.1.1")}},
		{xtables.IPv4, "1.1.1.1-1.1.1.9:5-0x10/7", Range{Flags: RangeMapIPs | RangeProtoSpecified | RangeProtoOffset,
			MinAddr: a4("1.1.1.1"), MaxAddr: a4("1.1.1.9"), MinProto: 5, MaxProto: 16, BaseProto: 7}},
		{xtables.IPv4, ":80", Range{Flags: RangeProtoSpecified, MinProto: 80, MaxProto: 80}},
		{xtables.IPv4, "12:80", Range{Flags: RangeProtoSpecified, MinProto: 80, MaxProto: 80}}, // colon at 2
		{xtables.IPv6, "dead::1-dead::2", Range{Flags: RangeMapIPs, MinAddr: a4("dead::1"), MaxAddr: a4("dead::2")}},
		{xtables.IPv6, "[dead::1]:9", Range{Flags: RangeMapIPs | RangeProtoSpecified, MinAddr: a4("dead::1"), MaxAddr: a4("dead::1"), MinProto: 9, MaxProto: 9}},
		{xtables.IPv6, "[]:9", Range{Flags: RangeProtoSpecified, MinProto: 9, MaxProto: 9}},
	} {
		var r Range
		if err := parseTo(c.arg, true, false, &r, natCtx(c.f, 6)); err != nil || r != c.want {
			t.Errorf("parseTo(%q) = %+v, %v; want %+v", c.arg, r, err, c.want)
		}
	}
	for _, c := range []struct {
		f        xtables.Family
		arg, err string
	}{
		{xtables.IPv4, "[1.1.1.1]", "Invalid address format"},
		{xtables.IPv6, "[dead::1", "Invalid address format"},
		{xtables.IPv4, "1.1.1.1:80:90", `Bad IP address "1.1.1.1:80:90"`},
		{xtables.IPv4, "::ffff:1.1.1.1", `Bad IP address "::ffff:1.1.1.1"`},
		{xtables.IPv4, "1.1.1.1-x", `Bad IP address "x"`},
		{xtables.IPv6, "fe80::1%lo", `Bad IP address "fe80::1%lo"`},
		{xtables.IPv6, "1.2.3.4", `Bad IP address "1.2.3.4"`},
	} {
		var r Range
		if err := parseTo(c.arg, true, false, &r, natCtx(c.f, 6)); err == nil || err.Error() != c.err {
			t.Errorf("parseTo(%q) = %v, want %q", c.arg, err, c.err)
		}
	}
}

// The save form of every range must parse back to the same range: iptwin
// keeps rules as save lines.
func TestSaveRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	kinds := []*natKind{snatKind, dnatKind, masqKind, redirectKind}
	for i := 0; i < 3000; i++ {
		k := kinds[rng.Intn(len(kinds))]
		f := xtables.IPv4
		if rng.Intn(2) == 0 {
			f = xtables.IPv6
		}
		var r Range
		if k.saveOpt != "--to-ports " && rng.Intn(4) > 0 {
			r.Flags |= RangeMapIPs
			r.MinAddr, r.MaxAddr = randAddr(rng, f), randAddr(rng, f)
			if rng.Intn(2) == 0 {
				r.MaxAddr = r.MinAddr
			}
		}
		if rng.Intn(3) > 0 || r.Flags == 0 {
			r.Flags |= RangeProtoSpecified
			r.MinProto = uint16(rng.Intn(65536))
			r.MaxProto = r.MinProto
			if rng.Intn(2) == 0 {
				r.MaxProto = r.MinProto + uint16(rng.Intn(65536-int(r.MinProto)))
			}
			if r.MaxProto != r.MinProto && !k.noShift && rng.Intn(3) == 0 {
				r.Flags |= RangeProtoOffset
				if k.hasBase {
					r.BaseProto = uint16(1 + rng.Intn(65535))
				}
			}
		}
		for _, fl := range []uint32{RangeProtoRandom, RangeProtoRandomFully, RangePersistent} {
			if rng.Intn(2) == 0 && hasOption(k, fl) {
				r.Flags |= fl
			}
		}
		n := &NAT{Range: r, kind: k}
		ctx := natCtx(f, 6)
		line := string(n.Save(nil, ctx))
		got := &NAT{kind: k}
		if err := parseSaved(got, line, ctx); err != nil {
			t.Fatalf("%s %v: %q: %v", k.name, f, line, err)
		}
		if got.Range != r {
			t.Fatalf("%s %v: %q reads back as %+v, want %+v", k.name, f, line, got.Range, r)
		}
	}
}

func randAddr(rng *rand.Rand, f xtables.Family) netip.Addr {
	if f == xtables.IPv4 {
		return netip.AddrFrom4([4]byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))})
	}
	var b [16]byte
	for j := range b {
		if rng.Intn(2) == 0 {
			b[j] = byte(rng.Intn(256))
		}
	}
	return netip.AddrFrom16(b)
}

func hasOption(k *natKind, flag uint32) bool {
	name := map[uint32]string{RangeProtoRandom: "random", RangeProtoRandomFully: "random-fully", RangePersistent: "persistent"}[flag]
	for _, o := range k.options {
		if o.Name == name {
			return true
		}
	}
	return false
}

// parseSaved feeds " --opt [arg] --opt ..." to Parse, as the command line
// would.
func parseSaved(n *NAT, line string, ctx *xtables.Context) error {
	words := strings.Fields(line)
	for i := 0; i < len(words); i++ {
		name := strings.TrimPrefix(words[i], "--")
		var opt *xtables.Option
		for j := range n.kind.options {
			if n.kind.options[j].Name == name {
				opt = &n.kind.options[j]
			}
		}
		if opt == nil {
			return xtables.Errorf("no option %q", name)
		}
		c := &xtables.OptionCall{Ext: n.kind.name, Opt: opt, Ctx: ctx}
		if opt.Type != xtables.TypeNone {
			i++
			c.Arg = words[i]
		}
		if err := n.Parse(c); err != nil {
			return err
		}
	}
	return nil
}
