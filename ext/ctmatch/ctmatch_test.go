package ctmatch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

// The connlabel map is read like libnetfilter_conntrack's: comments,
// numbers in any base, first name of a bit kept; names are listed and
// saved, and parsed back to their bit.
func TestConnlabelMap(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "connlabel.conf")
	data := "# comment\n0 eth0-in\n0x2 ha-master\n2 dup\n  \n7\nfoo bar\n"
	if err := os.WriteFile(conf, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	old := connlabelConf
	connlabelConf = conf
	defer func() { connlabelConf = old }()

	cl := &Connlabel{}
	c := &xtables.OptionCall{Opt: &xtables.Option{ID: clabOptLabel}, Arg: "ha-master", Invert: true, Ctx: &xtables.Context{}}
	if err := cl.Parse(c); err != nil {
		t.Fatal(err)
	}
	if cl.Bit != 2 || cl.Options != connlabelOpInvert {
		t.Fatalf("parsed %+v, want bit 2 inverted", cl)
	}
	ctx := &xtables.Context{Family: xtables.IPv4}
	if got := string(cl.Save(nil, ctx)); got != ` ! --label "ha-master"` {
		t.Errorf("save %q", got)
	}
	if got := string(cl.Print(nil, ctx)); got != ` connlabel ! 'ha-master'` {
		t.Errorf("print %q", got)
	}
	ctx.Numeric = true
	if got := string(cl.Print(nil, ctx)); got != ` connlabel ! 2` {
		t.Errorf("numeric print %q", got)
	}
	c.Arg = "dup"
	if err := (&Connlabel{}).Parse(c); err == nil {
		t.Error("a second name of bit 2 was accepted")
	}
	empty := filepath.Join(dir, "empty.conf")
	os.WriteFile(empty, []byte("# nothing\n"), 0o644)
	connlabelConf = empty
	c.Arg = "x"
	err := (&Connlabel{}).Parse(c)
	if e, ok := err.(*xtables.Error); !ok || e.Code != xtables.ResourceProblem {
		t.Errorf("empty map: %v, want a resource problem", err)
	}
}

func TestLabelValue(t *testing.T) {
	for in, want := range map[string]int32{
		"40": 40, "0x7f": 127, "010": 8, "": -1, "1x": -1, "-1": -1,
		"-0": 0, "4294967295": -1, "65536": 65536, " 5": 5, "x": -1,
	} {
		if got := labelValue(in); got != want {
			t.Errorf("labelValue(%q) = %d, want %d", in, got, want)
		}
	}
}

// The connlimit mask keeps the kernel's layout: prefix bits fill the
// words from the first, a mask without prefix length stays all ones.
func TestPlenMaskWords(t *testing.T) {
	all := ^uint32(0)
	for _, tc := range []struct {
		plen int
		want [4]uint32
	}{
		{32, [4]uint32{all, 0, 0, 0}},
		{24, [4]uint32{0xffffff00, 0, 0, 0}},
		{0, [4]uint32{}},
		{64, [4]uint32{all, all, 0, 0}},
		{100, [4]uint32{all, all, all, 0xf0000000}},
		{-1, [4]uint32{all, all, all, all}},
	} {
		if got := plenMaskWords(tc.plen); got != tc.want {
			t.Errorf("plenMaskWords(%d) = %08x, want %08x", tc.plen, got, tc.want)
		}
	}
	cl := &Connlimit{Mask: plenMaskWords(-1)}
	if n := cl.maskBits(xtables.IPv4); n != 32 {
		t.Errorf("all-ones v4 mask counts %d bits", n)
	}
	cl.Mask = plenMaskWords(48)
	if n := cl.maskBits(xtables.IPv6); n != 48 {
		t.Errorf("/48 v6 mask counts %d bits", n)
	}
}

// ipvs: any option but --ipvs implies it; then --ipvs is not listed.
func TestIPVSImpliesProperty(t *testing.T) {
	v := &IPVS{}
	ctx := &xtables.Context{Family: xtables.IPv4}
	c := &xtables.OptionCall{Opt: &xtables.Option{ID: ipvsOptVMethod}, Arg: "gate", Invert: true, Ctx: ctx}
	if err := v.Parse(c); err != nil {
		t.Fatal(err)
	}
	if err := v.Final(&xtables.FinalCall{XFlags: 1 << ipvsOptVMethod}); err != nil {
		t.Fatal(err)
	}
	if v.Bitmask&ipvsProperty == 0 {
		t.Error("--vmethod did not imply --ipvs")
	}
	if got := string(v.Save(nil, ctx)); got != " ! --vmethod GATE" {
		t.Errorf("save %q", got)
	}
	bad := &IPVS{Invert: ipvsProperty, Bitmask: ipvsProperty | 1<<ipvsOptVPort}
	if err := bad.Final(&xtables.FinalCall{XFlags: 3}); err == nil {
		t.Error("! --ipvs with --vport accepted")
	}
}
