package iptables_test

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/xtables"
)

var fuzzNames = names.New(names.System)

// FuzzParse feeds command lines to the parser and, when they parse, runs
// them on an empty rule set and lists the result: never a panic, and a
// rule that was added lists and reads back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"-A INPUT -p tcp --dport 22 -j ACCEPT",
		"-I FORWARD 2 ! -s 10.0.0.0/8 -i eth+ -m conntrack --ctstate NEW,RELATED -j LOG --log-prefix x",
		"-t nat -A POSTROUTING -o eth0 -j MASQUERADE --to-ports 1024-2048",
		"-A INPUT -m multiport --dports 1,2:3 -p udp -m comment --comment \"a b\" -j REJECT --reject-with icmp-host-prohibited",
		"-N x", "-E x y", "-X", "-L -n -v --line-numbers", "-S INPUT 1", "-P INPUT DROP", "-Z -v",
		"-A INPUT -m set --match-set s src -m limit --limit 3/min -m recent --set",
		"-A INPUT -m u32 --u32 \"0>>22&0x3C@12>>26&0x3C@0=0x1\"",
		"-A INPUT -m string --algo bm --hex-string |00ff|", "-t mangle -A PREROUTING -j MARK --set-xmark 1/2",
		"-A INPUT -p icmp --icmp-type echo-request", "--bogus", "-A", "! ! -s", "-A INPUT -j",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, line string, v6 bool) {
		fam := xtables.IPv4
		if v6 {
			fam = xtables.IPv6
		}
		args := strings.Fields(line)
		cmd, err := iptables.Parse(args, iptables.ParseOptions{Family: fam, Names: fuzzNames})
		if err != nil {
			if err.Error() == "" && !iptables.IsTryHelp(err) {
				t.Fatalf("empty error for %q", line)
			}
			return
		}
		rs := xtables.NewRuleset(fam)
		var out []byte
		if _, err := iptables.Execute(rs, cmd, fuzzNames, &out); err != nil {
			return
		}
		t2 := rs.Table(cmd.Table)
		if t2 == nil || !t2.Present {
			return
		}
		// What was stored lists and restores again.
		ctx := &xtables.Context{Family: fam, Names: fuzzNames, State: true}
		saved := iptables.AppendStateTable(nil, t2, ctx)
		if _, _, rerr := iptables.Restore(xtables.NewRuleset(fam), bytes.NewReader(saved), iptables.RestoreOptions{Family: fam, Names: fuzzNames, Counters: true, State: true}); rerr != nil {
			t.Fatalf("%q: state does not read back: %s\n%s", line, rerr.Stderr, saved)
		}
		iptables.AppendList(nil, t2, "", 0, iptables.ListFormat(true, true, true, true), &xtables.Context{Family: fam, Names: fuzzNames, Table: t2.Name})
	})
}

// FuzzRestore feeds whole restore files: never a panic; a failure has an
// error text and a non-zero status.
func FuzzRestore(f *testing.F) {
	for _, s := range []string{
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n",
		"*nat\n:PREROUTING ACCEPT [1:2]\n-N x\n[3:4] -A x -p tcp -j DNAT --to 1.2.3.4:80\n-A PREROUTING -j x\nCOMMIT\n",
		"*filter\n-A INPUT -j ACCEPT\n", "*filter\nCOMMIT\n*bogus\nCOMMIT\n", "[1:2\n", "COMMIT\n",
		"*filter\n:INPUT DROP [x:y]\nCOMMIT\n", "*filter\n-A INPUT -m comment --comment \"unterminated\nCOMMIT\n",
		"# comment\n*mangle\n:X - [0:0]\n-A X -j X\n-A PREROUTING -j X\nCOMMIT\n",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, data string, counters bool) {
		_, _, rerr := iptables.Restore(xtables.NewRuleset(xtables.IPv4), strings.NewReader(data), iptables.RestoreOptions{Family: xtables.IPv4, Names: fuzzNames, Counters: counters})
		if rerr != nil && (rerr.Stderr == "" || rerr.Code == 0) {
			t.Fatalf("error without text or status: %+v", rerr)
		}
	})
}

// TestAppendParamsMatchesSplit checks the unquoted fast path against the
// general splitter.
func TestAppendParamsMatchesSplit(t *testing.T) {
	cases := []string{"", "a", " a  b\tc\n", "-A X -m comment --comment x\\y -j ACCEPT", strings.Repeat("x", 1100), "a " + strings.Repeat("y", 1023),
		`--comment "a b"`, `a"b c"d`, `""`, `"" x`, `"unterminated x`, `"a\"b"`, `"a\\" b`, `"x` + strings.Repeat("q", 1100) + `"`, `"` + strings.Repeat("q", 1020) + `"abcd`}
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		b := make([]byte, r.Intn(12))
		for i := range b {
			b[i] = ` "\ab\t`[r.Intn(7)]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		got, err1 := iptables.AppendParamsForTest(nil, s)
		want, err2 := refSplit(s)
		if (err1 == nil) != (err2 == nil) || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q: fast %q %v, general %q %v", s, got, err1, want, err2)
		}
	}
}

// refSplit is a plain port of iptables' add_param_to_argv (one buffer, a
// copy per character), the reference for the in-place splitter.
func refSplit(s string) ([]string, error) {
	var out []string
	var param []byte
	quoteOpen, escaped := false, false
	add := func(c byte) error {
		param = append(param, c)
		if len(param) >= 1024 {
			return errors.New("Parameter too long!")
		}
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quoteOpen {
			if escaped {
				if err := add(c); err != nil {
					return out, err
				}
				escaped = false
				continue
			} else if c == '\\' {
				escaped = true
				continue
			} else if c == '"' {
				quoteOpen = false
			} else {
				if err := add(c); err != nil {
					return out, err
				}
				continue
			}
		} else if c == '"' {
			quoteOpen = true
			continue
		}
		switch c {
		case '"':
		case ' ', '\t', '\n':
			if len(param) == 0 {
				continue
			}
		default:
			if err := add(c); err != nil {
				return out, err
			}
			continue
		}
		out = append(out, string(param))
		param = param[:0]
	}
	if len(param) > 0 {
		out = append(out, string(param))
	}
	return out, nil
}
