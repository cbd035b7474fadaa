package l4_test

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/xtables"
)

// fuzzRules are the rules of the kernel cases plus a few the namespace
// cannot take (owner, realm, SET), parsed once.
var fuzzRules struct {
	r4, r6 []*xtables.Rule
}

var fuzzExtra = []string{
	"-m owner --uid-owner 0", "-m owner ! --socket-exists", "-m realm --realm 1/3",
	"-m string --algo fsm --hex-string \"|01 00 04 00 00 00 00 61 07 00 03 00 00 00 00 7a|\"",
	"-m string --algo kmp --string abc --icase --from 3 --to 9",
	"-m bpf --bytecode \"6,177 0 0 0,72 0 0 2,7 0 0 0,96 0 0 0,2 0 0 1,22 0 0 0\"",
	"-j SET --add-set s4 src --exist", "-j SET --del-set n4 src", "-j SET --map-set l dst,dst --map-mark",
}

func loadFuzzRules(t testing.TB, e *kernelEnv) {
	if fuzzRules.r4 != nil {
		return
	}
	f, err := os.Open("testdata/kernel/cases.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var specs [][2]string
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "#ipset\t"); ok {
			e.sets.Run(strings.Split(rest, "\t"), nil, nil, nil)
			continue
		}
		fs := strings.Split(l, "\t")
		if len(fs) != 5 || fs[4] == "error" || seen[fs[0]+fs[1]] {
			continue
		}
		seen[fs[0]+fs[1]] = true
		specs = append(specs, [2]string{fs[0], fs[1]})
	}
	for _, x := range fuzzExtra {
		specs = append(specs, [2]string{"4", x}, [2]string{"6", x})
	}
	for _, s := range specs {
		fam := xtables.IPv4
		if s[0] == "6" {
			fam = xtables.IPv6
		}
		args, err := iptables.SplitParams(s[1])
		if err != nil {
			continue
		}
		chain := "PREROUTING"
		if strings.Contains(s[1], "owner") {
			chain = "OUTPUT"
		}
		if strings.Contains(s[1], "realm") {
			chain = "INPUT"
		}
		cmd, err := iptables.Parse(append([]string{"-t", "mangle", "-A", chain}, args...),
			iptables.ParseOptions{Family: fam, Names: noNames, Objects: e})
		if err != nil {
			continue
		}
		if fam == xtables.IPv4 {
			fuzzRules.r4 = append(fuzzRules.r4, cmd.Rules[0])
		} else {
			fuzzRules.r6 = append(fuzzRules.r6, cmd.Rules[0])
		}
	}
}

// FuzzMatchPacket runs every rule's matches (and SET targets) over
// arbitrary packet bytes: no panic, whatever the bytes.
func FuzzMatchPacket(f *testing.F) {
	e := newKernelEnv()
	loadFuzzRules(f, e)
	for _, s := range []string{
		"4500002800010000400666bb0a0900010a09000204d2001600000001000000005002040000000000",
		"6000000000140640fd090000000000000000000000000001fd09000000000000000000000000000204d20016000000010000000050020400",
		"60000000000c2c40fd090000000000000000000000000001fd090000000000000000000000000002060000011234",
		"45", "",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, mac bool) {
		rules := fuzzRules.r4
		fam := xtables.IPv4
		if len(raw) > 0 && raw[0]>>4 == 6 {
			rules, fam = fuzzRules.r6, xtables.IPv6
		}
		e.pkt.Decode(raw)
		e.pkt.Data = raw
		for _, r := range rules {
			st := &e.st
			st.Env = e
			st.Reset()
			st.Family, st.Hook, st.Pkt, st.In = fam, xtables.HookPrerouting, &e.pkt, "vm1b"
			if mac {
				st.MAC = []byte{1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0x0a, 1, 8, 0}
			}
			st.FragOff = xtables.FragOffset(&e.pkt.Headers)
			for _, m := range r.Matches {
				ok := m.Info.(xtables.PacketMatcher).MatchPacket(st)
				if st.HotDrop && ok {
					t.Fatalf("%s: matched and dropped", m.Type.Name)
				}
				if !ok || st.HotDrop {
					break
				}
			}
			if r.Target != nil && r.Target.Type != nil {
				if tg, ok := r.Target.Info.(xtables.PacketTargeter); ok {
					tg.TargetPacket(st)
				}
			}
		}
	})
}
