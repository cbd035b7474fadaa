package ctmatch_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/xtables"
)

// BenchmarkMatchPacket: per-packet cost of matches, against a bare
// mark comparison as the baseline.
func BenchmarkMatchPacket(b *testing.B) {
	pk := kt.Build(b, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 22})
	env := &kt.Env{NowNs: 1e9}
	c := kt.Flow(6, "10.0.0.1", 1, "10.0.0.2", 22)
	c.St = xtables.IPSAssured
	env.AddConn(c)
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"mark", []string{"-m", "mark", "--mark", "1"}},
		{"state", []string{"-m", "state", "--state", "ESTABLISHED,RELATED"}},
		{"conntrack-full", []string{"-m", "conntrack", "--ctstate", "ESTABLISHED", "--ctorigsrc", "10.0.0.0/8", "--ctorigdstport", "22", "--ctstatus", "ASSURED"}},
		{"connlimit", []string{"-m", "connlimit", "--connlimit-above", "10"}},
	} {
		m := kt.Match(b, xtables.IPv4, bc.args...)
		st := kt.State(xtables.IPv4, xtables.HookInput, pk, env)
		st.Ct, st.CtInfo = c, xtables.CtEstablished
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m.MatchPacket(st)
			}
		})
	}
}
