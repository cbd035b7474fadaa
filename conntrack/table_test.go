package conntrack

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

// A full table makes room by dropping unassured entries of the kernel
// buckets next to the new tuple's; with 262144 buckets and a handful of
// entries that almost never finds any, so the packet is dropped.
func TestTableFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Max = 2
	h := newHost(t, cfg)
	h.send("udp 10.0.0.2:1 > 10.0.1.2:53")
	h.send("udp 10.0.0.2:2 > 10.0.1.2:53")
	c, _, v := h.tbl.In(pkt(t, "udp 10.0.0.2:3 > 10.0.1.2:53"), 0, h.now)
	if v != Drop || c != nil || h.tbl.InvalidReason() != "table full" {
		t.Fatalf("full table: %v %v %q", c, v, h.tbl.InvalidReason())
	}
	if h.tbl.Count() != 2 {
		t.Errorf("count %d", h.tbl.Count())
	}
	// Existing entries still pass.
	if _, info, v := h.tbl.In(pkt(t, "udp 10.0.1.2:53 > 10.0.0.2:1"), 0, h.now); v != Accept || info != xtables.CtEstablished {
		t.Errorf("existing entry in a full table: %v %s", v, ctName(info))
	}
	// Expired entries make room (the GC worker).
	h.now += 31 * sec
	if _, info, v := h.tbl.In(pkt(t, "udp 10.0.0.2:3 > 10.0.1.2:53"), 0, h.now); v != Accept || info != xtables.CtNew {
		t.Errorf("after expiry: %v %s", v, ctName(info))
	}
}

// With one kernel bucket, early_drop always finds the unassured entries
// (all of them go) and never an assured one.
func TestEarlyDrop(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Max, cfg.Buckets = 3, 1
	h := newHost(t, cfg)
	h.send("udp 10.0.0.2:1 > 10.0.1.2:53")
	h.send("udp 10.0.0.2:2 > 10.0.1.2:53")
	h.send("udp 10.0.0.2:3 > 10.0.1.2:53")
	// Make the third assured: replied to after two seconds.
	h.send("udp 10.0.1.2:53 > 10.0.0.2:3")
	h.now += 3 * sec
	h.send("udp 10.0.0.2:3 > 10.0.1.2:53")
	if _, info, v := h.tbl.In(pkt(t, "udp 10.0.0.2:4 > 10.0.1.2:53"), 0, h.now); v != Accept || info != xtables.CtNew {
		t.Fatalf("early drop failed: %v %s", v, ctName(info))
	}
	l := h.list()
	if strings.Count(l, "\n") != 1 || !strings.Contains(l, "sport=3 ") {
		t.Errorf("after early drop:\n%s", l)
	}
}

func TestEarlyDropNothingToDrop(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Max, cfg.Buckets = 1, 1
	h := newHost(t, cfg)
	h.send("udp 10.0.0.2:3 > 10.0.1.2:53")
	h.send("udp 10.0.1.2:53 > 10.0.0.2:3")
	h.now += 3 * sec
	h.send("udp 10.0.0.2:3 > 10.0.1.2:53")
	if _, _, v := h.tbl.In(pkt(t, "udp 10.0.0.2:4 > 10.0.1.2:53"), 0, h.now); v != Drop {
		t.Errorf("only assured entries: verdict %v", v)
	}
}

// A new entry whose reply tuple is another's (a NAT mapping that could
// not be made unique) is refused at confirmation.
func TestConfirmClash(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.send("tcp 10.0.0.2:40000 > 192.0.2.2:80 syn")
	first := h.tbl.first
	c, _, _ := h.tbl.In(pkt(t, "tcp 10.0.0.3:40000 > 192.0.2.2:80 syn"), 0, h.now)
	c.SetReplyTuple(first.Tuple(Reply))
	if h.tbl.Confirm(c, h.now) {
		t.Fatal("clashing entry confirmed")
	}
	if h.tbl.Count() != 1 || c.Status()&xtables.IPSDying == 0 {
		t.Errorf("count %d, status %#x", h.tbl.Count(), c.Status())
	}
}

// An unconfirmed entry whose packet is dropped goes away.
func TestDiscard(t *testing.T) {
	h := newHost(t, DefaultConfig())
	c, _, _ := h.tbl.In(pkt(t, "udp 10.0.0.2:1 > 10.0.1.2:53"), 0, h.now)
	if h.tbl.Count() != 1 || h.list() != "" {
		t.Fatalf("unconfirmed: count %d, listed %q", h.tbl.Count(), h.list())
	}
	h.tbl.Discard(c)
	h.tbl.Discard(c)
	if h.tbl.Count() != 0 {
		t.Errorf("count %d after Discard", h.tbl.Count())
	}
	if h.tbl.Confirm(c, h.now) {
		t.Error("a discarded entry was confirmed")
	}
	// The next packet makes a new entry.
	if c2, info := h.send("udp 10.0.0.2:1 > 10.0.1.2:53"); c2 == c || info != xtables.CtNew {
		t.Errorf("after Discard: %v %s", c2 == c, ctName(info))
	}
}

func TestListingCountersZoneMark(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Acct = true
	tbl := New(cfg, 1)
	now := 5 * sec
	c, _, _ := tbl.In(pkt(t, "udp 10.0.0.2:1 > 10.0.1.2:53 payload 10"), 7, now)
	tbl.Confirm(c, now)
	c.SetMark(0x20)
	tbl.In(pkt(t, "udp 10.0.1.2:53 > 10.0.0.2:1 payload 30"), 7, now)
	want := "udp      17 30 src=10.0.0.2 dst=10.0.1.2 sport=1 dport=53 packets=1 bytes=38 src=10.0.1.2 dst=10.0.0.2 sport=53 dport=1 packets=1 bytes=58 mark=32 zone=7 use=1\n"
	if got := string(tbl.AppendList(nil, now)); got != want {
		t.Errorf("got  %swant %s", got, want)
	}
	// Another zone is another table for lookups.
	if c2, info, _ := tbl.In(pkt(t, "udp 10.0.1.2:53 > 10.0.0.2:1"), 0, now); info != xtables.CtNew || c2 == c {
		t.Errorf("zone 0 found zone 7's entry: %s", ctName(info))
	}
	if got := string(AppendSummary(nil, 1)); got != "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n" {
		t.Errorf("summary %q", got)
	}
}

func TestFindAndTupleTaken(t *testing.T) {
	h := newHost(t, DefaultConfig())
	c, _ := h.send("tcp 10.0.0.2:40000 > 192.0.2.2:80 syn")
	reply := Tuple{Src: netip.MustParseAddr("192.0.2.2"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 6, SrcPort: 80, DstPort: 40000}
	if f, dir := h.tbl.Find(reply, 0, h.now); f != c || dir != Reply {
		t.Errorf("Find reply: %v %d", f == c, dir)
	}
	if f := h.tbl.FindConn(c.Tuple(Original), 0); f != c {
		t.Error("FindConn original")
	}
	if f := h.tbl.FindConn(Tuple{Src: reply.Src, Dst: reply.Dst, Proto: 17}, 0); f != nil {
		t.Errorf("FindConn of nothing: %v", f)
	}
	n, _, _ := h.tbl.In(pkt(t, "tcp 10.0.0.3:40000 > 192.0.2.2:80 syn"), 0, h.now)
	if !h.tbl.TupleTaken(reply, n, h.now) {
		t.Error("reply tuple of a confirmed entry not taken")
	}
	if h.tbl.TupleTaken(reply, c, h.now) {
		t.Error("an entry's own tuple counted as taken")
	}
	h.now += 121 * sec
	if h.tbl.TupleTaken(reply, n, h.now) {
		t.Error("an expired entry's tuple counted as taken")
	}
}

func TestConfigFromSysctls(t *testing.T) {
	c := ConfigFromSysctls(map[string]string{
		"net.netfilter.nf_conntrack_max":                        "1000",
		"net.netfilter.nf_conntrack_tcp_loose":                  "0",
		"net.netfilter.nf_conntrack_tcp_be_liberal":             "1",
		"net.netfilter.nf_conntrack_udp_timeout":                "10",
		"net.netfilter.nf_conntrack_tcp_timeout_established":    "7200",
		"net.netfilter.nf_conntrack_tcp_timeout_syn_sent":       "60",
		"net.netfilter.nf_conntrack_checksum":                   "0",
		"net.netfilter.nf_conntrack_acct":                       "1",
		"net.netfilter.nf_conntrack_icmp_timeout":               "bogus",
		"net.netfilter.nf_conntrack_tcp_timeout_unacknowledged": "100",
	})
	d := DefaultConfig()
	if c.Max != 1000 || c.TCPLoose || !c.TCPBeLiberal || c.UDPTimeout != 10 || c.Checksum || !c.Acct ||
		c.TCPTimeout[TCPEstablished] != 7200 || c.TCPTimeout[TCPSynSent] != 60 || c.TCPTimeout[TCPNone] != 60 ||
		c.ICMPTimeout != d.ICMPTimeout || c.TCPTimeoutUnack != 100 || c.UDPTimeoutStream != 120 {
		t.Errorf("%+v", c)
	}
	if ConfigFromSysctls(nil) != d {
		t.Error("defaults")
	}
}

// The table grows its buckets and keeps every entry findable.
func TestManyFlows(t *testing.T) {
	h := newHost(t, DefaultConfig())
	const n = 5000
	for i := 0; i < n; i++ {
		h.send(fmt.Sprintf("udp 10.%d.%d.2:%d > 10.0.1.2:53", i>>8, i&255, 1000+i))
	}
	if h.tbl.Count() != n || h.tbl.Len(h.now) != n {
		t.Fatalf("count %d len %d", h.tbl.Count(), h.tbl.Len(h.now))
	}
	for i := 0; i < n; i += 7 {
		_, info := h.send(fmt.Sprintf("udp 10.0.1.2:53 > 10.%d.%d.2:%d", i>>8, i&255, 1000+i))
		if info != xtables.CtEstablished {
			t.Fatalf("flow %d: %s", i, ctName(info))
		}
	}
	h.tbl.Flush()
	if h.tbl.Count() != 0 || h.list() != "" {
		t.Errorf("after Flush: %d", h.tbl.Count())
	}
}
