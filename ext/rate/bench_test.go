package rate_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/xtables"
)

// BenchmarkMatchPacket: per-packet cost of the stateful matches against
// the stateless cpu match as the baseline.
func BenchmarkMatchPacket(b *testing.B) {
	h := &host{}
	h.NowNs = 1e12
	pk := udp(b, "10.0.0.1", 1)
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"cpu", []string{"-m", "cpu", "--cpu", "0"}},
		{"limit", []string{"-m", "limit", "--limit", "1000/sec"}},
		{"hashlimit", []string{"-m", "hashlimit", "--hashlimit-upto", "1000/sec", "--hashlimit-mode", "srcip,dstport", "--hashlimit-name", "b"}},
		{"recent-update", []string{"-m", "recent", "--update", "--seconds", "60", "--hitcount", "5", "--name", "b"}},
		{"time", []string{"-m", "time", "--timestart", "08:00", "--timestop", "18:00", "--weekdays", "Mon,Tue"}},
	} {
		m := kt.Match(b, xtables.IPv4, bc.args...)
		st := kt.State(xtables.IPv4, xtables.HookInput, pk, h)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h.NowNs += 1000
				m.MatchPacket(st)
			}
		})
	}
}
