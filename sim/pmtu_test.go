package sim_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAgainstKernel runs networks whose applications' lines were
// recorded from Linux in namespaces (testdata/DIR/kernel.txt, made by
// DIR/record.sh as root) and compares, times left out:
//
//   - pmtu: through a router with a smaller MTU the first probe meets
//     "Frag needed" / "Packet too big", the host learns the path MTU and
//     fragments the next ones itself; with -M do they fail locally.
//   - internet-kernel: an `internet: true` host (AnyIP) answers pings to
//     any address, connects a listened port, refuses another, and still
//     forwards to the network it has a route for.
func TestAgainstKernel(t *testing.T) {
	times := regexp.MustCompile(`time[= ][0-9.]+ ?ms|rtt min/avg/max/mdev = .*`)
	norm := func(s string) string { return times.ReplaceAllString(strings.TrimRight(s, "\n"), "T") }
	for _, dir := range []string{"pmtu", "internet-kernel"} {
		t.Run(dir, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", dir, "kernel.txt"))
			if err != nil {
				t.Fatal(err)
			}
			r := runFile(t, filepath.Join("testdata", dir, "net.yaml"), options(t, false))
			var got strings.Builder
			for _, s := range r.Steps {
				got.WriteString("$ " + s.Command + "\n")
				for _, l := range s.Output {
					got.WriteString(l + "\n")
				}
			}
			if g, w := norm(got.String()), norm(string(want)); g != w {
				t.Errorf("twin:\n%s\nkernel:\n%s", g, w)
			}
		})
	}
}
