package rate_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// FuzzMatches runs the stateful matches over arbitrary packets and clock
// steps: no panic.
func FuzzMatches(f *testing.F) {
	f.Add(append([]byte(nil), udp(f, "10.0.0.1", 7).Data...), int64(1e6))
	f.Add(append([]byte(nil), kt.Build(f, kt.Pkt{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 50, Payload: 8}).Data...), int64(3e9))
	var ms []xtables.PacketMatcher
	var fams []xtables.Family
	for _, c := range []struct {
		f    xtables.Family
		args []string
	}{
		{v4, []string{"-m", "hashlimit", "--hashlimit-upto", "3/sec", "--hashlimit-mode", "srcip,srcport,dstport", "--hashlimit-name", "f", "--hashlimit-srcmask", "13"}},
		{v6, []string{"-m", "hashlimit", "--hashlimit-above", "3kb/s", "--hashlimit-mode", "dstip,dstport", "--hashlimit-name", "f", "--hashlimit-dstmask", "71"}},
		{v4, []string{"-m", "recent", "--update", "--seconds", "2", "--hitcount", "2", "--reap", "--name", "f"}},
		{v6, []string{"-m", "recent", "--set", "--rdest", "--name", "f"}},
		{v4, []string{"-m", "limit", "--limit", "7/min"}},
		{v4, []string{"-m", "time", "--timestart", "23:00", "--timestop", "01:00", "--contiguous", "--weekdays", "Mon"}},
	} {
		ms = append(ms, kt.Match(f, c.f, c.args...))
		fams = append(fams, c.f)
	}
	h := &host{}
	f.Fuzz(func(t *testing.T, b []byte, step int64) {
		var p packet.Packet
		if p.Decode(b) != nil {
			return
		}
		h.NowNs += step
		for i, m := range ms {
			if fams[i] == v4 != p.IsIPv4() {
				continue
			}
			m.MatchPacket(kt.State(fams[i], xtables.HookInput, &p, h))
		}
	})
}
