package conntrack_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/nat"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/xtables"
)

const sec = int64(1e9)

// natGW is a gateway with conntrack and NAT: packets from 10.0.0.0/8
// leave SNATed to 192.0.2.1, packets to 192.0.2.1:8080 are DNATed to
// 10.0.0.5:80, everything else gets null bindings. Its random source is a
// counter, so that two gateways fed the same packets draw the same.
type natGW struct {
	tbl *conntrack.Table
	now int64
	rnd uint32
}

func (g *natGW) random() uint32 { g.rnd = g.rnd*1103515245 + 12345; return g.rnd >> 8 }

// step is what one packet met: everything a caller could observe.
type step struct {
	verdict conntrack.Verdict
	info    xtables.CtInfo
	reply   bool
	invalid string
	out     []byte // the packet as it leaves (after NAT), nil if dropped
	entry   string // the entry's listing
}

func (s step) String() string {
	return fmt.Sprintf("%v info=%d reply=%v invalid=%q entry=%q\n  out=%x", s.verdict, s.info, s.reply, s.invalid, s.entry, s.out)
}

func buildPacket(t testing.TB, spec string) *packet.Packet {
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

var (
	inside = netip.MustParsePrefix("10.0.0.0/8")
	public = netip.MustParseAddr("192.0.2.1")
	server = netip.MustParseAddr("10.0.0.5")
)

// send takes a packet through PREROUTING and POSTROUTING.
func (g *natGW) send(t testing.TB, spec string) step {
	t.Helper()
	p := buildPacket(t, spec)
	c, info, v := g.tbl.In(p, 0, g.now)
	s := step{verdict: v, info: info, invalid: g.tbl.InvalidReason()}
	if c == nil {
		if v == conntrack.Accept {
			s.out = p.Data
		}
		return s
	}
	s.reply = c.Reply()
	for _, hook := range []int{xtables.HookPrerouting, xtables.HookPostrouting} {
		m := nat.ManipOf(hook)
		if info != xtables.CtRelated && info == xtables.CtNew && !nat.Initialized(c, m) {
			var err error
			switch {
			case hook == xtables.HookPrerouting && p.Dst() == public && p.TCP.DstPort == 8080:
				r := xtables.NATRange{Flags: xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified,
					MinAddr: server, MaxAddr: server, MinPort: 80, MaxPort: 80}
				err = nat.Setup(g.tbl, c, m, r, g.random)
			case hook == xtables.HookPostrouting && inside.Contains(p.Src()) && !inside.Contains(p.Dst()):
				r := xtables.NATRange{Flags: xtables.NATRangeMapIPs, MinAddr: public, MaxAddr: public}
				err = nat.Setup(g.tbl, c, m, r, g.random)
				c.SetMasqDev(3)
			default:
				err = nat.NullBinding(g.tbl, c, hook, g.random)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := nat.Packet(p, c, hook, c.Reply()); err != nil {
			return s
		}
	}
	if !g.tbl.Confirm(c, g.now) {
		return s
	}
	s.out = p.Data
	s.entry = string(c.AppendEntry(nil, g.now))
	return s
}

func save(t testing.TB, tbl *conntrack.Table, now int64) string {
	t.Helper()
	var b bytes.Buffer
	if err := tbl.Save(&b, now); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func acctConfig() conntrack.Config {
	cfg := conntrack.DefaultConfig()
	cfg.Acct = true
	return cfg
}

// The packets before the save: handshakes, NATed flows both ways, a
// remapped source port, streams, ICMP, IPv6, marks and labels.
var before = []string{
	"tcp 10.0.0.2:40000 > 192.0.2.9:80 syn seq 1000 mss 1460 sackok wscale 7",
	"tcp 192.0.2.9:80 > 192.0.2.1:40000 syn ack 1001 seq 5000 mss 1460 sackok wscale 6",
	"tcp 10.0.0.2:40000 > 192.0.2.9:80 ack 5001 seq 1001 win 502",
	"tcp 10.0.0.2:40000 > 192.0.2.9:80 ack 5001 seq 1001 win 502 psh payload 100",
	"tcp 10.0.0.3:40000 > 192.0.2.9:80 syn seq 7000",
	"udp 10.0.0.2:5353 > 192.0.2.9:53",
	"udp 192.0.2.9:53 > 192.0.2.1:5353",
	"icmp 10.0.0.2 > 192.0.2.9 echo-request id 7",
	"icmp 192.0.2.9 > 192.0.2.1 echo-reply id 7",
	"tcp 198.51.100.7:1234 > 192.0.2.1:8080 syn seq 300",
	"udp [2001:db8::2]:1000 > [2001:db8:1::9]:2000",
	"udp 10.0.0.4:6000 > 192.0.2.9:53",
	"+3s",
	"udp 10.0.0.2:5353 > 192.0.2.9:53",
	"udp 192.0.2.9:53 > 192.0.2.1:5353",
	"tcp 10.0.0.6:1 > 10.0.0.6:1 syn",
}

// The packets after it: each must meet the same fate on the loaded table
// as on the original.
var after = []string{
	"tcp 192.0.2.9:80 > 192.0.2.1:40000 ack 1101 seq 5001 win 509",
	"tcp 192.0.2.9:80 > 192.0.2.1:40000 ack 1101 seq 5001 win 509",    // retransmitted
	"tcp 192.0.2.9:80 > 192.0.2.1:40000 ack 1101 seq 900000 win 509",  // out of window
	"tcp 10.0.0.2:40000 > 192.0.2.9:80 ack 5001 seq 1101 win 502 fin", // close
	"tcp 192.0.2.9:80 > 192.0.2.1:1072 syn ack 7001 seq 9000",         // the remapped port
	"tcp 10.0.0.3:40000 > 192.0.2.10:80 syn seq 8000",                 // same source: same mapping
	"tcp 10.0.0.5:80 > 198.51.100.7:1234 syn ack 301 seq 4000",        // DNAT reply
	"icmp 192.0.2.9 > 192.0.2.1 port-unreachable quoting udp 192.0.2.1:5353 > 192.0.2.9:53",
	"icmp 192.0.2.9 > 192.0.2.1 echo-reply id 7",
	"udp [2001:db8:1::9]:2000 > [2001:db8::2]:1000",
	"udp 10.0.0.9:6000 > 192.0.2.9:53",
	"+29s", // the unreplied UDP entries expire, the stream does not
	"udp 192.0.2.9:53 > 192.0.2.1:6000",
	"udp 192.0.2.9:53 > 192.0.2.1:5353",
	"tcp 10.0.0.6:1 > 10.0.0.6:1 ack 1001 seq 1001",
	"tcp 10.0.0.2:40001 > 192.0.2.9:80 syn seq 1",
}

func run(t testing.TB, g *natGW, specs []string) []step {
	var out []step
	for _, s := range specs {
		if strings.HasPrefix(s, "+") {
			var n int64
			fmt.Sscanf(s, "+%ds", &n)
			g.now += n * sec
			continue
		}
		out = append(out, g.send(t, s))
	}
	return out
}

// A table saved and loaded into a fresh one answers the next packets
// exactly as the original does: states, verdicts, rewritten bytes,
// listings, and what it saves in turn.
func TestSaveLoadContinues(t *testing.T) {
	orig := &natGW{tbl: conntrack.New(acctConfig(), 77), now: 500 * sec}
	run(t, orig, before)
	// Marks and labels set by rules.
	orig.tbl.Each(orig.now, func(c *conntrack.Conn) bool {
		if c.Proto() == packet.ProtoUDP {
			c.SetMark(0x42)
			c.Labels()[1] = 1 << 3
		}
		return true
	})
	text := save(t, orig.tbl, orig.now)
	if !strings.HasPrefix(text, "iptwin-conntrack 1\ntable seed=0x4d ") {
		t.Errorf("header:\n%s", text)
	}
	loaded := &natGW{tbl: conntrack.New(acctConfig(), 1), now: orig.now, rnd: orig.rnd}
	if err := loaded.tbl.Load(strings.NewReader(text), loaded.now); err != nil {
		t.Fatal(err)
	}
	if got := save(t, loaded.tbl, loaded.now); got != text {
		t.Fatalf("saved again:\n%s\nfirst:\n%s", got, text)
	}
	if a, b := string(orig.tbl.AppendList(nil, orig.now)), string(loaded.tbl.AppendList(nil, loaded.now)); a != b {
		t.Fatalf("listing:\n%s\nloaded:\n%s", a, b)
	}
	if orig.tbl.Count() != loaded.tbl.Count() {
		t.Errorf("count %d, loaded %d", orig.tbl.Count(), loaded.tbl.Count())
	}
	want := run(t, orig, after)
	got := run(t, loaded, after)
	var seen [5]int
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("packet %d:\n got %v\nwant %v", i, got[i], want[i])
		}
		seen[want[i].info]++
	}
	// The sequence must exercise what it claims to.
	if seen[xtables.CtInvalid] == 0 || seen[xtables.CtEstablished] == 0 || seen[xtables.CtRelated] == 0 || seen[xtables.CtNew] == 0 {
		t.Errorf("states met: %v", seen)
	}
	if a, b := save(t, orig.tbl, orig.now), save(t, loaded.tbl, loaded.now); a != b {
		t.Errorf("final tables differ:\n%s\nloaded:\n%s", a, b)
	}
	if a, b := string(orig.tbl.AppendList(nil, orig.now)), string(loaded.tbl.AppendList(nil, loaded.now)); a != b {
		t.Errorf("final listing:\n%s\nloaded:\n%s", a, b)
	}
}

// Times are relative: a table loaded at another clock keeps the time its
// entries had left.
func TestLoadShiftsClock(t *testing.T) {
	g := &natGW{tbl: conntrack.New(conntrack.DefaultConfig(), 9), now: 100 * sec}
	g.send(t, "udp 10.0.0.2:5353 > 192.0.2.9:53")
	g.now += 10 * sec
	text := save(t, g.tbl, g.now)
	l := conntrack.New(conntrack.DefaultConfig(), 0)
	if err := l.Load(strings.NewReader(text), 7*sec); err != nil {
		t.Fatal(err)
	}
	if a, b := string(g.tbl.AppendList(nil, g.now)), string(l.AppendList(nil, 7*sec)); a != b || !strings.Contains(a, " 20 src=") {
		t.Errorf("listing %q, loaded at another clock %q", a, b)
	}
	if n := l.Len(27*sec - 1); n != 1 {
		t.Errorf("entries just before expiry: %d", n)
	}
	if n := l.Len(27 * sec); n != 0 {
		t.Errorf("entries at expiry: %d", n)
	}
}

// Expired entries are not saved.
func TestSaveSkipsExpired(t *testing.T) {
	g := &natGW{tbl: conntrack.New(conntrack.DefaultConfig(), 9), now: 100 * sec}
	g.send(t, "udp 10.0.0.2:5353 > 192.0.2.9:53")
	if s := save(t, g.tbl, g.now+30*sec); strings.Contains(s, "conn ") {
		t.Errorf("expired entry saved:\n%s", s)
	}
}

// Every field of an entry is in the file or deliberately left out: a new
// field must be given a place here.
func TestPersistCoversConn(t *testing.T) {
	covered := map[string]string{
		"th": "orig, reply, expires", "status": "status", "mark": "mark", "labels": "labels",
		"acct": "acct", "hasAcct": "acct", "timeout": "expires", "zone": "zone", "id": "id",
		"tcp": "tcp*", "udpStream": "udp-stream", "reply": "dir", "masqDev": "masq-dev",
		"natNext": "nat-src", "inBySrc": "nat-src",
		// Links and bookkeeping of the table, rebuilt by Load.
		"t": "", "freed": "", "prev": "", "next": "",
	}
	ty := reflect.TypeOf(conntrack.Conn{})
	for i := 0; i < ty.NumField(); i++ {
		if _, ok := covered[ty.Field(i).Name]; !ok {
			t.Errorf("Conn.%s is neither saved nor known to be derived", ty.Field(i).Name)
		}
	}
	f, _ := ty.FieldByName("tcp")
	tcpFields := "seen state lastDir retrans lastIndex lastSeq lastAck lastEnd lastWin lastWscale lastFlags"
	var names []string
	for i := 0; i < f.Type.NumField(); i++ {
		names = append(names, f.Type.Field(i).Name)
	}
	if got := strings.Join(names, " "); got != tcpFields {
		t.Errorf("tcpConn fields %q, saved: %q", got, tcpFields)
	}
	th, _ := ty.FieldByName("th")
	var thNames []string
	for i := 0; i < th.Type.Elem().NumField(); i++ {
		thNames = append(thNames, th.Type.Elem().Field(i).Name)
	}
	// k is saved; hash, dir, next and exp follow from it and the entry.
	if got := strings.Join(thNames, " "); got != "k hash dir next exp" {
		t.Errorf("tupleHash fields %q", got)
	}
}

const goodFile = `iptwin-conntrack 1
# a comment
table seed=0x2a next-id=3 last-gc=-
conn id=1 zone=0 proto=17 orig=ipv4,10.0.0.2,5353,192.0.2.9,53 reply=ipv4,192.0.2.9,53,192.0.2.1,5353 status=0x1b8 mark=0 labels=0x0,0x0 expires=7500 dir=orig acct=- masq-dev=0 nat-src=0 udp-stream=500
conn id=2 zone=0 proto=6 orig=ipv6,2001:db8::2,1,2001:db8::9,2 reply=ipv6,2001:db8::9,2,2001:db8::2,1 status=0x188 mark=5 labels=0x0,0x0 expires=30000 dir=orig acct=1,60,0,0 masq-dev=0 nat-src=- udp-stream=- tcp=SYN_SENT tcp-orig=1001,1001,64240,0,0,0 tcp-reply=0,0,0,0,0,0 tcp-last=0,0,0,1000,0,1001,64240,0,0
`

func TestLoadGood(t *testing.T) {
	tbl := conntrack.New(conntrack.DefaultConfig(), 0)
	now := 1000 * sec
	if err := tbl.Load(strings.NewReader(goodFile), now); err != nil {
		t.Fatal(err)
	}
	want := "udp      17 30 src=10.0.0.2 dst=192.0.2.9 sport=5353 dport=53 [UNREPLIED] src=192.0.2.9 dst=192.0.2.1 sport=53 dport=5353 mark=0 use=1\n" +
		"tcp      6 120 SYN_SENT src=2001:db8::2 dst=2001:db8::9 sport=1 dport=2 packets=1 bytes=60 [UNREPLIED] src=2001:db8::9 dst=2001:db8::2 sport=2 dport=1 packets=0 bytes=0 mark=5 use=1\n"
	if got := string(tbl.AppendList(nil, now)); got != want {
		t.Errorf("listing:\n%s\nwant:\n%s", got, want)
	}
	// The reply of the UDP entry is found through its NATed tuple.
	c, dir := tbl.Find(conntrack.Tuple{Src: netip.MustParseAddr("192.0.2.9"), Dst: public, Proto: 17, SrcPort: 53, DstPort: 5353}, 0, now)
	if c == nil || dir != conntrack.Reply || c.ID() != 1 {
		t.Errorf("reply lookup: %v %d", c, dir)
	}
	// Comments go, the rest reads back the same.
	if got, want := save(t, tbl, now), strings.Replace(goodFile, "# a comment\n", "", 1); got != want {
		t.Errorf("saved:\n%s\nwant:\n%s", got, want)
	}
	if err := tbl.Load(strings.NewReader(goodFile), now); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("load into a full table: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	lines := strings.Split(goodFile, "\n")
	conn1 := lines[3]
	for _, tc := range []struct{ file, want string }{
		{"", "empty file"},
		{"hello\n", `line 1: not a conntrack state file`},
		{"iptwin-conntrack 2\n", `line 1: format "iptwin-conntrack 2" is not supported`},
		{"iptwin-conntrack 1\n", `no "table" line`},
		{"iptwin-conntrack 1\n" + conn1, `line 2: "conn" before the "table" line`},
		{"iptwin-conntrack 1\ntable seed=1 next-id=1\n", "line 2: field last-gc is missing"},
		{"iptwin-conntrack 1\ntable seed=1 next-id=1 last-gc=- last-gc=-\n", "line 2: field last-gc: given twice"},
		{"iptwin-conntrack 1\ntable seed=1 next-id=1 last-gc=- colour=red\n", "line 2: field colour: unknown field"},
		{"iptwin-conntrack 1\ntable seed=x next-id=1 last-gc=-\n", `line 2: field seed: "x" is not a number of 64 bits`},
		{"iptwin-conntrack 1\ntable seed=1 next-id=1 last-gc=-\ntable seed=1 next-id=1 last-gc=-\n", `line 3: a second "table" line`},
		{"iptwin-conntrack 1\ntable seed=1 next-id=1 last-gc=- junk\n", `line 2: "junk" is not KEY=VALUE`},
		{"iptwin-conntrack 1\nrow a=b\n", `line 2: unknown line type "row"`},
	} {
		check(t, tc.file, tc.want)
	}
	head := "iptwin-conntrack 1\ntable seed=1 next-id=1 last-gc=-\n"
	for _, tc := range []struct{ from, to, want string }{
		{"zone=0", "zone=65536", `field zone: "65536" is not a number of 16 bits`},
		{"orig=ipv4,10.0.0.2,5353,192.0.2.9,53", "orig=ipv4,10.0.0.2,5353,192.0.2.9", `field orig: "ipv4,10.0.0.2,5353,192.0.2.9" is not FAMILY,SRC,SPORT,DST,DPORT`},
		{"orig=ipv4,10.0.0.2", "orig=ipv5,10.0.0.2", `field orig: family "ipv5"`},
		{"orig=ipv4,10.0.0.2", "orig=ipv6,10.0.0.2", `field orig: "10.0.0.2" is not an ipv6 address`},
		{"orig=ipv4,10.0.0.2", "orig=ipv4,10.0.0.300", `field orig: "10.0.0.300" is not an ipv4 address`},
		{",5353,192", ",99999,192", `field orig: "99999" is not a number of 16 bits`},
		{"status=0x1b8", "status=0x1b0", "field status: 0x1b0: an entry of the table is confirmed"},
		{"status=0x1b8", "status=0x3b8", "field status: 0x3b8: an entry of the table is confirmed and not dying"},
		{"expires=7500", "expires=0", "field expires: the entry has expired"},
		{"expires=7500", "expires=1e9", `field expires: "1e9" is not a time in jiffies`},
		{"dir=orig", "dir=up", `field dir: "up" is neither orig nor reply`},
		{"acct=-", "acct=1,2,3", `field acct: "1,2,3" has 3 values, want 4`},
		{"nat-src=0", "nat-src=x", `field nat-src: "x" is not a number`},
		{"mark=0 ", "", "field mark is missing"},
		{"proto=17", "proto=17 tcp=NONE", "field tcp: unknown field"},
	} {
		if !strings.Contains(conn1, tc.from) {
			t.Fatalf("%q not in %q", tc.from, conn1)
		}
		check(t, head+strings.Replace(conn1, tc.from, tc.to, 1)+"\n", "line 3: "+tc.want)
	}
	conn2 := lines[4]
	for _, tc := range []struct{ from, to, want string }{
		{"tcp=SYN_SENT", "tcp=LISTEN", `field tcp: "LISTEN" is not a TCP conntrack state`},
		{" tcp=SYN_SENT", "", "field tcp is missing"},
		{"tcp-orig=1001,1001,64240,0,0,0", "tcp-orig=1001,1001,64240,0,15,0", "field tcp-orig: window scale 15 is above 14"},
		{"tcp-last=0,", "tcp-last=2,", `field tcp-last: "2" is not a number of 1 bits`},
		{"tcp-last=0,0,0,", "tcp-last=0,0,6,", "field tcp-last: segment kind 6 is above 5"},
	} {
		if !strings.Contains(conn2, tc.from) {
			t.Fatalf("%q not in %q", tc.from, conn2)
		}
		check(t, head+strings.Replace(conn2, tc.from, tc.to, 1)+"\n", "line 3: "+tc.want)
	}
	// Two entries with one tuple.
	dup := strings.Replace(strings.Replace(conn1, "id=1", "id=9", 1), "orig=ipv4,10.0.0.2,5353", "orig=ipv4,10.0.0.3,5353", 1)
	check(t, head+conn1+"\n"+dup+"\n", "line 4: field reply: the tuple is already an entry's, line 3")
	check(t, head+strings.Repeat("#", 70000)+"\n", "line 3: longer than 64 KiB")
}

func check(t *testing.T, file, want string) {
	t.Helper()
	tbl := conntrack.New(conntrack.DefaultConfig(), 0)
	err := tbl.Load(strings.NewReader(file), 1000*sec)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%q:\n got %v\nwant …%s…", file, err, want)
		return
	}
	if !strings.HasPrefix(err.Error(), "conntrack state: ") {
		t.Errorf("error %q does not say what it is about", err)
	}
	if tbl.Count() != 0 || tbl.Len(1000*sec) != 0 {
		t.Errorf("%q: a failed load left %d entries", file, tbl.Count())
	}
}

// FuzzLoad: no file makes Load panic, and what it accepts saves to a
// file that loads back to the same.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodFile))
	g := &natGW{tbl: conntrack.New(acctConfig(), 77), now: 500 * sec}
	run(f, g, before)
	var b bytes.Buffer
	g.tbl.Save(&b, g.now)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl := conntrack.New(conntrack.DefaultConfig(), 0)
		if err := tbl.Load(bytes.NewReader(data), 1000*sec); err != nil {
			return
		}
		once := save(t, tbl, 1000*sec)
		again := conntrack.New(conntrack.DefaultConfig(), 0)
		if err := again.Load(strings.NewReader(once), 1000*sec); err != nil {
			t.Fatalf("saved file does not load: %v\n%s", err, once)
		}
		if twice := save(t, again, 1000*sec); twice != once {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
		again.AppendList(nil, 1000*sec)
		again.Expire(1 << 62)
	})
}
