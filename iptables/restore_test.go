package iptables_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/xtables"
)

// restoreLines are the pieces the random restore files are made of:
// chain lines before and after commands, commands that make, rename and
// remove chains, jumps that loop, lines that fail to parse or to commit.
var restoreLines = []string{
	":INPUT ACCEPT [0:0]", ":FORWARD DROP [1:2]", ":X - [0:0]", ":Y - [0:0]", ":Z - [3:4]", ":X - [0:0]",
	":INPUT BOGUS [0:0]", ":-bad - [0:0]", ":PREROUTING ACCEPT [0:0]",
	"-A INPUT -j X", "-A X -j Y", "-A Y -j X", "-A X -p tcp --dport 22 -j ACCEPT", "-A Y -s 10.0.0.0/8 -j RETURN",
	"-A INPUT -m comment --comment \"a b\" -j ACCEPT", "[5:6] -A INPUT -d 1.2.3.4 -j DROP", "-A Z -j ACCEPT",
	"-A INPUT -s 1.1.1.1,2.2.2.2 -j ACCEPT", "-I INPUT 1 -j Y", "-I INPUT 9 -j Y", "-R INPUT 1 -j ACCEPT",
	"-D INPUT -j X", "-D INPUT 1", "-N X", "-N W", "-X Y", "-X", "-E Z Q", "-E X Q", "-F", "-F X", "-Z", "-P INPUT DROP",
	"-A NOPE -j ACCEPT", "-A INPUT -j NOPE", "-A INPUT -j MARK --set-mark 1", "-A INPUT -m bogus",
	"-A INPUT -p tcp --bogus", "-4 -A INPUT -j ACCEPT", "-6 -A INPUT -j ACCEPT", "-A OUTPUT -j REJECT",
	"-A INPUT -j LOG --log-prefix x", "-A Q -j ACCEPT", "-A W -j W", "-A INPUT -j W", "-A FORWARD -o eth0 -j Y",
	"-A INPUT -o eth0 -j ACCEPT", "-A PREROUTING -j DNAT --to-destination 1.2.3.4", "-A X -j MASQUERADE",
	"# comment", "", "garbage", "[1:2 -A INPUT", "-t nat -A INPUT", "-A INPUT -m conntrack --ctstate NEW -j X",
}

func randomRestore(r *rand.Rand) string {
	var b strings.Builder
	for tables := 1 + r.Intn(2); tables > 0; tables-- {
		b.WriteString([]string{"*filter\n", "*filter\n", "*nat\n", "*mangle\n"}[r.Intn(4)])
		for n := r.Intn(12); n > 0; n-- {
			b.WriteString(restoreLines[r.Intn(len(restoreLines))])
			b.WriteByte('\n')
		}
		if r.Intn(10) > 0 {
			b.WriteString("COMMIT\n")
		}
	}
	return b.String()
}

// restoreResult is everything a restore shows: the rule set as a state
// file holds it (every table, counters), stdout, stderr and the status.
func restoreResult(rs *xtables.Ruleset, out []byte, stderr string, rerr *iptables.RestoreError) string {
	var b []byte
	ctx := &xtables.Context{Family: rs.Family, Names: fuzzNames, State: true}
	for _, n := range xtables.TableNames {
		if t := rs.Table(n); t != nil && t.Present {
			b = iptables.AppendStateTable(b, t, ctx)
		}
	}
	code := 0
	if rerr != nil {
		stderr += rerr.Stderr
		code = rerr.Code
	}
	return fmt.Sprintf("%s\n--- stdout\n%s--- stderr\n%s--- status %d\n", b, out, stderr, code)
}

// TestRestoreRunsAsAtCommit checks that running each table's commands as
// they are read, with the lines parsed ahead in chunks, gives what running
// them at the COMMIT gives, for corpus files and random ones, with the
// options of iptables-restore.
func TestRestoreRunsAsAtCommit(t *testing.T) {
	var inputs []string
	files, _ := filepath.Glob("../../shared/corpus/rulesets*/*.rules")
	more, _ := filepath.Glob("../internal/cli/testdata/*.rules")
	for _, f := range append(files, more...) {
		if data, err := os.ReadFile(f); err == nil {
			inputs = append(inputs, string(data))
		}
	}
	if len(files) == 0 {
		t.Log("no corpus beside the repository: random files only")
	}
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 3000; i++ {
		inputs = append(inputs, randomRestore(r))
	}
	base, _, rerr := iptables.Restore(xtables.NewRuleset(xtables.IPv4), strings.NewReader(
		"*filter\n:X - [0:0]\n:FORWARD DROP [0:0]\n-A INPUT -j X\n-A X -j ACCEPT\nCOMMIT\n*nat\n:N - [0:0]\nCOMMIT\n"),
		iptables.RestoreOptions{Family: xtables.IPv4, Names: fuzzNames})
	if rerr != nil {
		t.Fatal(rerr.Stderr)
	}
	options := []iptables.RestoreOptions{
		{}, {Counters: true}, {Verbose: 1}, {NoFlush: true}, {Test: true}, {Table: "nat"}, {NoFlush: true, Verbose: 1},
	}
	for i, in := range inputs {
		for j, o := range options {
			if len(in) > 20000 && j > 1 {
				break
			}
			o.Family, o.Names = xtables.IPv4, fuzzNames
			if strings.Contains(in, "ip6") || strings.Contains(in, "::") {
				o.Family = xtables.IPv6
			}
			run := func(atCommit bool, chunk int) string {
				var stderr bytes.Buffer
				o := o
				o.Stderr = &stderr
				rs := xtables.NewRuleset(o.Family)
				if o.Family == xtables.IPv4 && j%2 == 1 {
					rs = base
				}
				got, out, rerr := iptables.RestoreAtCommitForTest(rs, strings.NewReader(in), o, atCommit, chunk)
				return restoreResult(got, out, stderr.String(), rerr)
			}
			want := run(true, 0)
			for _, c := range []struct {
				atCommit bool
				chunk    int
			}{{false, 0}, {false, 64}, {false, 4096}, {true, 100}} {
				if got := run(c.atCommit, c.chunk); got != want {
					t.Fatalf("input %d, options %+v, at commit %v, chunks %d:\n%s\ngot:\n%s\nwant:\n%s", i, o, c.atCommit, c.chunk, in, got, want)
				}
			}
		}
	}
}

// FuzzRestoreRunsAsAtCommit is TestRestoreRunsAsAtCommit on fuzzed files,
// parsed ahead in chunks of a few lines.
func FuzzRestoreRunsAsAtCommit(f *testing.F) {
	r := rand.New(rand.NewSource(11))
	for i := 0; i < 20; i++ {
		f.Add(randomRestore(r), uint8(i))
	}
	f.Fuzz(func(t *testing.T, in string, opt uint8) {
		o := iptables.RestoreOptions{Family: xtables.IPv4, Names: fuzzNames, Counters: opt&1 != 0, NoFlush: opt&2 != 0, Test: opt&4 != 0}
		if opt&8 != 0 {
			o.Verbose = 1
		}
		run := func(atCommit bool, chunk int) string {
			var stderr bytes.Buffer
			o := o
			o.Stderr = &stderr
			got, out, rerr := iptables.RestoreAtCommitForTest(xtables.NewRuleset(o.Family), strings.NewReader(in), o, atCommit, chunk)
			return restoreResult(got, out, stderr.String(), rerr)
		}
		if want, got := run(true, 0), run(false, 16+int(opt>>4)*8); got != want {
			t.Fatalf("%q:\ngot:\n%s\nwant:\n%s", in, got, want)
		}
	})
}
