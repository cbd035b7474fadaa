package ctmatch_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/xtables"
)

// TestKernelCluster finds the node the real kernel's cluster match chose
// for a source (testdata/kernel-cluster.txt, recorded by
// ext/rate/testdata/measure.sh): a check of jhash and reciprocal_scale.
func TestKernelCluster(t *testing.T) {
	data, err := os.ReadFile("testdata/kernel-cluster.txt")
	if err != nil {
		t.Skipf("no recording: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var src, nodes, seed, node string
		fmt.Sscan(l, new(string), &src, &nodes, &seed, &node)
		n := strings.TrimPrefix(nodes, "nodes=")
		f, dst := v4, "10.77.0.2"
		if strings.Contains(src, ":") {
			f, dst = v6, "fd77::2"
		}
		c := kt.Flow(17, src, 5006, dst, 9)
		pk := kt.Build(t, kt.Pkt{Src: src, Dst: dst, Proto: 17, Sport: 5006, Dport: 9})
		found := ""
		for i := 1; i <= 7; i++ {
			if fmt.Sprint(i) > n {
				break
			}
			m := kt.Match(t, f, "-m", "cluster", "--cluster-total-nodes", n, "--cluster-local-node", fmt.Sprint(i), "--cluster-hash-seed", strings.TrimPrefix(seed, "seed="))
			st := kt.State(f, xtables.HookInput, pk, &kt.Env{})
			st.Ct = c
			if m.MatchPacket(st) {
				found = fmt.Sprintf("node=%d", i)
			}
		}
		if found != node {
			t.Errorf("%s: model %s", l, found)
		}
	}
}
