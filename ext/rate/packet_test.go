package rate_test

import (
	"testing"
	"time"

	_ "github.com/iptwin/iptwin/ext"
	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/ext/rate"
	"github.com/iptwin/iptwin/nfacct"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

const v4, v6 = xtables.IPv4, xtables.IPv6

// host is a fake host that keeps the shared state of the rate extensions.
type host struct {
	kt.Env
	shared rate.Shared
	objs   map[objKey]any
	tz     int
}

type objKey struct{ kind, name string }

func (h *host) RateState() *rate.Shared { return &h.shared }
func (h *host) Lookup(kind, name string) (any, bool) {
	v, ok := h.objs[objKey{kind, name}]
	return v, ok
}
func (h *host) MinutesWest() int { return h.tz }

func udp(t testing.TB, src string, sport uint16) *packet.Packet {
	return kt.Build(t, kt.Pkt{Src: src, Dst: "10.9.9.9", Proto: 17, Sport: sport, Dport: 53, Payload: 72})
}

// run evaluates m on pk at the host's time and returns the outcome.
func run(m xtables.PacketMatcher, pk *packet.Packet, env xtables.Env) (bool, bool) {
	st := kt.State(v4, xtables.HookInput, pk, env)
	ok := m.MatchPacket(st)
	return ok, st.HotDrop
}

func TestLimitTokenBucket(t *testing.T) {
	env := &kt.Env{NowNs: 1000e9}
	m := kt.Match(t, v4, "-m", "limit", "--limit", "2/sec", "--limit-burst", "3")
	pk := udp(t, "10.0.0.1", 1)
	var got []bool
	for i := 0; i < 5; i++ {
		ok, _ := run(m, pk, env)
		got = append(got, ok)
	}
	want := []bool{true, true, true, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("burst: %v, want %v", got, want)
		}
	}
	// One token comes back every 500 ms: not at 499 ms, then at 500.
	env.NowNs += 499e6
	if ok, _ := run(m, pk, env); ok {
		t.Error("a token after 499 ms")
	}
	env.NowNs += 1e6
	if ok, _ := run(m, pk, env); !ok {
		t.Error("no token after 500 ms")
	}
	// A long pause refills the bucket to its burst only.
	env.NowNs += 3600e9
	n := 0
	for i := 0; i < 10; i++ {
		if ok, _ := run(m, pk, env); ok {
			n++
		}
	}
	if n != 3 {
		t.Errorf("after an hour %d packets pass, want the burst of 3", n)
	}
	// 3/hour: one per 20 minutes (the nft limit keeps rate and unit).
	m = kt.Match(t, v4, "-m", "limit", "--limit", "3/hour", "--limit-burst", "1")
	run(m, pk, env)
	env.NowNs += 1199e9
	if ok, _ := run(m, pk, env); ok {
		t.Error("3/hour passed a packet after 19:59")
	}
	env.NowNs += 1e9 + 1199e9 // the failed try took no token but moved the clock mark
	if ok, _ := run(m, pk, env); !ok {
		t.Error("3/hour kept a packet after 20 minutes without one")
	}
}

func TestHashlimitPackets(t *testing.T) {
	env := &kt.Env{NowNs: 50e9}
	m := kt.Match(t, v4, "-m", "hashlimit", "--hashlimit-upto", "2/sec", "--hashlimit-burst", "2",
		"--hashlimit-mode", "srcip", "--hashlimit-name", "t1")
	a, b := udp(t, "10.0.0.1", 1), udp(t, "10.0.0.2", 1)
	seq := func(pk *packet.Packet, n int) []bool {
		var r []bool
		for i := 0; i < n; i++ {
			ok, _ := run(m, pk, env)
			r = append(r, ok)
		}
		return r
	}
	if r := seq(a, 3); !r[0] || !r[1] || r[2] {
		t.Fatalf("source a: %v, want 2 of 3 under the limit", r)
	}
	if r := seq(b, 1); !r[0] {
		t.Fatal("source b shares a's bucket")
	}
	// One credit refill per 500 ms = 125 jiffies at HZ=250.
	env.NowNs += 496e6 // 124 jiffies
	if r := seq(a, 1); r[0] {
		t.Error("a passed after 124 jiffies")
	}
	env.NowNs += 4e6
	if r := seq(a, 1); !r[0] {
		t.Error("a kept after 125 jiffies")
	}
	// --hashlimit-above inverts.
	above := kt.Match(t, v4, "-m", "hashlimit", "--hashlimit-above", "1/min", "--hashlimit-burst", "1",
		"--hashlimit-mode", "srcip,dstport", "--hashlimit-name", "t2")
	if ok, _ := run(above, a, env); ok {
		t.Error("first packet above 1/min")
	}
	if ok, _ := run(above, a, env); !ok {
		t.Error("second packet not above 1/min")
	}
}

func TestHashlimitMasksAndTable(t *testing.T) {
	env := &kt.Env{NowNs: 50e9}
	m := kt.Match(t, v4, "-m", "hashlimit", "--hashlimit-upto", "1/hour", "--hashlimit-burst", "1",
		"--hashlimit-mode", "srcip", "--hashlimit-srcmask", "24", "--hashlimit-name", "m",
		"--hashlimit-htable-size", "2", "--hashlimit-htable-max", "2", "--hashlimit-htable-expire", "10000",
		"--hashlimit-htable-gcinterval", "1000")
	if ok, _ := run(m, udp(t, "10.0.0.1", 1), env); !ok {
		t.Fatal("first of 10.0.0.0/24 over")
	}
	if ok, _ := run(m, udp(t, "10.0.0.200", 1), env); ok {
		t.Error("10.0.0.200 has a bucket apart from 10.0.0.1 under /24")
	}
	run(m, udp(t, "10.0.1.1", 1), env)
	// The table is full (max 2): a third flow is dropped.
	if ok, drop := run(m, udp(t, "10.0.2.1", 1), env); ok || !drop {
		t.Errorf("third flow in a full table: match %v, hotdrop %v", ok, drop)
	}
	// Entries expire after 10 s and the next GC run frees them.
	env.NowNs += 11e9
	if ok, drop := run(m, udp(t, "10.0.2.1", 1), env); !ok || drop {
		t.Errorf("after expiry: match %v, hotdrop %v", ok, drop)
	}
}

func TestHashlimitBytesAndRateMatch(t *testing.T) {
	env := &kt.Env{NowNs: 50e9}
	// 1 kb/s: a 100-byte packet costs 7 chunks of 16 bytes; the bucket
	// holds one second's worth.
	m := kt.Match(t, v4, "-m", "hashlimit", "--hashlimit-upto", "1kb/s", "--hashlimit-mode", "srcip", "--hashlimit-name", "b")
	pk := udp(t, "10.0.0.1", 1) // 100 bytes
	n := 0
	for i := 0; i < 20; i++ {
		if ok, _ := run(m, pk, env); ok {
			n++
		}
	}
	if n < 9 || n > 11 {
		t.Errorf("1kb/s let %d packets of 100 bytes through at once", n)
	}
	// Rate match: over 2/sec in the previous second fails the next one.
	r := kt.Match(t, v4, "-m", "hashlimit", "--hashlimit-upto", "2/sec", "--hashlimit-mode", "srcip",
		"--hashlimit-name", "r", "--hashlimit-rate-match", "--hashlimit-rate-interval", "1",
		"--hashlimit-htable-expire", "10000")
	var got []bool
	for i := 0; i < 8; i++ {
		ok, _ := run(r, pk, env)
		got = append(got, ok)
	}
	env.NowNs += 1e9
	ok, _ := run(r, pk, env)
	got = append(got, ok)
	if got[0] != true || got[len(got)-1] != false {
		t.Errorf("rate match: %v", got)
	}
}

func TestRecentShared(t *testing.T) {
	h := &host{}
	h.NowNs = 100e9
	set := kt.Match(t, v4, "-m", "recent", "--set", "--name", "SSH")
	upd := kt.Match(t, v4, "-m", "recent", "--update", "--seconds", "60", "--hitcount", "4", "--name", "SSH")
	rm := kt.Match(t, v4, "-m", "recent", "--remove", "--name", "SSH")
	pk := kt.Build(t, kt.Pkt{Src: "198.51.100.7", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 22, Flags: packet.TCPSyn})
	// The classic brute-force guard: the 4th new connection in a minute
	// is caught.
	var got []bool
	for i := 0; i < 5; i++ {
		run(set, pk, h)
		ok, _ := run(upd, pk, h)
		got = append(got, ok)
		h.NowNs += 1e9
	}
	if want := []bool{false, false, false, true, true}; !eq(got, want) {
		t.Fatalf("update --hitcount 4: %v, want %v", got, want)
	}
	// After 60 s without hits the old stamps no longer count.
	h.NowNs += 61e9
	if ok, _ := run(upd, pk, h); ok {
		t.Error("stamps older than 60 s counted")
	}
	if ok, _ := run(rm, pk, h); !ok {
		t.Error("--remove of a known address")
	}
	if ok, _ := run(rm, pk, h); ok {
		t.Error("--remove of a removed address")
	}
	// Without a host registry each rule has a table of its own.
	alone := &kt.Env{NowNs: 1e9}
	chk := kt.Match(t, v4, "-m", "recent", "--rcheck", "--name", "SSH")
	run(set, pk, alone)
	if ok, _ := run(chk, pk, alone); ok {
		t.Error("rules share a table without the host's registry")
	}
}

func eq(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecentOptions(t *testing.T) {
	h := &host{}
	h.NowNs = 100e9
	set := kt.Match(t, v4, "-m", "recent", "--set", "--name", "D", "--rdest", "--mask", "255.255.255.0")
	chk := kt.Match(t, v4, "-m", "recent", "--rcheck", "--name", "D", "--rdest")
	nchk := kt.Match(t, v4, "-m", "recent", "!", "--rcheck", "--name", "D", "--rdest")
	ttl := kt.Match(t, v4, "-m", "recent", "--rcheck", "--name", "D", "--rdest", "--rttl")
	pk := kt.Build(t, kt.Pkt{Src: "1.1.1.1", Dst: "10.0.0.2", Proto: 17, Sport: 1, Dport: 2, TTL: 60})
	other := kt.Build(t, kt.Pkt{Src: "1.1.1.1", Dst: "10.0.0.77", Proto: 17, Sport: 1, Dport: 2, TTL: 61})
	far := kt.Build(t, kt.Pkt{Src: "1.1.1.1", Dst: "10.0.1.2", Proto: 17, Sport: 1, Dport: 2})
	if ok, _ := run(set, pk, h); !ok {
		t.Fatal("--set does not match")
	}
	if ok, _ := run(chk, other, h); !ok {
		t.Error("the table's /24 mask does not cover 10.0.0.77")
	}
	if ok, _ := run(nchk, far, h); !ok {
		t.Error("! --rcheck of an unknown network")
	}
	if ok, _ := run(ttl, other, h); ok {
		t.Error("--rttl matched another TTL")
	}
	if ok, _ := run(ttl, pk, h); !ok {
		t.Error("--rttl did not match the same TTL")
	}
	// Forwarded packets are seen with the TTL they had before
	// forwarding: one more.
	fwd := kt.Build(t, kt.Pkt{Src: "1.1.1.1", Dst: "10.0.0.77", Proto: 17, Sport: 1, Dport: 2, TTL: 59})
	st := kt.State(v4, xtables.HookForward, fwd, h)
	st.Out = "eth1"
	if !ttl.MatchPacket(st) {
		t.Error("--rttl in FORWARD: TTL 59 is 60 before forwarding")
	}
}

func TestRecentLRUAndReap(t *testing.T) {
	h := &host{}
	h.NowNs = 100e9
	set := kt.Match(t, v4, "-m", "recent", "--set", "--name", "L")
	chk := kt.Match(t, v4, "-m", "recent", "--rcheck", "--name", "L")
	reap := kt.Match(t, v4, "-m", "recent", "--rcheck", "--seconds", "5", "--reap", "--name", "L")
	src := func(i int) *packet.Packet {
		return kt.Build(t, kt.Pkt{Src: "10.1." + itoa(i/250) + "." + itoa(i%250+1), Dst: "10.0.0.2", Proto: 17, Sport: 1, Dport: 2})
	}
	first := src(0)
	for i := 0; i < 101; i++ {
		run(set, src(i), h)
	}
	if ok, _ := run(chk, first, h); ok {
		t.Error("101 addresses: the oldest should be gone (ip_list_tot 100)")
	}
	if ok, _ := run(chk, src(1), h); !ok {
		t.Error("the second oldest went too")
	}
	// --reap drops the oldest entry when its last hit is too old.
	h.NowNs += 10e9
	run(set, src(50), h) // src(1) stays the oldest
	run(reap, src(50), h)
	if ok, _ := run(chk, src(1), h); ok {
		t.Error("--reap kept the stale oldest entry")
	}
	if ok, _ := run(chk, src(2), h); !ok {
		t.Error("--reap removed more than the oldest entry")
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestQuota(t *testing.T) {
	m := kt.Match(t, v4, "-m", "quota", "--quota", "250")
	n := kt.Match(t, v4, "-m", "quota", "!", "--quota", "250")
	pk := udp(t, "10.0.0.1", 1) // 100 bytes
	env := &kt.Env{}
	var got, ngot []bool
	for i := 0; i < 4; i++ {
		ok, _ := run(m, pk, env)
		got = append(got, ok)
		ok, _ = run(n, pk, env)
		ngot = append(ngot, ok)
	}
	if !eq(got, []bool{true, true, false, false}) || !eq(ngot, []bool{false, false, true, true}) {
		t.Errorf("quota 250 of 100-byte packets: %v, inverted %v", got, ngot)
	}
	// Once a packet did not fit, a smaller one does not either.
	small := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17})
	if ok, _ := run(m, small, env); ok {
		t.Error("a small packet fit after the quota was spent")
	}
}

func TestStatistic(t *testing.T) {
	pk := udp(t, "10.0.0.1", 1)
	nth := kt.Match(t, v4, "-m", "statistic", "--mode", "nth", "--every", "3", "--packet", "1")
	env := &kt.Env{}
	var got []bool
	for i := 0; i < 7; i++ {
		ok, _ := run(nth, pk, env)
		got = append(got, ok)
	}
	// --packet 1 of 3: the 2nd, 5th ... (as the kernel does, see
	// TestKernelRecording).
	if !eq(got, []bool{false, true, false, false, true, false, false}) {
		t.Errorf("nth every 3 packet 1: %v", got)
	}
	first := kt.Match(t, v4, "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0")
	if ok, _ := run(first, pk, env); !ok {
		t.Error("--packet 0 misses the first packet")
	}
	// Random: get_random_u32() & 0x7fffffff < probability * 2^31.
	rnd := kt.Match(t, v4, "-m", "statistic", "--mode", "random", "--probability", "0.25")
	inv := kt.Match(t, v4, "-m", "statistic", "--mode", "random", "!", "--probability", "0.25")
	env.Rand = []uint32{0x1fffffff, 0x20000000, 0x9fffffff, 0xa0000000}
	got = got[:0]
	for i := 0; i < 4; i++ {
		ok, _ := run(rnd, pk, env)
		got = append(got, ok)
	}
	if !eq(got, []bool{true, false, true, false}) {
		t.Errorf("random 0.25: %v", got)
	}
	if ok, _ := run(inv, pk, env); ok { // draws 0x1fffffff again
		t.Error("inverted random matched a draw under the probability")
	}
}

// at is a Unix time in nanoseconds.
func at(s string) int64 {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return tm.UnixNano()
}

func TestTime(t *testing.T) {
	pk := udp(t, "10.0.0.1", 1)
	h := &host{}
	cases := []struct {
		args []string
		now  string
		tz   int
		want bool
	}{
		{[]string{"--timestart", "09:00", "--timestop", "17:00"}, "2024-03-05T12:00:00Z", 0, true},
		{[]string{"--timestart", "09:00", "--timestop", "17:00"}, "2024-03-05T17:00:00Z", 0, true},
		{[]string{"--timestart", "09:00", "--timestop", "17:00"}, "2024-03-05T17:00:01Z", 0, false},
		// Wrapping past midnight.
		{[]string{"--timestart", "22:00", "--timestop", "02:00"}, "2024-03-05T23:30:00Z", 0, true},
		{[]string{"--timestart", "22:00", "--timestop", "02:00"}, "2024-03-06T01:30:00Z", 0, true},
		{[]string{"--timestart", "22:00", "--timestop", "02:00"}, "2024-03-06T03:00:00Z", 0, false},
		// 2024-03-05 is a Tuesday; with --contiguous 01:30 Wednesday
		// counts as Tuesday.
		{[]string{"--timestart", "22:00", "--timestop", "02:00", "--weekdays", "Tue"}, "2024-03-06T01:30:00Z", 0, false},
		{[]string{"--timestart", "22:00", "--timestop", "02:00", "--weekdays", "Tue", "--contiguous"}, "2024-03-06T01:30:00Z", 0, true},
		{[]string{"--weekdays", "Sat,Sun"}, "2024-03-09T10:00:00Z", 0, true},
		{[]string{"!", "--weekdays", "Sat,Sun"}, "2024-03-09T10:00:00Z", 0, false},
		{[]string{"--monthdays", "29"}, "2024-02-29T10:00:00Z", 0, true},
		{[]string{"--monthdays", "1"}, "2023-03-01T00:00:00Z", 0, true},
		{[]string{"--datestart", "2024-01-01", "--datestop", "2024-06-30"}, "2024-07-01T00:00:00Z", 0, false},
		{[]string{"--datestart", "2024-01-01", "--datestop", "2024-06-30"}, "2024-06-29T23:00:00Z", 0, true},
		// --kerneltz moves the clock to the kernel's zone (minutes west).
		{[]string{"--timestart", "09:00", "--timestop", "10:00", "--kerneltz"}, "2024-03-05T08:30:00Z", -60, true},
		{[]string{"--timestart", "09:00", "--timestop", "10:00"}, "2024-03-05T08:30:00Z", -60, false},
	}
	for _, c := range cases {
		m := kt.Match(t, v4, append([]string{"-m", "time"}, c.args...)...)
		h.NowNs, h.tz = at(c.now), c.tz
		if ok, _ := run(m, pk, h); ok != c.want {
			t.Errorf("%v at %s: %v, want %v", c.args, c.now, ok, c.want)
		}
	}
}

func TestCPUDevgroupCgroup(t *testing.T) {
	pk := udp(t, "10.0.0.1", 1)
	env := &kt.Env{Groups: map[string]uint32{"eth1": 5}}
	for _, c := range []struct {
		args []string
		in   string
		out  string
		sock bool
		want bool
	}{
		{[]string{"-m", "cpu", "--cpu", "0"}, "", "", false, true},
		{[]string{"-m", "cpu", "--cpu", "1"}, "", "", false, false},
		{[]string{"-m", "cpu", "!", "--cpu", "1"}, "", "", false, true},
		{[]string{"-m", "devgroup", "--src-group", "5"}, "eth1", "", false, true},
		{[]string{"-m", "devgroup", "--src-group", "5"}, "eth0", "", false, false},
		{[]string{"-m", "devgroup", "!", "--src-group", "4/4"}, "eth1", "", false, false},
		{[]string{"-m", "devgroup", "--dst-group", "0"}, "", "eth0", false, true},
		{[]string{"-m", "cgroup", "--cgroup", "0"}, "", "eth0", true, true},
		{[]string{"-m", "cgroup", "--cgroup", "0"}, "", "eth0", false, false},
		{[]string{"-m", "cgroup", "!", "--cgroup", "1"}, "", "eth0", true, true},
		{[]string{"-m", "cgroup", "--path", "/"}, "", "eth0", true, true},
	} {
		m := kt.Match(t, v4, c.args...)
		st := kt.State(v4, xtables.HookForward, pk, env)
		st.In, st.Out, st.HasSock = c.in, c.out, c.sock
		if got := m.MatchPacket(st); got != c.want {
			t.Errorf("%v in %q out %q: %v, want %v", c.args, c.in, c.out, got, c.want)
		}
	}
}

func TestNFAcct(t *testing.T) {
	pk := udp(t, "10.0.0.1", 1) // 100 bytes
	plain := &nfacct.Object{Name: "a"}
	quota := &nfacct.Object{Name: "q", Flags: nfacct.QuotaBytes, Quota: 200}
	h := &host{objs: map[objKey]any{{"nfacct", "a"}: plain, {"nfacct", "q"}: quota}}
	a := kt.Match(t, v4, "-m", "nfacct", "--nfacct-name", "a")
	q := kt.Match(t, v4, "-m", "nfacct", "--nfacct-name", "q")
	if ok, _ := run(a, pk, h); !ok || plain.Pkts != 1 || plain.Bytes != 100 {
		t.Errorf("no quota: match %v, counters %d/%d", ok, plain.Pkts, plain.Bytes)
	}
	var got []bool
	for i := 0; i < 3; i++ {
		ok, _ := run(q, pk, h)
		got = append(got, ok)
	}
	if !eq(got, []bool{false, false, true}) || quota.Flags&nfacct.OverQuota == 0 {
		t.Errorf("quota 200 bytes: %v flags %#x", got, quota.Flags)
	}
}

func TestRateest(t *testing.T) {
	h := &host{}
	h.NowNs = 10e9
	tg := kt.Target(t, v4, "mangle", "-j", "RATEEST", "--rateest-name", "e", "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms")
	gt := kt.Match(t, v4, "-m", "rateest", "--rateest", "e", "--rateest-bps", "10kbit", "--rateest-gt")
	lt := kt.Match(t, v4, "-m", "rateest", "--rateest", "e", "--rateest-pps", "1", "--rateest-lt")
	pk := udp(t, "10.0.0.1", 1)
	tg.TargetPacket(kt.State(v4, xtables.HookPrerouting, pk, h))
	if ok, _ := run(lt, pk, h); !ok {
		t.Error("no estimate yet: pps 0 < 1")
	}
	// 20 packets of 100 bytes every 250 ms for 5 s: 8000 B/s, 80 pps.
	for i := 0; i < 20*20; i++ {
		h.NowNs += 250e6 / 20
		tg.TargetPacket(kt.State(v4, xtables.HookPrerouting, pk, h))
	}
	if ok, _ := run(gt, pk, h); !ok {
		t.Error("8000 B/s is not above 10 kbit (1250 B/s)")
	}
	if ok, _ := run(lt, pk, h); ok {
		t.Error("80 pps below 1")
	}
	// Ten quiet seconds later the average has decayed.
	h.NowNs += 10e9
	if ok, _ := run(gt, pk, h); ok {
		t.Error("the estimate did not decay")
	}
}
