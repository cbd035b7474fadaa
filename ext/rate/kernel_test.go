package rate_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// TestKernelRecording replays through the model what testdata/measure.sh
// recorded of the real kernel (statistic, recent, limit, hashlimit,
// quota), producing the same lines.
func TestKernelRecording(t *testing.T) {
	data, err := os.ReadFile("testdata/kernel-rate.txt")
	if err != nil {
		t.Skipf("no recording: %v (run testdata/measure.sh as root)", err)
	}
	env := &kt.Env{NowNs: 1e12}
	pk := udp(t, "10.77.0.1", 5000)
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	bits := func(n int, f func() bool) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			if f() {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		return b.String()
	}
	// count sends n packets back to back (50 µs apart) and counts matches.
	count := func(m xtables.PacketMatcher, p *packet.Packet, n int) int {
		c := 0
		for i := 0; i < n; i++ {
			if ok, _ := run(m, p, env); ok {
				c++
			}
			env.NowNs += 50e3
		}
		return c
	}
	for p := 0; p < 3; p++ {
		m := kt.Match(t, v4, "-m", "statistic", "--mode", "nth", "--every", "3", "--packet", fmt.Sprint(p))
		add("nth every=3 packet=%d %s", p, bits(7, func() bool { ok, _ := run(m, pk, env); return ok }))
	}
	h := &host{}
	h.NowNs = 1e12
	set := kt.Match(t, v4, "-m", "recent", "--set", "--name", "m2")
	upd := kt.Match(t, v4, "-m", "recent", "--update", "--seconds", "60", "--hitcount", "3", "--name", "m2")
	add("recent set+update hitcount=3 %s", bits(6, func() bool {
		run(set, pk, h)
		ok, _ := run(upd, pk, h)
		h.NowNs += 1e6
		return ok
	}))
	lim := kt.Match(t, v4, "-m", "limit", "--limit", "2/sec", "--limit-burst", "3")
	a := count(lim, pk, 10)
	env.NowNs += 600e6
	add("limit 2/sec burst=3 burst-of-10=%d after-600ms=%d", a, a+count(lim, pk, 1))
	hl := kt.Match(t, v4, "-m", "hashlimit", "--hashlimit-upto", "2/sec", "--hashlimit-burst", "2", "--hashlimit-mode", "srcport", "--hashlimit-name", "m2")
	p1, p2 := udp(t, "10.77.0.1", 5003), udp(t, "10.77.0.1", 5004)
	a = count(hl, p1, 6) + count(hl, p2, 6)
	env.NowNs += 600e6
	add("hashlimit 2/sec burst=2 mode=srcport two-bursts-of-6=%d after-600ms=%d", a, a+count(hl, p1, 1))
	q := kt.Match(t, v4, "-m", "quota", "--quota", "250")
	add("quota 250 of-4x100=%d", count(q, pk, 4))

	var want []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("model:\n%s\nkernel:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
