package ike

import (
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeKernel counts as the kernel would for a test host: the SAs'
// bytes and packets by SPI, the policies' last use in virtual seconds.
type fakeKernel struct {
	n    *testNet
	sas  map[uint32][2]uint64
	used map[string]int64
	gone map[string]bool // policies deleted behind charon's back
}

func newFakeKernel(n *testNet) *fakeKernel {
	return &fakeKernel{n: n, sas: map[uint32][2]uint64{}, used: map[string]int64{}, gone: map[string]bool{}}
}

func (k *fakeKernel) QuerySA(dst netip.Addr, spi uint32, proto uint8) (uint64, uint64, bool) {
	c, ok := k.sas[spi]
	return c[0], c[1], ok
}

func (k *fakeKernel) QueryPolicy(src, dst netip.Prefix, dir string) (int64, bool, bool) {
	key := src.String() + " " + dst.String() + " " + dir
	if k.gone[key] {
		return 0, false, false
	}
	t, ok := k.used[key]
	if !ok {
		return 0, false, true
	}
	return k.n.now/int64(time.Second) - t, true, true
}

// packet counts one packet of size bytes through the SA and its policy
// at the current time.
func (k *fakeKernel) packet(spi uint32, size uint64, policy string) {
	c := k.sas[spi]
	k.sas[spi] = [2]uint64{c[0] + size, c[1] + 1}
	k.used[policy] = k.n.now / int64(time.Second)
}

var reRekeyMinutes = regexp.MustCompile(`rekeying in \d+ minutes`)

// childCounters is statusall's counter line of the CHILD_SA, its rekey
// time masked.
func childCounters(t *testing.T, lines []string) string {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, "{1}:  AES_CBC") {
			return reRekeyMinutes.ReplaceAllString(l, "rekeying in N minutes")
		}
	}
	t.Fatalf("no counter line in\n%s", strings.Join(lines, "\n"))
	return ""
}

// TestUseStats: statusall's "bytes_i (pkts, ago)" from the kernel's SA
// counters and policy use times, as the real charon printed them after
// the pings of record.sh's traffic scenario (testdata/real/
// traffic-libipsec: one ping, then three and one of 128 bytes).
func TestUseStats(t *testing.T) {
	n, a, _ := seedPair(t, "", "", "")
	k := newFakeKernel(n)
	a.d.opt.Query = k
	if _, done, ok := up(n, a, "debian3", time.Minute); !done || !ok {
		t.Fatal("not established")
	}
	if g, w := childCounters(t, a.d.StatusAll(n.now)), "     debian3{1}:  AES_CBC_128/HMAC_SHA1_96, 0 bytes_i, 0 bytes_o, rekeying in N minutes"; g != w {
		t.Errorf("before traffic:\n%s\nwant\n%s", g, w)
	}
	in, out := a.sas[0].SPI, a.sas[1].SPI
	const (
		polOut = "192.168.200.0/24 192.168.201.0/24 out"
		polIn  = "192.168.201.0/24 192.168.200.0/24 in"
		polFwd = "192.168.201.0/24 192.168.200.0/24 fwd"
	)
	ping := func(size uint64) {
		k.packet(out, size, polOut)
		k.packet(in, size, polIn)
	}
	sec := int64(time.Second)
	real := readLines(t, filepath.Join("testdata", "real", "traffic-libipsec", "traffic.txt"))
	n.now += sec
	ping(84)
	n.now += 2 * sec
	if g, w := childCounters(t, a.d.StatusAll(n.now)), childCounters(t, real); g != w {
		t.Errorf("after one ping:\n%s\nthe real charon:\n%s", g, w)
	}
	for range 3 {
		ping(84)
		n.now += sec
	}
	n.now += sec
	ping(128)
	n.now += 3 * sec
	real = readLines(t, filepath.Join("testdata", "real", "traffic-libipsec", "statusall-a.txt"))
	if g, w := childCounters(t, a.d.StatusAll(n.now)), childCounters(t, real); g != w {
		t.Errorf("after five pings:\n%s\nthe real charon:\n%s", g, w)
	}

	// A policy used without the SA's bytes growing (a packet the fwd
	// policy let through to nowhere): charon keeps the use time of its
	// last query that saw new bytes.
	n.now += 10 * sec
	k.used[polFwd] = n.now / sec
	k.used[polOut] = n.now / sec
	want := "     debian3{1}:  AES_CBC_128/HMAC_SHA1_96, 464 bytes_i (5 pkts, 13s ago), 464 bytes_o (5 pkts, 13s ago), rekeying in N minutes"
	if g := childCounters(t, a.d.StatusAll(n.now)); g != want {
		t.Errorf("no new bytes:\n%s\nwant\n%s", g, want)
	}
	// New bytes inbound: the latest of in and fwd counts; outbound
	// still without new bytes.
	n.now += 2 * sec
	k.packet(in, 100, polIn)
	k.used[polIn] = n.now/sec - 5
	want = "     debian3{1}:  AES_CBC_128/HMAC_SHA1_96, 564 bytes_i (6 pkts, 2s ago), 464 bytes_o (5 pkts, 15s ago), rekeying in N minutes"
	if g := childCounters(t, a.d.StatusAll(n.now)); g != want {
		t.Errorf("forwarded use:\n%s\nwant\n%s", g, want)
	}
	// The SA and policies deleted behind charon's back (ip xfrm): the
	// last values stay.
	delete(k.sas, in)
	delete(k.sas, out)
	k.gone[polIn], k.gone[polOut], k.gone[polFwd] = true, true, true
	n.now += sec
	want = "     debian3{1}:  AES_CBC_128/HMAC_SHA1_96, 564 bytes_i (6 pkts, 3s ago), 464 bytes_o (5 pkts, 16s ago), rekeying in N minutes"
	if g := childCounters(t, a.d.StatusAll(n.now)); g != want {
		t.Errorf("deleted:\n%s\nwant\n%s", g, want)
	}
	// "ipsec status" shows no counters.
	for _, l := range a.d.Status(n.now) {
		if strings.Contains(l, "bytes_") {
			t.Errorf("status shows %q", l)
		}
	}
}

// TestUseStatsTransport: in transport mode the inbound use time is the
// in policy's alone (no fwd policy is queried).
func TestUseStatsTransport(t *testing.T) {
	n := &testNet{natMap: map[netip.AddrPort]netip.AddrPort{}}
	a := newHost(t, n, "debian2", mustAddrs("10.0.0.200"), map[netip.Prefix]string{netip.MustParsePrefix("10.0.0.0/24"): "eth0"}, "", 1)
	b := newHost(t, n, "debian3", mustAddrs("10.0.0.201"), map[netip.Prefix]string{netip.MustParsePrefix("10.0.0.0/24"): "eth0"}, "", 2)
	conf := func(name, left, right string) string {
		return "conn " + name + "\n\tleft=" + left + "\n\tright=" + right +
			"\n\tauthby=secret\n\ttype=transport\n\tike=aes128-sha1-modp1024!\n\tesp=aes128-sha1!\n\tauto=add\n"
	}
	if err := a.d.Load(conf("peer", "10.0.0.200", "10.0.0.201"), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.d.Load(conf("peer", "10.0.0.201", "10.0.0.200"), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	k := newFakeKernel(n)
	a.d.opt.Query = k
	if _, done, ok := up(n, a, "peer", time.Minute); !done || !ok {
		t.Fatal("not established")
	}
	if a.sas[0].Mode != "transport" {
		t.Fatalf("mode %s", a.sas[0].Mode)
	}
	sec := int64(time.Second)
	k.packet(a.sas[0].SPI, 64, "10.0.0.201/32 10.0.0.200/32 in")
	k.used["10.0.0.201/32 10.0.0.200/32 fwd"] = n.now/sec + 5 // not asked
	n.now += 4 * sec
	got := ""
	for _, l := range a.d.StatusAll(n.now) {
		if strings.Contains(l, "bytes_i") {
			got = l
		}
	}
	if !strings.Contains(got, ", 64 bytes_i (1 pkt, 4s ago), 0 bytes_o, rekeying in ") {
		t.Errorf("got %q", got)
	}
}

// TestStatusName: "ipsec status NAME" shows that connection and its
// SAs only, "no match" for a name without any (stroke_list.c status).
func TestStatusName(t *testing.T) {
	n, a, _ := seedPair(t, "", "", "")
	if _, done, ok := up(n, a, "debian3", time.Minute); !done || !ok {
		t.Fatal("not established")
	}
	all := strings.Join(a.d.StatusAll(n.now), "\n")
	if g := strings.Join(a.d.StatusOf("debian3", true, n.now), "\n"); g != all {
		t.Errorf("statusall debian3:\n%s\nwant\n%s", g, all)
	}
	got := a.d.StatusOf("other", true, n.now)
	if last := got[len(got)-1]; last != "  no match" {
		t.Errorf("statusall other ends with %q", last)
	}
	for _, l := range got {
		if strings.Contains(l, "debian3") {
			t.Errorf("statusall other shows %q", l)
		}
	}
	if g := a.d.StatusOf("other", false, n.now); len(g) != 2 || g[0] != "Security Associations (1 up, 0 connecting):" || g[1] != "  no match" {
		t.Errorf("status other: %q", g)
	}
}
