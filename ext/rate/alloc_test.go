package rate_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/nfacct"
	"github.com/iptwin/iptwin/xtables"
)

// Every match evaluates a packet without allocating once its per-rule or
// per-host state exists (the first packet of a flow may make it).
func TestMatchPacketAllocs(t *testing.T) {
	h := &host{objs: map[objKey]any{{"nfacct", "a"}: &nfacct.Object{Name: "a"}}}
	h.NowNs = 77e9
	pk := udp(t, "10.0.0.1", 1)
	tg := kt.Target(t, v4, "mangle", "-j", "RATEEST", "--rateest-name", "e", "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms")
	for _, args := range [][]string{
		{"-m", "limit", "--limit", "5/sec"},
		{"-m", "hashlimit", "--hashlimit-upto", "5/sec", "--hashlimit-mode", "srcip,dstport", "--hashlimit-name", "a"},
		{"-m", "hashlimit", "--hashlimit-upto", "5kb/s", "--hashlimit-name", "b"},
		{"-m", "hashlimit", "--hashlimit-upto", "5/sec", "--hashlimit-name", "c", "--hashlimit-rate-match"},
		{"-m", "recent", "--update", "--seconds", "10", "--hitcount", "3", "--name", "r"},
		{"-m", "recent", "--set", "--name", "r"},
		{"-m", "quota", "--quota", "1000000"},
		{"-m", "statistic", "--mode", "nth", "--every", "3", "--packet", "0"},
		{"-m", "statistic", "--mode", "random", "--probability", "0.5"},
		{"-m", "time", "--timestart", "01:00", "--monthdays", "3", "--kerneltz"},
		{"-m", "cpu", "--cpu", "0"},
		{"-m", "devgroup", "--src-group", "1"},
		{"-m", "cgroup", "--cgroup", "1"},
		{"-m", "nfacct", "--nfacct-name", "a"},
		{"-m", "rateest", "--rateest", "e", "--rateest-bps", "1kbit", "--rateest-gt"},
	} {
		m := kt.Match(t, v4, args...)
		st := kt.State(v4, xtables.HookInput, pk, h)
		m.MatchPacket(st)
		tg.TargetPacket(st)
		if n := testing.AllocsPerRun(100, func() {
			h.NowNs += 1e6
			m.MatchPacket(st)
		}); n != 0 {
			t.Errorf("%v: %v allocations per packet", args, n)
		}
	}
	st := kt.State(v4, xtables.HookInput, pk, h)
	if n := testing.AllocsPerRun(100, func() { tg.TargetPacket(st) }); n != 0 {
		t.Errorf("RATEEST: %v allocations per packet", n)
	}
}
