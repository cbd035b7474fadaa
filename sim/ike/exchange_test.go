package ike

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the model")

var (
	reSPIs  = regexp.MustCompile(`SPIs [0-9a-f]{8}_i [0-9a-f]{8}_o`)
	reTimes = regexp.MustCompile(`(rekeying in|lifetime|reauthentication in) \d+s`)
)

// mask hides what charon draws at random: SPIs and rekey times.
func mask(lines []string) string {
	s := strings.Join(lines, "\n")
	s = reSPIs.ReplaceAllString(s, "SPIs X_i X_o")
	return reTimes.ReplaceAllString(s, "$1 Ns")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// check compares the lines with the expectation derived from the real
// charon (masked) and with the model's own golden (exact).
func check(t *testing.T, name string, lines []string) {
	t.Helper()
	want := readLines(t, filepath.Join("testdata", "expect", name+".txt"))
	if g, w := mask(lines), mask(want); g != w {
		t.Errorf("%s: the model prints\n%s\n\nthe real charon printed\n%s", name, g, w)
	}
	golden := filepath.Join("testdata", "golden", name+".txt")
	text := strings.Join(lines, "\n") + "\n"
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if b, err := os.ReadFile(golden); err != nil || string(b) != text {
		t.Errorf("%s: output differs from %s (go test -update rewrites it):\n%s", name, golden, text)
	}
}

func TestSeedTunnel(t *testing.T) {
	n, a, b := seedPair(t, "", "", "")
	lines, done, ok := up(n, a, "debian3", time.Minute)
	if !done || !ok {
		t.Fatalf("not established:\n%s", strings.Join(lines, "\n"))
	}
	check(t, "ok", lines)
	// IKE_AUTH went to 4500 although there is no NAT: MOBIKE (seed 000)
	if !strings.Contains(strings.Join(lines, "\n"), "from 10.0.0.200[4500] to 10.0.0.201[4500]") {
		t.Error("IKE_AUTH did not float to 4500")
	}
	// the responder's log, as charon's file log shows it (real run)
	want := []string{
		"received packet: from 10.0.0.200[500] to 10.0.0.201[500] (336 bytes)",
		"parsed IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) ]",
		"10.0.0.200 is initiating an IKE_SA",
		"selected proposal: IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024",
		"generating IKE_SA_INIT response 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(CHDLESS_SUP) N(MULT_AUTH) ]",
		"sending packet: from 10.0.0.201[500] to 10.0.0.200[500] (344 bytes)",
		"received packet: from 10.0.0.200[4500] to 10.0.0.201[4500] (300 bytes)",
		"parsed IKE_AUTH request 1 [ IDi N(INIT_CONTACT) IDr AUTH SA TSi TSr N(MOBIKE_SUP) N(ADD_4_ADDR) N(MULT_AUTH) N(EAP_ONLY) N(MSG_ID_SYN_SUP) ]",
		"looking for peer configs matching 10.0.0.201[debian3.example.com]...10.0.0.200[debian2.example.com]",
		"selected peer config 'debian2'",
		"authentication of 'debian2.example.com' with pre-shared key successful",
		"peer supports MOBIKE",
		"authentication of 'debian3.example.com' (myself) with pre-shared key",
		"IKE_SA debian2[1] established between 10.0.0.201[debian3.example.com]...10.0.0.200[debian2.example.com]",
		"scheduling rekeying in 9996s",
		"maximum IKE_SA lifetime 10536s",
		"selected proposal: ESP:AES_CBC_128/HMAC_SHA1_96/NO_EXT_SEQ",
		"CHILD_SA debian2{1} established with SPIs 693d492b_i 563a6561_o and TS 192.168.201.0/24 === 192.168.200.0/24",
		"generating IKE_AUTH response 1 [ IDr AUTH SA TSi TSr N(MOBIKE_SUP) N(ADD_4_ADDR) ]",
		"sending packet: from 10.0.0.201[4500] to 10.0.0.200[4500] (236 bytes)",
	}
	if g, w := mask(daemonLog(b)), mask(want); g != w {
		t.Errorf("responder log:\n%s\nwant\n%s", g, w)
	}
	// what is installed: the seed's route and the kernel's view
	wantRoute := Route{Dst: netip.MustParsePrefix("192.168.201.0/24"), Gateway: netip.MustParseAddr("10.0.0.201"),
		Src: netip.MustParseAddr("192.168.200.1"), Dev: "eth0", Table: 220, Proto: "static"}
	if len(a.routes) != 1 || a.routes[0] != wantRoute {
		t.Errorf("routes %+v, want %+v", a.routes, wantRoute)
	}
	if len(a.rules) != 1 || a.rules[0] != (Rule{220, 220}) {
		t.Errorf("rules %+v", a.rules)
	}
	if len(a.pols) != 3 || len(b.pols) != 3 || len(a.sas) != 2 || len(b.sas) != 2 {
		t.Fatalf("policies %d/%d, states %d/%d", len(a.pols), len(b.pols), len(a.sas), len(b.sas))
	}
	for _, p := range a.pols {
		if p.Priority != 375423 || p.Reqid != 1 || p.Mode != "tunnel" {
			t.Errorf("policy %+v", p)
		}
	}
	out, in := a.pols[0], a.pols[1]
	if out.Dir != "out" || out.Src.String() != "192.168.200.0/24" || out.TmplDst.String() != "10.0.0.201" ||
		in.Dir != "in" || in.Src.String() != "192.168.201.0/24" || a.pols[2].Dir != "fwd" {
		t.Errorf("policies %+v", a.pols)
	}
	// the SAs of one side are the other's, same keys, no encapsulation
	aOut, bIn := a.sas[1], b.sas[0]
	if aOut.SPI != bIn.SPI || string(aOut.Enc.Key) != string(bIn.Enc.Key) || string(aOut.Auth.Key) != string(bIn.Auth.Key) ||
		aOut.Encap != nil || aOut.Enc.Name != "cbc(aes)" || len(aOut.Enc.Key) != 16 || aOut.Auth.Name != "hmac(sha1)" ||
		aOut.Auth.ICVBits != 96 || bIn.ReplayWindow != 32 || aOut.ReplayWindow != 0 || !aOut.AFUnspec {
		t.Errorf("states %+v %+v", aOut, bIn)
	}
	st := a.d.Status(n.now + int64(time.Second))
	wantSt := []string{
		"Security Associations (1 up, 0 connecting):",
		"     debian3[1]: ESTABLISHED 1 second ago, 10.0.0.200[debian2.example.com]...10.0.0.201[debian3.example.com]",
		"     debian3{1}:  INSTALLED, TUNNEL, reqid 1, ESP SPIs: X_i X_o",
		"     debian3{1}:   192.168.200.0/24 === 192.168.201.0/24",
	}
	if g := regexp.MustCompile(`[0-9a-f]{8}_([io])`).ReplaceAllString(strings.Join(st, "\n"), "X_$1"); g != strings.Join(wantSt, "\n") {
		t.Errorf("status:\n%s", g)
	}
}

func TestMobikeOff(t *testing.T) {
	n, a, _ := seedPair(t, "        mobike=no\n", "        mobike=no\n", "")
	lines, _, ok := up(n, a, "debian3", time.Minute)
	if !ok {
		t.Fatal(strings.Join(lines, "\n"))
	}
	check(t, "mobike-no", lines)
}

func TestNAT(t *testing.T) {
	n := &testNet{natMap: map[netip.AddrPort]netip.AddrPort{},
		nat: map[netip.Addr]netip.Addr{netip.MustParseAddr("10.1.0.2"): netip.MustParseAddr("10.0.0.1")}}
	a := newHost(t, n, "debian2", mustAddrs("10.1.0.2", "192.168.200.1"), map[netip.Prefix]string{
		netip.MustParsePrefix("10.1.0.0/24"): "eth0", netip.MustParsePrefix("192.168.200.0/24"): "eth1"}, "10.1.0.1", 1)
	b := newHost(t, n, "debian3", mustAddrs("10.0.0.201", "192.168.201.1"), map[netip.Prefix]string{
		netip.MustParsePrefix("10.0.0.0/24"): "eth0", netip.MustParsePrefix("192.168.201.0/24"): "eth1"}, "10.0.0.1", 2)
	if err := a.d.Load(seedConf("debian3", "debian2.example.com", "debian3.example.com", "debian3.example.com",
		"192.168.200.0/24", "192.168.201.0/24", ""), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.d.Load(seedConf("debian2", "debian3.example.com", "%any", "debian2.example.com",
		"192.168.201.0/24", "192.168.200.0/24", ""), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	lines, _, ok := up(n, a, "debian3", time.Minute)
	if !ok {
		t.Fatal(strings.Join(lines, "\n"))
	}
	check(t, "nat", lines)
	if !strings.Contains(strings.Join(daemonLog(b), "\n"), "remote host is behind NAT") {
		t.Error("the responder did not see the NAT")
	}
	// UDP encapsulation on both ends, to the NAT's public address on B
	if e := b.sas[1].Encap; e == nil || e.Sport != 4500 || e.Dport != 4500 || b.sas[1].Dst.String() != "10.0.0.1" {
		t.Errorf("responder's outbound SA %+v", b.sas[1])
	}
	if e := a.sas[1].Encap; e == nil || a.sas[1].Src.String() != "10.1.0.2" {
		t.Errorf("initiator's outbound SA %+v", a.sas[1])
	}
	if st := strings.Join(a.d.Status(n.now), "\n"); !strings.Contains(st, "ESP in UDP SPIs") {
		t.Error(st)
	}
}

func TestDrop500(t *testing.T) {
	n, a, _ := seedPair(t, "        keyingtries=1\n", "", "")
	n.drop = func(src, dst netip.AddrPort) bool { return dst.Port() == 500 && dst.Addr().String() == "10.0.0.201" }
	start := n.now
	lines, done, ok := up(n, a, "debian3", 10*time.Minute)
	if !done || ok {
		t.Fatal("should have failed")
	}
	check(t, "drop500", lines)
	// the retransmissions: 4, 7.2, 12.96, 23.328, 41.9904 s apart, the
	// end 75.58272 s after the last (retransmit_timeout 4, base 1.8)
	var sends []int64
	for _, o := range a.lines {
		if strings.HasPrefix(o.Line, "sending packet") {
			sends = append(sends, o.Time-start)
		}
	}
	want := []int64{0, 4000, 11200, 24160, 47488, 89478}
	for i := range want {
		if i >= len(sends) || sends[i]/int64(time.Millisecond) != want[i] {
			t.Fatalf("sent at %v ms, want %v", sends, want)
		}
	}
	if last := a.lines[len(a.lines)-1].Time - start; last/int64(time.Millisecond) != 165060 {
		t.Errorf("gave up after %d ms", last/int64(time.Millisecond))
	}
}

func TestDrop4500(t *testing.T) {
	n, a, b := seedPair(t, "        keyingtries=1\n", "", "")
	n.drop = func(src, dst netip.AddrPort) bool { return dst.Port() == 4500 && dst.Addr().String() == "10.0.0.201" }
	lines, done, ok := up(n, a, "debian3", 10*time.Minute)
	if !done || ok {
		t.Fatal("should have failed")
	}
	check(t, "drop4500", lines)
	// The real responder (testdata/real/drop4500/charon-b.log): "19:33:44
	// 07[JOB] deleting half open IKE_SA with 10.0.0.200 after timeout", 30
	// s after its IKE_SA_INIT response; its status then shows none.
	if st := b.d.Status(n.now); st[0] != "Security Associations (0 up, 0 connecting):" {
		t.Errorf("responder status %q", st)
	}
	var at int64 = -1
	for _, o := range b.lines {
		if o.Line == "deleting half open IKE_SA with 10.0.0.200 after timeout" && o.Group == "JOB" {
			at = o.Time
		}
	}
	if first := b.lines[0].Time; at-first != int64(30*time.Second) {
		t.Errorf("half open IKE_SA deleted at %d ns after the first datagram", at-first)
	}
}

func TestWrongPSK(t *testing.T) {
	n, a, b := seedPair(t, "", "", "")
	b.d.secrets, _ = parseSecrets("s", `: PSK "other"`)
	lines, done, ok := up(n, a, "debian3", time.Minute)
	if !done || ok {
		t.Fatal("should have failed")
	}
	check(t, "wrongpsk", lines)
	if !strings.Contains(strings.Join(daemonLog(b), "\n"), "tried 1 shared key for 'debian3.example.com' - 'debian2.example.com', but MAC mismatched") {
		t.Error(strings.Join(daemonLog(b), "\n"))
	}
}

func TestDefaultProposals(t *testing.T) {
	conf := func(name, leftid, right, rightid, l, r string) string {
		return strings.ReplaceAll(strings.ReplaceAll(seedConf(name, leftid, right, rightid, l, r, ""),
			"        ike=aes128-sha1-modp1024!\n", ""), "        esp=aes128-sha1!\n", "")
	}
	for _, tc := range []struct{ name, ike, esp string }{
		{"defaults", "", ""},
		{"nobang", "        ike=aes256-sha256-modp2048\n", "        esp=aes256-sha256\n"},
	} {
		n, a, b := seedPair(t, "", "", "")
		if err := a.d.Load(conf("debian3", "debian2.example.com", "debian3.example.com", "debian3.example.com",
			"192.168.200.0/24", "192.168.201.0/24")+tc.ike+tc.esp, seedSecrets, "", 0); err != nil {
			t.Fatal(err)
		}
		if err := b.d.Load(conf("debian2", "debian3.example.com", "debian2.example.com", "debian2.example.com",
			"192.168.201.0/24", "192.168.200.0/24")+tc.ike+tc.esp, seedSecrets, "", 0); err != nil {
			t.Fatal(err)
		}
		lines, _, _ := up(n, a, "debian3", time.Minute)
		check(t, tc.name, lines)
	}
}

func TestKeyingTriesForever(t *testing.T) {
	n, a, _ := seedPair(t, "        keyingtries=%forever\n", "", "")
	n.drop = func(src, dst netip.AddrPort) bool { return dst.Port() == 500 && dst.Addr().String() == "10.0.0.201" }
	lines, done, _ := up(n, a, "debian3", 200*time.Second)
	if done {
		t.Fatalf("keyingtries=%%forever never gives up")
	}
	check(t, "forever", lines)
}

func TestForceEncaps(t *testing.T) {
	n, a, b := seedPair(t, "        forceencaps=yes\n", "        forceencaps=yes\n", "")
	lines, _, ok := up(n, a, "debian3", time.Minute)
	if !ok {
		t.Fatal(strings.Join(lines, "\n"))
	}
	check(t, "forceencaps", lines)
	if a.sas[0].Encap == nil || b.sas[0].Encap == nil {
		t.Error("no UDP encapsulation")
	}
}

func TestIKEPortAndNoRoutes(t *testing.T) {
	n, a, b := seedPair(t, "        rightikeport=4510\n", "        leftikeport=4510\n", "charon {\n\tinstall_routes = no\n}\n")
	_ = b
	lines, _, ok := up(n, a, "debian3", time.Minute)
	if !ok {
		t.Fatal(strings.Join(lines, "\n"))
	}
	s := strings.Join(lines, "\n")
	// float_ports switches the remote port to 4500 whenever ours was
	// 500, whatever the peer's (ike_sa.c)
	if !strings.Contains(s, "sending packet: from 10.0.0.200[500] to 10.0.0.201[4510] (336 bytes)") ||
		!strings.Contains(s, "sending packet: from 10.0.0.200[4500] to 10.0.0.201[4500]") {
		t.Error(s)
	}
	if len(a.routes) != 0 || len(a.rules) != 0 {
		t.Errorf("install_routes=no: %+v %+v", a.routes, a.rules)
	}
}

func TestIPv6(t *testing.T) {
	n := &testNet{natMap: map[netip.AddrPort]netip.AddrPort{}}
	a := newHost(t, n, "a", mustAddrs("2001:db8::be6b:d879"), map[netip.Prefix]string{
		netip.MustParsePrefix("2001:db8::/32"): "eth0"}, "", 1)
	b := newHost(t, n, "b", mustAddrs("2001:db8:f:608::2"), map[netip.Prefix]string{
		netip.MustParsePrefix("2001:db8::/32"): "eth0"}, "", 2)
	conf := "conn v6\n\tleft=%s\n\tright=%s\n\tauthby=secret\n\tauto=add\n"
	if err := a.d.Load(fmt.Sprintf(conf, "2001:db8::be6b:d879", "2001:db8:f:608::2"), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.d.Load(fmt.Sprintf(conf, "2001:db8:f:608::2", "2001:db8::be6b:d879"), seedSecrets, "", 0); err != nil {
		t.Fatal(err)
	}
	lines, _, ok := up(n, a, "v6", time.Minute)
	if !ok {
		t.Fatal(strings.Join(lines, "\n"))
	}
	s := strings.Join(lines, "\n")
	for _, w := range []string{
		"sending packet: from 2001:db8::be6b:d879[500] to 2001:db8:f:608::2[500] (940 bytes)",
		"sending packet: from 2001:db8::be6b:d879[4500] to 2001:db8:f:608::2[4500]",
		"TS 2001:db8::be6b:d879/128 === 2001:db8:f:608::2/128",
		"IKE_SA v6[1] established between 2001:db8::be6b:d879[2001:db8::be6b:d879]...2001:db8:f:608::2[2001:db8:f:608::2]",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in\n%s", w, s)
		}
	}
	// a host-to-host tunnel gets its route too (install_route finds the
	// local address in the local selector)
	if len(a.routes) != 1 || a.routes[0].Dst.String() != "2001:db8:f:608::2/128" || a.routes[0].Src.String() != "2001:db8::be6b:d879" {
		t.Errorf("routes %+v", a.routes)
	}
}
