package sim_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPMTUAgainstKernel: ping's lines through a router with a smaller
// MTU are Linux's (testdata/pmtu/kernel.txt, recorded by record.sh in
// namespaces): the first probe meets "Frag needed", the host learns the
// path MTU and fragments the next ones itself; with -M do they fail
// locally with that MTU. Times are left out of the comparison.
func TestPMTUAgainstKernel(t *testing.T) {
	want, err := os.ReadFile("testdata/pmtu/kernel.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := runFile(t, "testdata/pmtu/net.yaml", options(t, false))
	var got strings.Builder
	for _, s := range r.Steps {
		got.WriteString("$ " + strings.TrimPrefix(s.Command, "") + "\n")
		for _, l := range s.Output {
			got.WriteString(l + "\n")
		}
	}
	times := regexp.MustCompile(`time[= ][0-9.]+ ?ms|rtt min/avg/max/mdev = .*`)
	norm := func(s string) string { return times.ReplaceAllString(strings.TrimRight(s, "\n"), "T") }
	if g, w := norm(got.String()), norm(string(want)); g != w {
		t.Errorf("twin:\n%s\nkernel:\n%s", g, w)
	}
}
