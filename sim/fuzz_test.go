package sim

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse: no topology file makes the parser panic; every error it
// returns names the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/basic.yaml", "testdata/v6.yaml", "../examples/sim-seed003/network.yaml"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("hosts:\n  a: {interfaces: {eth0: 10.0.0.1/24}}\nsteps:\n  - a: ping -c 1 10.0.0.1\n    expect: [{counter: {host: a, chain: INPUT, packets: 1}}]\n"))
	f.Add([]byte("hosts: &x\n  a: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("f.yaml", data)
		if err != nil && len(err.Error()) < len("f.yaml") {
			t.Fatalf("error without the file: %v", err)
		}
	})
}

// FuzzSplitWords: the command splitter never panics and splits a joined
// list of plain words back into them.
func FuzzSplitWords(f *testing.F) {
	f.Add(`iptables -A INPUT -j LOG --log-prefix "[raw/PREROUTING] "`)
	f.Add(`a 'b c' "d \" e" f\ g # h`)
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err != nil {
			return
		}
		redirect(words)
		plain := true
		for _, c := range []byte(s) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '.') {
				plain = false
				break
			}
		}
		if plain && strings.Join(words, "|") != strings.Join(strings.Fields(s), "|") {
			t.Fatalf("%q split into %q", s, words)
		}
	})
}
