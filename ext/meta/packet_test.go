package meta_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/ipset"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

var noNames = names.New(names.Files{})

func ip4(src, dst string, proto byte, payload []byte, frag uint16) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[6:], frag)
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], packet.Checksum(b, 0))
	return append(b, payload...)
}

func ip6(src, dst string, nh byte, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0], b[6], b[7] = 0x60, nh, 64
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

func tcp(sport, dport uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12], b[13] = 0x50, 2
	return b
}

var (
	macHost  = []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	macBcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 0}
	macMcast = []byte{1, 0, 0x5e, 0, 0, 5, 2, 0, 0, 0, 0, 1, 8, 0}
)

// testEnv is a host with 10.0.0.2/24 and fd00::2/64 on eth0, a route to
// 10.1.0.0/16 through eth1, and some ip sets.
type testEnv struct {
	sets *ipset.Host
}

func newTestEnv(t testing.TB, cmds ...string) *testEnv {
	e := &testEnv{sets: ipset.NewHost()}
	e.sets.Now = func() int64 { return 1000 }
	for _, c := range cmds {
		var out, errb bytes.Buffer
		if code, _ := e.sets.Run(strings.Fields(c), nil, &out, &errb); code != 0 {
			t.Fatalf("ipset %s: %s", c, errb.String())
		}
	}
	return e
}

func (e *testEnv) Now() int64     { return 1000 * 1e9 }
func (e *testEnv) Random() uint32 { return 1 }
func (e *testEnv) AddrType(a netip.Addr, dev string) int {
	switch {
	case a.IsMulticast():
		return xtables.RTNMulticast
	case a == netip.MustParseAddr("10.0.0.255"), a == netip.MustParseAddr("255.255.255.255"):
		return xtables.RTNBroadcast
	case a == netip.MustParseAddr("10.0.0.2"), a == netip.MustParseAddr("fd00::2"):
		if dev == "" || dev == "eth0" {
			return xtables.RTNLocal
		}
	case a == netip.MustParseAddr("fd00::dead"):
		return xtables.RTNUnreachable
	}
	return xtables.RTNUnicast
}
func (e *testEnv) ReverseRoute(dst, src netip.Addr, oif string, mark uint32) (int, string, bool) {
	dev := ""
	switch {
	case netip.MustParsePrefix("10.0.0.0/24").Contains(dst), netip.MustParsePrefix("fd00::/64").Contains(dst):
		dev = "eth0"
	case netip.MustParsePrefix("10.1.0.0/16").Contains(dst), mark == 7:
		dev = "eth1"
	default:
		return 0, "", false
	}
	if oif != "" && oif != dev {
		return 0, "", false
	}
	return xtables.RTNUnicast, dev, true
}
func (e *testEnv) Log(*xtables.PacketState, xtables.LogRequest)    {}
func (e *testEnv) Reject(*xtables.PacketState, xtables.RejectType) {}
func (e *testEnv) Lookup(kind, name string) (any, bool) {
	if s := e.sets.Set(name); kind == "ipset" && s != nil {
		return s, true
	}
	return nil, false
}

func parse(t testing.TB, f xtables.Family, chain, spec string) *xtables.Rule {
	t.Helper()
	args, err := iptables.SplitParams(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := iptables.Parse(append([]string{"-A", chain}, args...), iptables.ParseOptions{Family: f, Names: noNames})
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return cmd.Rules[0]
}

func matches(t testing.TB, r *xtables.Rule, st *xtables.PacketState) string {
	for _, m := range r.Matches {
		pm, ok := m.Info.(xtables.PacketMatcher)
		if !ok {
			t.Fatalf("%s has no packet semantics", m.Type.Name)
		}
		ok = pm.MatchPacket(st)
		if st.HotDrop {
			return "drop"
		}
		if !ok {
			return "nomatch"
		}
	}
	return "match"
}

type pktCase struct {
	f     xtables.Family
	chain string
	spec  string
	pkt   []byte
	mac   []byte
	in    string
	sock  bool
	uid   uint32
	want  string
}

var in4 = ip4("10.0.0.1", "10.0.0.2", 6, tcp(1000, 22), 0)

var metaCases = []pktCase{
	{xtables.IPv4, "INPUT", "-m comment --comment hi", in4, nil, "eth0", false, 0, "match"},
	// mac: the frame's source; none without a frame
	{xtables.IPv4, "INPUT", "-m mac --mac-source 02:00:00:00:00:01", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m mac ! --mac-source 02:00:00:00:00:01", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m mac ! --mac-source 02:00:00:00:00:09", in4, nil, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m mac ! --mac-source 02:00:00:00:00:09", in4, macHost, "lo", false, 0, "nomatch"},
	// pkttype: from the destination MAC; looped-back copies without one
	{xtables.IPv4, "INPUT", "-m pkttype --pkt-type unicast", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m pkttype --pkt-type broadcast", ip4("10.0.0.1", "10.0.0.255", 17, tcp(1, 2)[:8], 0), macBcast, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m pkttype ! --pkt-type multicast", ip4("10.0.0.1", "224.0.0.5", 17, tcp(1, 2)[:8], 0), macMcast, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m pkttype --pkt-type broadcast", ip4("10.0.0.2", "10.0.0.255", 17, tcp(1, 2)[:8], 0), nil, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m pkttype --pkt-type multicast", ip4("10.0.0.2", "224.0.0.5", 17, tcp(1, 2)[:8], 0), nil, "eth0", false, 0, "match"},
	{xtables.IPv6, "INPUT", "-m pkttype --pkt-type multicast", ip6("fd00::2", "ff02::1", 17, tcp(1, 2)[:8]), nil, "eth0", false, 0, "match"},
	{xtables.IPv4, "OUTPUT", "-m pkttype --pkt-type unicast", ip4("10.0.0.2", "224.0.0.5", 17, tcp(1, 2)[:8], 0), nil, "", false, 0, "match"},
	// physdev: no bridges, so only all-inverted options match
	{xtables.IPv4, "INPUT", "-m physdev --physdev-in eth0", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m physdev ! --physdev-in eth0 ! --physdev-is-bridged", in4, macHost, "eth0", false, 0, "match"},
	// owner: the local socket's uid/gid; no socket: all inverted or fail
	{xtables.IPv4, "OUTPUT", "-m owner --uid-owner 1000", in4, nil, "", true, 1000, "match"},
	{xtables.IPv4, "OUTPUT", "-m owner --uid-owner 0-999", in4, nil, "", true, 1000, "nomatch"},
	{xtables.IPv4, "OUTPUT", "-m owner ! --uid-owner 1000", in4, nil, "", true, 1000, "nomatch"},
	{xtables.IPv4, "OUTPUT", "-m owner --gid-owner 1000", in4, nil, "", true, 1000, "match"},
	{xtables.IPv4, "OUTPUT", "-m owner --socket-exists", in4, nil, "", true, 1000, "match"},
	{xtables.IPv4, "OUTPUT", "-m owner ! --socket-exists", in4, nil, "", true, 1000, "nomatch"},
	{xtables.IPv4, "OUTPUT", "-m owner ! --socket-exists", in4, nil, "", false, 0, "match"},
	{xtables.IPv4, "OUTPUT", "-m owner --uid-owner 0", in4, nil, "", false, 0, "nomatch"},
	{xtables.IPv4, "OUTPUT", "-m owner ! --uid-owner 0", in4, nil, "", false, 0, "match"},
	{xtables.IPv4, "OUTPUT", "-m owner ! --uid-owner 0 --gid-owner 0", in4, nil, "", false, 0, "nomatch"},
	{xtables.IPv4, "OUTPUT", "-m owner ! --gid-owner 0 --suppl-groups", in4, nil, "", false, 0, "nomatch"},
	// addrtype
	{xtables.IPv4, "INPUT", "-m addrtype --dst-type LOCAL", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m addrtype --dst-type LOCAL --limit-iface-in", in4, macHost, "eth1", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv6, "INPUT", "-m addrtype --dst-type LOCAL", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "match"},
	{xtables.IPv6, "INPUT", "-m addrtype --dst-type UNICAST,LOCAL", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "match"},
	{xtables.IPv6, "INPUT", "-m addrtype --dst-type MULTICAST,LOCAL", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv6, "INPUT", "-m addrtype --src-type UNICAST", ip6("::ffff:10.0.0.1", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv6, "INPUT", "-m addrtype --src-type UNSPEC", ip6("::", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "match"},
	{xtables.IPv6, "FORWARD", "-m addrtype --dst-type UNREACHABLE", ip6("fd00::1", "fd00::dead", 6, tcp(1, 2)), macHost, "eth0", false, 0, "match"},
	// rpfilter
	{xtables.IPv4, "PREROUTING", "-m rpfilter", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "PREROUTING", "-m rpfilter", in4, macHost, "eth1", false, 0, "nomatch"},
	{xtables.IPv4, "PREROUTING", "-m rpfilter --loose", in4, macHost, "eth1", false, 0, "match"},
	{xtables.IPv4, "PREROUTING", "-m rpfilter --invert", ip4("10.9.0.1", "10.0.0.2", 6, tcp(1, 2), 0), macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "PREROUTING", "-m rpfilter", ip4("0.0.0.0", "255.255.255.255", 17, tcp(68, 67)[:8], 0), macBcast, "eth0", false, 0, "match"},
	{xtables.IPv4, "PREROUTING", "-m rpfilter --invert", in4, macHost, "lo", false, 0, "nomatch"},
	{xtables.IPv6, "PREROUTING", "-m rpfilter", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "match"},
	{xtables.IPv6, "PREROUTING", "-m rpfilter", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth1", false, 0, "nomatch"},
	{xtables.IPv6, "PREROUTING", "-m rpfilter --loose", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth1", false, 0, "match"},
	{xtables.IPv6, "PREROUTING", "-m rpfilter", ip6("::", "ff02::1", 58, tcp(1, 2)[:8]), macMcast, "eth1", false, 0, "match"},
	// set: element from the packet, per dimension side
	{xtables.IPv4, "INPUT", "-m set --match-set a src", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set ! --match-set a src", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set a dst", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set a src,dst", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set ap dst,dst", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set ap dst,src", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set ap dst", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set ap dst,dst", ip4("10.0.0.1", "10.0.0.2", 6, tcp(1000, 22)[:8], 0x10), macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set n src", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set n src --return-nomatch", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set n dst", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set n dst --return-nomatch", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set i src,src", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set i src,dst", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set l src", in4, macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set l dst", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set --match-set six src", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv6, "INPUT", "-m set --match-set six src", ip6("fd00::1", "fd00::2", 6, tcp(1, 2)), macHost, "eth0", false, 0, "match"},
	{xtables.IPv4, "INPUT", "-m set --match-set nosuch src", in4, macHost, "eth0", false, 0, "nomatch"},
	{xtables.IPv4, "INPUT", "-m set ! --match-set nosuch src", in4, macHost, "eth0", false, 0, "match"},
}

var setCmds = []string{
	"create a hash:ip", "add a 10.0.0.1",
	"create ap hash:ip,port", "add ap 10.0.0.2,tcp:22",
	"create n hash:net", "add n 10.0.0.0/24", "add n 10.0.0.1 nomatch",
	"create i hash:net,iface", "add i 10.0.0.0/8,eth0",
	"create l list:set", "add l ap", "add l a",
	"create six hash:ip family inet6", "add six fd00::1",
}

func caseState(e *testEnv, c *pktCase) *xtables.PacketState {
	p := new(packet.Packet)
	p.Decode(c.pkt)
	p.Data = c.pkt
	hook := map[string]int{"PREROUTING": xtables.HookPrerouting, "INPUT": xtables.HookInput, "FORWARD": xtables.HookForward,
		"OUTPUT": xtables.HookOutput}[c.chain]
	return &xtables.PacketState{Family: c.f, Hook: hook, Pkt: p, In: c.in, MAC: c.mac,
		FragOff: xtables.FragOffset(&p.Headers), HasSock: c.sock, UID: c.uid, GID: c.uid, Mark: 7, Env: e}
}

func TestMatchPacket(t *testing.T) {
	e := newTestEnv(t, setCmds...)
	for i := range metaCases {
		c := &metaCases[i]
		r := parse(t, c.f, c.chain, c.spec)
		if got := matches(t, r, caseState(e, c)); got != c.want {
			t.Errorf("%v %s %s in %q: %s, want %s", c.f, c.chain, c.spec, c.in, got, c.want)
		}
	}
}

func TestMatchPacketAllocs(t *testing.T) {
	e := newTestEnv(t, setCmds...)
	type prepared struct {
		r  *xtables.Rule
		st *xtables.PacketState
	}
	var ps []prepared
	for i := range metaCases {
		c := &metaCases[i]
		ps = append(ps, prepared{parse(t, c.f, c.chain, c.spec), caseState(e, c)})
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, p := range ps {
			p.st.HotDrop = false
			matches(t, p.r, p.st)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run of %d cases", allocs, len(ps))
	}
}

// The set match counts packets in a set with counters, and compares the
// counts when asked.
func TestSetCounters(t *testing.T) {
	e := newTestEnv(t, "create c hash:ip counters", "add c 10.0.0.1")
	c := &pktCase{f: xtables.IPv4, chain: "INPUT", pkt: in4, mac: macHost, in: "eth0"}
	count := parse(t, xtables.IPv4, "INPUT", "-m set --match-set c src")
	noCount := parse(t, xtables.IPv4, "INPUT", "-m set --match-set c src ! --update-counters")
	under3 := parse(t, xtables.IPv4, "INPUT", "-m set --match-set c src --packets-lt 3")
	for i, want := range []string{"match", "match"} {
		if got := matches(t, count, caseState(e, c)); got != want {
			t.Fatalf("packet %d: %s", i, got)
		}
	}
	matches(t, noCount, caseState(e, c))
	if s := e.sets.Set("c"); s.Entries[0].Packets != 2 || s.Entries[0].Bytes != 80 {
		t.Fatalf("counters %d/%d, want 2/80", s.Entries[0].Packets, s.Entries[0].Bytes)
	}
	// The count is updated, then compared: 3 is not under 3.
	if got := matches(t, under3, caseState(e, c)); got != "nomatch" {
		t.Errorf("--packets-lt 3 at the third packet: %s", got)
	}
}

// The SET target adds and deletes the packet's element and maps an
// element's mark.
func TestSetTarget(t *testing.T) {
	e := newTestEnv(t, "create seen hash:ip,port timeout 60", "create gone hash:ip", "add gone 10.0.0.1",
		"create marks hash:ip skbinfo", "add marks 10.0.0.1 skbmark 0x5/0xf")
	c := &pktCase{f: xtables.IPv4, chain: "INPUT", pkt: in4, mac: macHost, in: "eth0"}
	r := parse(t, xtables.IPv4, "INPUT", "-j SET --add-set seen src,dst --timeout 10 --del-set gone src")
	tg := r.Target.Info.(xtables.PacketTargeter)
	st := caseState(e, c)
	if v := tg.TargetPacket(st); v != xtables.VerdictCodeContinue {
		t.Fatalf("verdict %v", v)
	}
	seen := e.sets.Set("seen")
	if len(seen.Entries) != 1 || seen.Entries[0].Comps[0].Addr != netip.MustParseAddr("10.0.0.1") ||
		seen.Entries[0].Comps[1].Port != 22 || seen.Entries[0].Expires != 1010 {
		t.Errorf("seen: %+v", seen.Entries)
	}
	if n := len(e.sets.Set("gone").Entries); n != 0 {
		t.Errorf("gone has %d elements", n)
	}
	// Again: the element exists, and without --exist stays as it was.
	tg.TargetPacket(st)
	if len(seen.Entries) != 1 {
		t.Errorf("seen has %d elements", len(seen.Entries))
	}
	mangle := parse(t, xtables.IPv4, "PREROUTING", "-t mangle -j SET --map-set marks src --map-mark")
	st.Mark = 0x32
	mangle.Target.Info.(xtables.PacketTargeter).TargetPacket(st)
	if st.Mark != 0x35 {
		t.Errorf("mark %#x, want 0x35", st.Mark)
	}
}

func BenchmarkSetMatch(b *testing.B) {
	e := newTestEnv(b, setCmds...)
	r := parse(b, xtables.IPv4, "INPUT", "-m set --match-set ap dst,dst")
	st := caseState(e, &pktCase{f: xtables.IPv4, chain: "INPUT", pkt: in4, mac: macHost, in: "eth0"})
	m := r.Matches[0].Info.(xtables.PacketMatcher)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.MatchPacket(st)
	}
}
