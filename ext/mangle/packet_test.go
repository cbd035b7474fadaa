package mangle_test

import (
	"net/netip"
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/ext/mangle"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

const v4, v6 = xtables.IPv4, xtables.IPv6

func tg(t testing.TB, f xtables.Family, args ...string) xtables.PacketTargeter {
	t.Helper()
	return kt.Target(t, f, "mangle", args...)
}

func checksumsOK(t *testing.T, p *packet.Packet) {
	t.Helper()
	if ip, tr := p.ChecksumsOK(); !ip || !tr {
		t.Errorf("checksums after rewrite: ip %v transport %v", ip, tr)
	}
	// The decoded fields agree with the bytes.
	var q packet.Packet
	if err := q.Decode(append([]byte(nil), p.Data...)); err != nil {
		t.Fatal(err)
	}
	if p.IsIPv4() && (q.IPv4.TOS != p.IPv4.TOS || q.IPv4.TTL != p.IPv4.TTL || q.IPv4.Checksum != p.IPv4.Checksum) ||
		p.IsIPv6() && (q.IPv6.TrafficClass != p.IPv6.TrafficClass || q.IPv6.HopLimit != p.IPv6.HopLimit) ||
		q.TCP.Flags != p.TCP.Flags || q.TCP.Checksum != p.TCP.Checksum {
		t.Errorf("decoded fields differ from the bytes")
	}
}

func TestMarkTarget(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17})
	for _, c := range []struct {
		args     []string
		in, want uint32
	}{
		{[]string{"-j", "MARK", "--set-mark", "0x5"}, 0xff00, 0x5},
		{[]string{"-j", "MARK", "--set-mark", "0x5/0xf"}, 0xff0a, 0xff05},
		{[]string{"-j", "MARK", "--set-xmark", "0x5/0xf"}, 0xff0a, 0xff05},
		{[]string{"-j", "MARK", "--set-xmark", "0x50/0"}, 0xff0a, 0xff5a},
		{[]string{"-j", "MARK", "--and-mark", "0xf0"}, 0xff, 0xf0},
		{[]string{"-j", "MARK", "--or-mark", "0x100"}, 0xff, 0x1ff},
		{[]string{"-j", "MARK", "--xor-mark", "0x0f"}, 0xff, 0xf0},
	} {
		st := kt.State(v4, xtables.HookPrerouting, pk, &kt.Env{})
		st.Mark = c.in
		if v := tg(t, v4, c.args...).TargetPacket(st); v != xtables.VerdictCodeContinue || st.Mark != c.want {
			t.Errorf("%v on %#x: mark %#x verdict %v, want %#x", c.args, c.in, st.Mark, v, c.want)
		}
	}
}

func TestConnmarkTarget(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17})
	for _, c := range []struct {
		args               []string
		mark, ctmark       uint32
		wantMark, wantCtMk uint32
	}{
		{[]string{"-j", "CONNMARK", "--set-mark", "7"}, 0, 0xf0, 0, 7},
		{[]string{"-j", "CONNMARK", "--set-xmark", "0x1/0x3"}, 0, 0xf3, 0, 0xf1},
		{[]string{"-j", "CONNMARK", "--save-mark"}, 0x42, 0x7, 0x42, 0x42},
		{[]string{"-j", "CONNMARK", "--save-mark", "--mask", "0xf"}, 0x42, 0x70, 0x42, 0x72},
		{[]string{"-j", "CONNMARK", "--save-mark", "--nfmask", "0xf0", "--ctmask", "0xff"}, 0x42, 0x777, 0x42, 0x740},
		{[]string{"-j", "CONNMARK", "--restore-mark"}, 0x1, 0x99, 0x99, 0x99},
		{[]string{"-j", "CONNMARK", "--restore-mark", "--mask", "0xf0"}, 0x101, 0x99, 0x191, 0x99},
		{[]string{"-j", "CONNMARK", "--restore-mark", "--ctmask", "0xff", "--nfmask", "0xf", "--right-shift-mark", "4"}, 0x13, 0x95, 0x19, 0x95},
		{[]string{"-j", "CONNMARK", "--save-mark", "--left-shift-mark", "8"}, 0x12, 0, 0x12, 0x1200},
	} {
		st := kt.State(v4, xtables.HookPrerouting, pk, &kt.Env{})
		ct := &kt.Conn{MarkV: c.ctmark}
		st.Ct, st.Mark = ct, c.mark
		tg(t, v4, c.args...).TargetPacket(st)
		if st.Mark != c.wantMark || ct.MarkV != c.wantCtMk {
			t.Errorf("%v: mark %#x ctmark %#x, want %#x %#x", c.args, st.Mark, ct.MarkV, c.wantMark, c.wantCtMk)
		}
	}
	st := kt.State(v4, xtables.HookPrerouting, pk, &kt.Env{})
	st.Mark = 5
	tg(t, v4, "-j", "CONNMARK", "--restore-mark").TargetPacket(st)
	if st.Mark != 5 {
		t.Error("restore without a connection changed the mark")
	}
}

type tmplHost struct {
	kt.Env
	got *mangle.CT
}

func (h *tmplHost) SetCTTemplate(st *xtables.PacketState, c *mangle.CT) { h.got = c }

func TestCTTarget(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17})
	h := &tmplHost{}
	st := kt.State(v4, xtables.HookPrerouting, pk, h)
	for _, args := range [][]string{{"-j", "NOTRACK"}, {"-j", "CT", "--notrack"}} {
		st := kt.State(v4, xtables.HookPrerouting, pk, h)
		if v := kt.Target(t, v4, "raw", args...).TargetPacket(st); v != xtables.VerdictCodeContinue || !st.Notrack || st.CtInfo != xtables.CtUntracked {
			t.Errorf("%v: notrack %v ctinfo %v", args, st.Notrack, st.CtInfo)
		}
	}
	kt.Target(t, v4, "raw", "-j", "CT", "--zone", "7", "--helper", "ftp").TargetPacket(st)
	if !st.CtZoneSet || st.CtZone != 7 || h.got == nil || h.got.Helper != "ftp" {
		t.Errorf("zone %v/%d template %+v", st.CtZoneSet, st.CtZone, h.got)
	}
	st = kt.State(v4, xtables.HookPrerouting, pk, h)
	st.Mark = 0x10042
	kt.Target(t, v4, "raw", "-j", "CT", "--zone", "mark").TargetPacket(st)
	if st.CtZone != 0x42 {
		t.Errorf("zone from mark: %#x", st.CtZone)
	}
	// A packet with its conntrack already (looped back) is left alone.
	st = kt.State(v4, xtables.HookOutput, pk, h)
	st.Ct = &kt.Conn{}
	kt.Target(t, v4, "raw", "-j", "CT", "--notrack").TargetPacket(st)
	if st.Notrack {
		t.Error("a tracked packet became untracked")
	}
}

func TestDSCPAndTOS(t *testing.T) {
	for _, c := range []struct {
		f       xtables.Family
		args    []string
		tos     uint8
		wantTOS uint8
	}{
		{v4, []string{"-j", "DSCP", "--set-dscp", "0x2e"}, 0x03, 0xbb},
		{v4, []string{"-j", "DSCP", "--set-dscp-class", "AF11"}, 0x00, 0x28},
		{v6, []string{"-j", "DSCP", "--set-dscp", "0x0a"}, 0x02, 0x2a},
		{v4, []string{"-j", "TOS", "--set-tos", "0x10"}, 0xe3, 0x10},
		{v4, []string{"-j", "TOS", "--set-tos", "0x10/0x3f"}, 0xe3, 0xd0},
		{v4, []string{"-j", "TOS", "--and-tos", "0x0f"}, 0xe3, 0x03},
		{v4, []string{"-j", "TOS", "--or-tos", "0x08"}, 0x01, 0x09},
		{v4, []string{"-j", "TOS", "--xor-tos", "0xff"}, 0x0f, 0xf0},
		{v6, []string{"-j", "TOS", "--set-tos", "0x04/0x0c"}, 0xff, 0xf7},
	} {
		src, dst := "10.0.0.1", "10.0.0.2"
		if c.f == v6 {
			src, dst = "2001:db8::1", "2001:db8::2"
		}
		pk := kt.Build(t, kt.Pkt{Src: src, Dst: dst, Proto: 17, Sport: 1, Dport: 2, TOS: c.tos})
		st := kt.State(c.f, xtables.HookForward, pk, &kt.Env{})
		tg(t, c.f, c.args...).TargetPacket(st)
		got := pk.IPv4.TOS
		if c.f == v6 {
			got = pk.IPv6.TrafficClass
		}
		if got != c.wantTOS {
			t.Errorf("%v on %#x: %#x, want %#x", c.args, c.tos, got, c.wantTOS)
		}
		checksumsOK(t, pk)
	}
}

func TestTTLAndHL(t *testing.T) {
	for _, c := range []struct {
		f         xtables.Family
		args      []string
		ttl, want uint8
	}{
		{v4, []string{"-j", "TTL", "--ttl-set", "1"}, 64, 1},
		{v4, []string{"-j", "TTL", "--ttl-inc", "10"}, 250, 255},
		{v4, []string{"-j", "TTL", "--ttl-dec", "10"}, 5, 0},
		{v4, []string{"-j", "TTL", "--ttl-dec", "1"}, 64, 63},
		{v6, []string{"-j", "HL", "--hl-set", "7"}, 64, 7},
		{v6, []string{"-j", "HL", "--hl-inc", "200"}, 64, 255},
		{v6, []string{"-j", "HL", "--hl-dec", "4"}, 64, 60},
	} {
		src, dst := "10.0.0.1", "10.0.0.2"
		if c.f == v6 {
			src, dst = "2001:db8::1", "2001:db8::2"
		}
		pk := kt.Build(t, kt.Pkt{Src: src, Dst: dst, Proto: 17, TTL: c.ttl})
		tg(t, c.f, c.args...).TargetPacket(kt.State(c.f, xtables.HookForward, pk, &kt.Env{}))
		got := pk.IPv4.TTL
		if c.f == v6 {
			got = pk.IPv6.HopLimit
		}
		if got != c.want || pk.Data[8-1+boolInt(c.f == v4)] != c.want {
			t.Errorf("%v on %d: %d, want %d", c.args, c.ttl, got, c.want)
		}
		checksumsOK(t, pk)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestECNTarget(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 2,
		Flags: packet.TCPSyn | packet.TCPEce | packet.TCPCwr, TOS: 0x03})
	tg(t, v4, "-p", "tcp", "-j", "ECN", "--ecn-tcp-remove").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if pk.TCP.Flags != packet.TCPSyn {
		t.Errorf("--ecn-tcp-remove left flags %#x", pk.TCP.Flags)
	}
	checksumsOK(t, pk)
	tg(t, v4, "-p", "tcp", "-j", "ECN", "--ecn-tcp-ece", "1").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if pk.TCP.Flags != packet.TCPSyn|packet.TCPEce {
		t.Errorf("--ecn-tcp-ece 1: flags %#x", pk.TCP.Flags)
	}
	checksumsOK(t, pk)
}

// syn builds a TCP SYN with the given options.
func syn(t *testing.T, f xtables.Family, opts []byte, payload int) *packet.Packet {
	src, dst := "10.0.0.1", "10.0.0.2"
	if f == v6 {
		src, dst = "2001:db8::1", "2001:db8::2"
	}
	return kt.Build(t, kt.Pkt{Src: src, Dst: dst, Proto: 6, Sport: 40000, Dport: 80, Flags: packet.TCPSyn, TCPOptions: opts, Payload: payload})
}

var mss1460 = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}

func TestTCPMSS(t *testing.T) {
	// Lowered, never raised.
	pk := syn(t, v4, mss1460, 0)
	tg(t, v4, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss", "1400").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if pk.TCP.MSS != 1400 {
		t.Errorf("--set-mss 1400: MSS %d", pk.TCP.MSS)
	}
	checksumsOK(t, pk)
	tg(t, v4, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss", "1460").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if pk.TCP.MSS != 1400 {
		t.Errorf("MSS raised to %d", pk.TCP.MSS)
	}
	// Clamped to the path MTU: min(out, reverse) - 40.
	env := &kt.Env{MTUOut: 1492, MTURev: 1500}
	clamp := tg(t, v4, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu")
	pk = syn(t, v4, mss1460, 0)
	clamp.TargetPacket(kt.State(v4, xtables.HookForward, pk, env))
	if pk.TCP.MSS != 1452 {
		t.Errorf("clamp to 1492: MSS %d", pk.TCP.MSS)
	}
	pk6 := syn(t, v6, mss1460, 0)
	clamp6 := tg(t, v6, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu")
	clamp6.TargetPacket(kt.State(v6, xtables.HookForward, pk6, env))
	if pk6.TCP.MSS != 1432 {
		t.Errorf("IPv6 clamp to 1492: MSS %d", pk6.TCP.MSS)
	}
	checksumsOK(t, pk6)
	// No MSS option: one is added (at most 536 for IPv4) and the packet
	// grows by 4 bytes.
	pk = syn(t, v4, nil, 0)
	n := len(pk.Data)
	tg(t, v4, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss", "1000").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if len(pk.Data) != n+4 || pk.TCP.Opts&packet.OptMSS == 0 || pk.TCP.MSS != 536 || pk.TCP.DataOff != 6 || int(pk.IPv4.TotalLen) != n+4 {
		t.Errorf("added MSS: len %d->%d MSS %d doff %d", n, len(pk.Data), pk.TCP.MSS, pk.TCP.DataOff)
	}
	checksumsOK(t, pk)
	pk6 = syn(t, v6, nil, 0)
	tg(t, v6, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss", "1300").TargetPacket(kt.State(v6, xtables.HookForward, pk6, &kt.Env{}))
	if pk6.TCP.MSS != 1220 {
		t.Errorf("IPv6 added MSS %d, want 1220", pk6.TCP.MSS)
	}
	checksumsOK(t, pk6)
	// A SYN with data gets no option.
	pk = syn(t, v4, nil, 10)
	n = len(pk.Data)
	tg(t, v4, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss", "1000").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if len(pk.Data) != n || pk.TCP.Opts&packet.OptMSS != 0 {
		t.Error("an option was added to a SYN with data")
	}
	// Without the host's MTUs the path MTU is unknown: dropped.
	if v := clamp.TargetPacket(kt.State(v4, xtables.HookForward, syn(t, v4, mss1460, 0), bare{&kt.Env{}})); v != xtables.VerdictCodeDrop {
		t.Errorf("unknown path MTU: verdict %v", v)
	}
}

// bare hides the fake host's optional methods.
type bare struct{ xtables.Env }

func TestTCPOptStrip(t *testing.T) {
	pk := syn(t, v4, mss1460, 0)
	tg(t, v4, "-p", "tcp", "-j", "TCPOPTSTRIP", "--strip-options", "timestamp,sack-permitted").TargetPacket(kt.State(v4, xtables.HookForward, pk, &kt.Env{}))
	if pk.TCP.Opts&(packet.OptTimestamp|packet.OptSACKPermitted) != 0 || pk.TCP.Opts&packet.OptMSS == 0 || pk.TCP.Opts&packet.OptWScale == 0 {
		t.Errorf("options left: %#x", pk.TCP.Opts)
	}
	want := []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	if string(pk.TCP.Options) != string(want) {
		t.Errorf("options % x, want % x", pk.TCP.Options, want)
	}
	checksumsOK(t, pk)
}

func TestHMARK(t *testing.T) {
	a := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 40000, Dport: 80, Flags: packet.TCPSyn})
	b := kt.Build(t, kt.Pkt{Src: "10.0.0.2", Dst: "10.0.0.1", Proto: 6, Sport: 80, Dport: 40000, Flags: packet.TCPSyn | packet.TCPAck})
	h := tg(t, v4, "-j", "HMARK", "--hmark-tuple", "src,dst,sport,dport,proto", "--hmark-mod", "1000", "--hmark-offset", "10000", "--hmark-rnd", "0xcafe")
	st := kt.State(v4, xtables.HookPrerouting, a, &kt.Env{})
	h.TargetPacket(st)
	// By hand: addresses and ports in order, jhash_3words, ^ proto.
	want := kern.ReciprocalScale(kern.Jhash3Words(0x0a000001, 0x0a000002, 40000<<16|80, 0xcafe)^6, 1000) + 10000
	if st.Mark != want {
		t.Errorf("mark %d, want %d", st.Mark, want)
	}
	st2 := kt.State(v4, xtables.HookPrerouting, b, &kt.Env{})
	h.TargetPacket(st2)
	if st2.Mark != st.Mark {
		t.Errorf("the reply hashes to %d, the request to %d", st2.Mark, st.Mark)
	}
	// From the connection: original source and reply source.
	hc := tg(t, v4, "-j", "HMARK", "--hmark-tuple", "ct,src,dst", "--hmark-mod", "16", "--hmark-rnd", "1")
	st3 := kt.State(v4, xtables.HookPrerouting, a, &kt.Env{})
	st3.Ct = kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 80)
	hc.TargetPacket(st3)
	wantCt := kern.ReciprocalScale(kern.Jhash3Words(0x0a000001, 0x0a000002, 0, 1)^0, 16)
	if st3.Mark != wantCt {
		t.Errorf("ct mark %d, want %d", st3.Mark, wantCt)
	}
	st4 := kt.State(v4, xtables.HookPrerouting, a, &kt.Env{})
	st4.Mark = 99
	hc.TargetPacket(st4)
	if st4.Mark != 99 {
		t.Error("ct mode without a connection changed the mark")
	}
}

type socketsHost struct {
	kt.Env
	dup   []netip.Addr
	found bool
	laddr netip.Addr
	lport uint16
}

func (h *socketsHost) Duplicate(st *xtables.PacketState, gw netip.Addr, oif string) {
	h.dup = append(h.dup, gw)
}
func (h *socketsHost) TproxyAssign(st *xtables.PacketState, laddr netip.Addr, lport uint16) bool {
	h.laddr, h.lport = laddr, lport
	return h.found
}

func TestTEEAndTPROXY(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 40000, Dport: 80, Flags: packet.TCPSyn})
	h := &socketsHost{}
	if v := tg(t, v4, "-j", "TEE", "--gateway", "192.0.2.9").TargetPacket(kt.State(v4, xtables.HookPrerouting, pk, h)); v != xtables.VerdictCodeContinue || len(h.dup) != 1 || h.dup[0] != netip.MustParseAddr("192.0.2.9") {
		t.Errorf("TEE: verdict %v copies %v", v, h.dup)
	}
	tp := tg(t, v4, "-p", "tcp", "-j", "TPROXY", "--on-port", "3128", "--tproxy-mark", "0x1/0x1")
	st := kt.State(v4, xtables.HookPrerouting, pk, h)
	if v := tp.TargetPacket(st); v != xtables.VerdictCodeDrop {
		t.Errorf("TPROXY without a socket: %v", v)
	}
	h.found = true
	st.Mark = 0x10
	if v := tp.TargetPacket(st); v != xtables.VerdictCodeAccept || st.Mark != 0x11 || h.lport != 3128 {
		t.Errorf("TPROXY: verdict %v mark %#x port %d", v, st.Mark, h.lport)
	}
	tp0 := tg(t, v4, "-p", "tcp", "-j", "TPROXY", "--on-port", "0", "--on-ip", "127.0.0.1")
	tp0.TargetPacket(kt.State(v4, xtables.HookPrerouting, pk, h))
	if h.lport != 80 || h.laddr != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("TPROXY without a port: %v:%d", h.laddr, h.lport)
	}
}

func TestSimpleTargets(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17, Sport: 1, Dport: 2})
	for _, args := range [][]string{
		{"-j", "CLASSIFY", "--set-class", "1:10"},
		{"-p", "udp", "-j", "CHECKSUM", "--checksum-fill"},
		{"-j", "CONNSECMARK", "--save"},
	} {
		before := string(pk.Data)
		if v := tg(t, v4, args...).TargetPacket(kt.State(v4, xtables.HookPostrouting, pk, &kt.Env{})); v != xtables.VerdictCodeContinue || string(pk.Data) != before {
			t.Errorf("%v: verdict %v, packet changed %v", args, v, string(pk.Data) != before)
		}
	}
}
