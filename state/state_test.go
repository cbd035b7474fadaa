package state_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/internal/kubegen"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
)

// TestRawListingsMatchParsed checks the fast listings made from a state
// file's text against the same listings made from the parsed rules, on
// rule sets that use many extensions (the state-form marks must be right
// for every rule whose stored form differs).
func TestRawListingsMatchParsed(t *testing.T) {
	var inputs []string
	files, _ := filepath.Glob("../internal/corpus/testdata/*.rules")
	files2, _ := filepath.Glob("../ext/*/testdata/*.rules")
	for _, f := range append(files, files2...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	var kube bytes.Buffer
	kubegen.Generate(&kube, 2000)
	inputs = append(inputs, kube.String())
	checked := 0
	for i, in := range inputs {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		prog := "iptables-restore"
		if strings.Contains(in, "ip6") || strings.Contains(in, "::") {
			prog = "ip6tables-restore"
		}
		if cli.Main([]string{prog, "--state", dir}, strings.NewReader(in), &out, &errb) != 0 {
			continue // files that test restore errors
		}
		d, err := state.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []xtables.Family{xtables.IPv4, xtables.IPv6} {
			raw, ok := d.LoadRaw(f)
			if !ok {
				continue
			}
			rs, err := d.Load(f, d.Names())
			if err != nil {
				t.Fatalf("input %d: %v", i, err)
			}
			ctx := &xtables.Context{Family: f, Names: d.Names()}
			for _, rt := range raw {
				for _, counters := range []bool{false, true} {
					want := iptables.AppendSaveTable(nil, rs.Table(rt.Name), ctx, counters)
					got := iptables.AppendSaveRaw(nil, rt, counters)
					if !bytes.Equal(got, want) {
						t.Errorf("input %d, table %s: raw save differs:\n%s\n--- parsed:\n%s", i, rt.Name, got, want)
					}
				}
				got, _ := iptables.AppendListRulesRaw(nil, rt, "")
				want := iptables.AppendListRules(nil, rs.Table(rt.Name), "", ctx, false, 0)
				if !bytes.Equal(got, want) {
					t.Errorf("input %d, table %s: raw -S differs", i, rt.Name)
				}
				checked++
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d tables checked", checked)
	}
}

// TestWriteAtomic leaves no temporary file behind and replaces the file.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, s := range []string{"one", "two"} {
		if err := state.WriteAtomic(p, []byte(s)); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if string(b) != s {
			t.Fatalf("got %q, want %q", b, s)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}
