package nat_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/nat"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/xtables"
)

const sec = int64(1e9)

func pkt(t testing.TB, spec string) *packet.Packet {
	t.Helper()
	b, err := pktspec.MustParse(spec).Append(nil)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	p := new(packet.Packet)
	if err := p.Decode(b); err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return p
}

// gw is a NAT gateway: packets from 10.0.0.0/8 leave SNATed (to snat),
// everything is forwarded, NAT PREROUTING has null bindings.
type gw struct {
	t    *testing.T
	tbl  *conntrack.Table
	now  int64
	snat xtables.NATRange
	rnd  []uint32
}

func newGW(t *testing.T, snat xtables.NATRange) *gw {
	return &gw{t: t, tbl: conntrack.New(conntrack.DefaultConfig(), 5), now: 100 * sec, snat: snat}
}

func (g *gw) random() uint32 {
	if len(g.rnd) == 0 {
		return 0
	}
	v := g.rnd[0]
	g.rnd = g.rnd[1:]
	return v
}

func one(a string) xtables.NATRange {
	ip := netip.MustParseAddr(a)
	return xtables.NATRange{Flags: xtables.NATRangeMapIPs, MinAddr: ip, MaxAddr: ip}
}

// forward takes a packet through PREROUTING and POSTROUTING and returns
// the packet as it leaves (nil when dropped) and its entry.
func (g *gw) forward(spec string) (*packet.Packet, *conntrack.Conn) {
	g.t.Helper()
	p := pkt(g.t, spec)
	c, info, v := g.tbl.In(p, 0, g.now)
	if v != conntrack.Accept || c == nil {
		return nil, nil
	}
	for _, hook := range []int{xtables.HookPrerouting, xtables.HookPostrouting} {
		m := nat.ManipOf(hook)
		if info == xtables.CtNew && !nat.Initialized(c, m) {
			var err error
			if hook == xtables.HookPostrouting && g.snat.Flags != 0 && netip.MustParsePrefix("10.0.0.0/8").Contains(p.Src()) {
				err = nat.Setup(g.tbl, c, m, g.snat, g.random)
			} else {
				err = nat.NullBinding(g.tbl, c, hook, g.random)
			}
			if err != nil {
				g.t.Fatal(err)
			}
		}
		if err := nat.Packet(p, c, hook, c.Reply()); err != nil {
			return nil, c
		}
	}
	if !g.tbl.Confirm(c, g.now) {
		return nil, c
	}
	return p, c
}

func (g *gw) expectSport(spec string, port uint16) *conntrack.Conn {
	g.t.Helper()
	p, c := g.forward(spec)
	if p == nil {
		g.t.Fatalf("%s: dropped", spec)
	}
	if got, _, _ := p.Ports(); got != port {
		g.t.Errorf("%s: source port %d, want %d", spec, got, port)
	}
	return c
}

func TestSourcePortKeptOrRemapped(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	g.expectSport("tcp 10.0.0.2:40000 > 192.0.2.9:80 syn", 40000)
	// The same port from another client: min + r % range_size.
	g.rnd = []uint32{5}
	g.expectSport("tcp 10.0.0.3:40000 > 192.0.2.9:80 syn", 1029)
	// The offset wraps in 16 bits and counts modulo the range.
	g.rnd = []uint32{0xffff}
	g.expectSport("tcp 10.0.0.4:40000 > 192.0.2.9:80 syn", 1024+0xffff%64512)
	// Low ports stay low: below 512, and 600-1023.
	g.expectSport("udp 10.0.0.2:53 > 192.0.2.9:53", 53)
	g.rnd = []uint32{0}
	g.expectSport("udp 10.0.0.3:53 > 192.0.2.9:53", 1)
	g.expectSport("udp 10.0.0.2:700 > 192.0.2.9:53", 700)
	g.rnd = []uint32{10}
	g.expectSport("udp 10.0.0.3:700 > 192.0.2.9:53", 610)
	// A taken port is skipped: the next one is tried.
	g.rnd = []uint32{5}
	g.expectSport("tcp 10.0.0.5:40000 > 192.0.2.9:80 syn", 1030)
}

func TestPortRange(t *testing.T) {
	r := one("192.0.2.1")
	r.Flags |= xtables.NATRangeProtoSpecified
	r.MinPort, r.MaxPort = 2000, 2010
	g := newGW(t, r)
	g.rnd = []uint32{3}
	g.expectSport("udp 10.0.0.2:40000 > 192.0.2.9:53", 2003)
	// In range and unique: kept.
	g.expectSport("udp 10.0.0.2:2005 > 192.0.2.9:53", 2005)
	g.rnd = []uint32{3}
	g.expectSport("udp 10.0.0.3:2005 > 192.0.2.9:53", 2004)
}

func TestRandomFully(t *testing.T) {
	r := one("192.0.2.1")
	r.Flags |= xtables.NATRangeProtoRandomFully
	g := newGW(t, r)
	g.rnd = []uint32{100}
	g.expectSport("udp 10.0.0.2:40000 > 192.0.2.9:53", 1124)
}

// A source with a mapping keeps it towards other destinations
// (find_appropriate_src).
func TestSameSourceSameMapping(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	g.expectSport("udp 10.0.0.2:40000 > 192.0.2.9:53", 40000)
	g.rnd = []uint32{7}
	g.expectSport("udp 10.0.0.3:40000 > 192.0.2.9:53", 1031)
	g.expectSport("udp 10.0.0.3:40000 > 192.0.2.10:53", 1031)
}

func TestICMPIDRemapped(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	p, _ := g.forward("icmp 10.0.0.2 > 192.0.2.9 echo-request id 4660")
	if p.ICMP.ID() != 4660 {
		t.Errorf("id %d", p.ICMP.ID())
	}
	g.rnd = []uint32{33912}
	p, _ = g.forward("icmp 10.0.0.3 > 192.0.2.9 echo-request id 4660")
	if p.ICMP.ID() != 33912 || p.Src() != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("%s", p)
	}
	if _, ok := p.ChecksumsOK(); !ok {
		t.Error("ICMP checksum")
	}
	// The reply goes back to the client with its own id.
	p, _ = g.forward("icmp 192.0.2.9 > 192.0.2.1 echo-reply id 33912")
	if p == nil || p.ICMP.ID() != 4660 || p.Dst() != netip.MustParseAddr("10.0.0.3") {
		t.Errorf("reply %v", p)
	}
}

// Replies are mapped back, and an ICMP error about a mapped packet has
// its quoted packet rewritten too, with every checksum right.
func TestReplyAndICMPErrorTranslation(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	g.forward("udp 10.0.0.2:40000 > 192.0.2.9:53")
	g.rnd = []uint32{1}
	g.forward("udp 10.0.0.3:40000 > 192.0.2.9:53")
	p, _ := g.forward("udp 192.0.2.9:53 > 192.0.2.1:1025")
	if p == nil || p.Dst() != netip.MustParseAddr("10.0.0.3") || p.UDP.DstPort != 40000 {
		t.Fatalf("reply: %v", p)
	}
	p, c := g.forward("icmp 192.0.2.9 > 192.0.2.1 port-unreachable quoting udp 192.0.2.1:1025 > 192.0.2.9:53")
	if p == nil {
		t.Fatal("error dropped")
	}
	if c.Status()&xtables.IPSSeenReply == 0 {
		t.Error("entry")
	}
	if got := p.String(); !strings.Contains(got, "> 10.0.0.3: ICMP 192.0.2.9 udp port 53 unreachable") {
		t.Errorf("outer: %s", got)
	}
	if p.Inner.Src() != netip.MustParseAddr("10.0.0.3") || p.Inner.UDP.SrcPort != 40000 {
		t.Errorf("inner: %v:%d", p.Inner.Src(), p.Inner.UDP.SrcPort)
	}
	if ip, l4 := p.ChecksumsOK(); !ip || !l4 {
		t.Errorf("outer checksums %v %v", ip, l4)
	}
	if packet.Checksum(p.Inner.Net, 0) != 0 {
		t.Error("inner IP checksum")
	}
	// A damaged error is dropped, as nf_ip_checksum makes the kernel do.
	bad := "icmp 192.0.2.9 > 192.0.2.1 port-unreachable quoting udp 192.0.2.1:1025 > 192.0.2.9:53"
	q := pkt(t, bad)
	q.Data[len(q.Net)+2] ^= 1
	if cc, _, _ := g.tbl.InHook(q, xtables.HookOutput, 0, g.now); cc == nil {
		t.Fatal("not RELATED")
	} else if err := nat.Packet(q, cc, xtables.HookPrerouting, cc.Reply()); err != nat.ErrDrop {
		t.Errorf("bad checksum: %v", err)
	}
}

// IPv6 UDP without a checksum keeps none (udp_manip_pkt); TCP quoted in
// fewer than 20 bytes keeps its checksum field (tcp_manip_pkt).
func TestChecksumsLeftAlone(t *testing.T) {
	g := newGW(t, xtables.NATRange{})
	g.snat = one("fd00:9::1")
	g.snat.MinAddr, g.snat.MaxAddr = netip.MustParseAddr("fd00:9::1"), netip.MustParseAddr("fd00:9::1")
	p := pkt(t, "udp [fd00::2]:40000 > [fd00:9::9]:53")
	p.Data[40+6], p.Data[40+7] = 0, 0
	c, _, _ := g.tbl.In(p, 0, g.now)
	if err := nat.Setup(g.tbl, c, nat.Src, g.snat, g.random); err != nil {
		t.Fatal(err)
	}
	if err := nat.Packet(p, c, xtables.HookPostrouting, false); err != nil {
		t.Fatal(err)
	}
	if p.Src() != g.snat.MinAddr || p.Data[46] != 0 || p.Data[47] != 0 {
		t.Errorf("%s checksum %x", p, p.Data[46:48])
	}
}

// In the last attempts for a TCP SYN, a TIME_WAIT entry of a source NAT
// mapping gives up its port to a connection whose sequence is past it.
func TestTimeWaitEvicted(t *testing.T) {
	r := one("192.0.2.1")
	r.Flags |= xtables.NATRangeProtoSpecified
	r.MinPort, r.MaxPort = 2000, 2000
	g := newGW(t, r)
	for _, s := range []string{
		"tcp 10.0.0.2:40000 > 192.0.2.9:80 syn seq 1000",
		"tcp 192.0.2.9:80 > 192.0.2.1:2000 syn ack 1001 seq 5000",
		"tcp 10.0.0.2:40000 > 192.0.2.9:80 ack 5001 seq 1001",
		"tcp 10.0.0.2:40000 > 192.0.2.9:80 fin ack 5001 seq 1001",
		"tcp 192.0.2.9:80 > 192.0.2.1:2000 fin ack 1002 seq 5001",
		"tcp 10.0.0.2:40000 > 192.0.2.9:80 ack 5002 seq 1002",
	} {
		if p, _ := g.forward(s); p == nil {
			t.Fatalf("%s dropped", s)
		}
	}
	old, _ := g.tbl.Find(conntrack.Tuple{Src: netip.MustParseAddr("10.0.0.2"), Dst: netip.MustParseAddr("192.0.2.9"), Proto: 6, SrcPort: 40000, DstPort: 80}, 0, g.now)
	if old == nil || old.TCPState() != conntrack.TCPTimeWait {
		t.Fatal("no TIME_WAIT entry")
	}
	// Sequence not past the old one: the port stays taken, the SYN is
	// dropped at confirmation.
	if p, _ := g.forward("tcp 10.0.0.3:40000 > 192.0.2.9:80 syn seq 500"); p != nil {
		t.Errorf("SYN with an old sequence got through: %s", p)
	}
	if p, _ := g.forward("tcp 10.0.0.3:40000 > 192.0.2.9:80 syn seq 9000"); p == nil || p.TCP.SrcPort != 2000 {
		t.Errorf("SYN past the old sequence: %v", p)
	}
	if old.Status()&xtables.IPSDying == 0 {
		t.Error("TIME_WAIT entry not evicted")
	}
}

// A connection of the host itself whose port a mapping already took is
// moved by its null binding (the example of nf_nat_used_tuple).
func TestNullBindingMovesPort(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	g.forward("tcp 10.0.0.2:40000 > 192.0.2.9:80 syn")
	p := pkt(t, "tcp 192.0.2.1:40000 > 192.0.2.9:80 syn")
	c, _, _ := g.tbl.InHook(p, xtables.HookOutput, 0, g.now)
	g.rnd = []uint32{9}
	for _, hook := range []int{xtables.HookOutput, xtables.HookPostrouting} {
		if err := nat.NullBinding(g.tbl, c, hook, g.random); err != nil {
			t.Fatal(err)
		}
		if err := nat.Packet(p, c, hook, false); err != nil {
			t.Fatal(err)
		}
	}
	if p.TCP.SrcPort != 1033 || !g.tbl.Confirm(c, g.now) {
		t.Errorf("local connection: %s", p)
	}
	if _, ok := p.ChecksumsOK(); !ok {
		t.Error("TCP checksum")
	}
}

func TestSetupTwice(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	p := pkt(t, "udp 10.0.0.2:1 > 192.0.2.9:53")
	c, _, _ := g.tbl.In(p, 0, g.now)
	if err := nat.NullBinding(g.tbl, c, xtables.HookPrerouting, g.random); err != nil {
		t.Fatal(err)
	}
	if err := nat.NullBinding(g.tbl, c, xtables.HookPrerouting, g.random); err != nat.ErrInitialized {
		t.Errorf("second setup: %v", err)
	}
	g.tbl.Confirm(c, g.now)
	if err := nat.Setup(g.tbl, c, nat.Src, one("192.0.2.1"), g.random); err != nil || nat.Initialized(c, nat.Src) {
		t.Errorf("setup of a confirmed entry: %v", err)
	}
}

func TestManipOf(t *testing.T) {
	want := map[int]nat.Manip{xtables.HookPrerouting: nat.Dst, xtables.HookOutput: nat.Dst,
		xtables.HookPostrouting: nat.Src, xtables.HookInput: nat.Src}
	for h, m := range want {
		if nat.ManipOf(h) != m {
			t.Errorf("hook %d: %v", h, nat.ManipOf(h))
		}
	}
	if fmt.Sprint(nat.Src, nat.Dst) != "SRC DST" {
		t.Error(nat.Src, nat.Dst)
	}
}

// Rewriting the packets of a mapped connection allocates nothing.
func TestPacketAllocs(t *testing.T) {
	g := newGW(t, one("192.0.2.1"))
	g.forward("tcp 10.0.0.2:40000 > 192.0.2.9:80 syn")
	g.rnd = []uint32{1}
	_, c := g.forward("tcp 10.0.0.3:40000 > 192.0.2.9:80 syn")
	p := pkt(t, "tcp 10.0.0.3:40000 > 192.0.2.9:80 ack 1")
	q := pkt(t, "icmp 192.0.2.9 > 192.0.2.1 port-unreachable quoting tcp 192.0.2.1:1025 > 192.0.2.9:80 ack 1")
	qb := append([]byte(nil), q.Data...)
	n := testing.AllocsPerRun(100, func() {
		nat.Packet(p, c, xtables.HookPostrouting, false)
		q.Decode(qb)
		nat.Packet(q, c, xtables.HookPrerouting, true)
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}
