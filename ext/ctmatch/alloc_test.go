package ctmatch_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/xtables"
)

// Every match evaluates a packet without allocating (after the first
// packet of a flow, which may create per-rule state).
func TestMatchPacketAllocs(t *testing.T) {
	pk := tcp4(t)
	env := &kt.Env{NowNs: 1e9}
	c := kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 22)
	c.HelperName = "ftp"
	env.AddConn(c)
	for _, args := range [][]string{
		{"-m", "conntrack", "--ctstate", "NEW", "--ctorigsrc", "10.0.0.0/8", "--ctorigdstport", "22", "--ctstatus", "CONFIRMED", "--ctexpire", "0:10", "--ctdir", "ORIGINAL"},
		{"-m", "state", "--state", "NEW"},
		{"-m", "mark", "--mark", "1/1"},
		{"-m", "connmark", "--mark", "1/1"},
		{"-m", "connbytes", "--connbytes", "10", "--connbytes-dir", "both", "--connbytes-mode", "avgpkt"},
		{"-m", "connlabel", "--label", "3", "--set"},
		{"-m", "connlimit", "--connlimit-above", "2"},
		{"-m", "helper", "--helper", "ftp"},
		{"-m", "policy", "--dir", "in", "--pol", "none"},
		{"-m", "socket"},
		{"-m", "cluster", "--cluster-total-nodes", "2", "--cluster-local-node", "1", "--cluster-hash-seed", "1"},
		{"-m", "ipvs", "--vaddr", "1.2.3.4"},
	} {
		m := kt.Match(t, v4, args...)
		st := kt.State(v4, xtables.HookInput, pk, env)
		st.Ct, st.CtInfo = c, xtables.CtNew
		m.MatchPacket(st)
		if n := testing.AllocsPerRun(100, func() { m.MatchPacket(st) }); n != 0 {
			t.Errorf("%v: %v allocations per packet", args, n)
		}
	}
}
