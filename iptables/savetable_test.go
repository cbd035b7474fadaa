package iptables_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/kubegen"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/xtables"
)

// TestWriteTableInParallel checks that a big table written by several
// goroutines comes out as the one-piece rendering, with the extensions'
// notices in the same order, for state files and iptables-save.
func TestWriteTableInParallel(t *testing.T) {
	var in bytes.Buffer
	if err := kubegen.Generate(&in, 20000); err != nil {
		t.Fatal(err)
	}
	// rules with a state form, a notice on listing, and a quoted line
	extra := "-A KUBE-FORWARD -p icmp --icmp-type 3/4:6 -j ACCEPT\n" +
		"-A KUBE-FORWARD -m connlabel --label 1 -j ACCEPT\n" +
		"-A KUBE-FORWARD -j ACCEPT -m comment --comment \"a\n"
	text := strings.Replace(in.String(), "COMMIT\n", strings.Repeat(extra, 3000)+"COMMIT\n", 1)
	rs, _, rerr := iptables.Restore(xtables.NewRuleset(xtables.IPv4), strings.NewReader(text), iptables.RestoreOptions{Family: xtables.IPv4, Names: fuzzNames})
	if rerr != nil {
		t.Fatal(rerr.Stderr)
	}
	for _, name := range []string{"filter", "nat"} {
		tb := rs.Table(name)
		for _, state := range []bool{false, true} {
			for _, counters := range []bool{false, true} {
				var n1, n2 []string
				ctx1 := &xtables.Context{Family: xtables.IPv4, Names: fuzzNames, State: state, Notices: &n1}
				ctx2 := &xtables.Context{Family: xtables.IPv4, Names: fuzzNames, State: state, Notices: &n2}
				var want []byte
				var got bytes.Buffer
				var err error
				if state {
					if !counters {
						continue
					}
					want = iptables.AppendStateTable(nil, tb, ctx1)
					err = iptables.WriteStateTable(&got, tb, ctx2)
				} else {
					want = iptables.AppendSaveTable(nil, tb, ctx1, counters)
					err = iptables.WriteSaveTable(&got, tb, ctx2, counters)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s state %v counters %v: written table differs (%d bytes, want %d)", name, state, counters, got.Len(), len(want))
				}
				if name == "filter" && (state && (!bytes.Contains(want, []byte("\n#s ")) || !bytes.Contains(want, []byte("\n#q "))) || !state && len(n1) == 0) {
					t.Errorf("%s state %v: the table lacks the lines or notices it is meant to test", name, state)
				}
				if strings.Join(n1, "\n") != strings.Join(n2, "\n") {
					t.Errorf("%s state %v: notices %d, want %d", name, state, len(n2), len(n1))
				}
			}
		}
	}
}
