package ctmatch_test

import (
	"net/netip"
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	"github.com/iptwin/iptwin/ext/ctmatch"
	"github.com/iptwin/iptwin/ext/ctmatch/kern"
	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

const v4, v6 = xtables.IPv4, xtables.IPv6

func tcp4(t *testing.T) *packet.Packet {
	return kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 40000, Dport: 22, Flags: packet.TCPSyn})
}

type ctCase struct {
	name string
	args []string
	ct   *kt.Conn // nil: no connection
	info xtables.CtInfo
	want bool
}

func runCt(t *testing.T, f xtables.Family, pk *packet.Packet, cases []ctCase) {
	t.Helper()
	for _, c := range cases {
		m := kt.Match(t, f, c.args...)
		st := kt.State(f, xtables.HookInput, pk, &kt.Env{})
		if c.ct != nil {
			st.Ct = c.ct
		}
		st.CtInfo = c.info
		if got := m.MatchPacket(st); got != c.want {
			t.Errorf("%s: %v = %v, want %v", c.name, c.args, got, c.want)
		}
	}
}

func TestConntrackState(t *testing.T) {
	flow := kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 22)
	snat := kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 22)
	snat.St = xtables.IPSSrcNAT
	pk := tcp4(t)
	runCt(t, v4, pk, []ctCase{
		{"new", []string{"-m", "conntrack", "--ctstate", "NEW"}, flow, xtables.CtNew, true},
		{"new vs est", []string{"-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED"}, flow, xtables.CtNew, false},
		{"related", []string{"-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED"}, flow, xtables.CtRelated, true},
		{"inverted", []string{"-m", "conntrack", "!", "--ctstate", "NEW"}, flow, xtables.CtEstablished, true},
		{"invalid", []string{"-m", "conntrack", "--ctstate", "INVALID"}, nil, xtables.CtInvalid, true},
		{"untracked", []string{"-m", "conntrack", "--ctstate", "UNTRACKED"}, nil, xtables.CtUntracked, true},
		{"untracked not invalid", []string{"-m", "conntrack", "--ctstate", "INVALID"}, nil, xtables.CtUntracked, false},
		{"snat", []string{"-m", "conntrack", "--ctstate", "SNAT"}, snat, xtables.CtEstablished, true},
		{"no snat", []string{"-m", "conntrack", "--ctstate", "SNAT"}, flow, xtables.CtEstablished, false},
		{"dnat inverted", []string{"-m", "conntrack", "!", "--ctstate", "DNAT"}, snat, xtables.CtEstablished, true},
		// Without a connection only a state test can match.
		{"no ct, proto", []string{"-m", "conntrack", "--ctproto", "tcp"}, nil, xtables.CtInvalid, false},
		{"no ct, ! proto", []string{"-m", "conntrack", "!", "--ctproto", "tcp"}, nil, xtables.CtInvalid, false},
		{"state alias", []string{"-m", "state", "--state", "NEW"}, flow, xtables.CtNew, true},
		{"state alias inv", []string{"-m", "state", "!", "--state", "NEW,INVALID"}, nil, xtables.CtInvalid, false},
	})
}

func TestConntrackTuple(t *testing.T) {
	flow := kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 22)
	flow.Repl.Dst = netip.MustParseAddr("192.0.2.7") // SNAT
	flow.Repl.DstPort = 1024
	flow.St = xtables.IPSSeenReply | xtables.IPSAssured | xtables.IPSSrcNAT
	flow.Exp = 431990
	rep := *flow
	rep.IsReply = true
	pk := tcp4(t)
	est := xtables.CtEstablished
	runCt(t, v4, pk, []ctCase{
		{"proto", []string{"-m", "conntrack", "--ctproto", "tcp"}, flow, est, true},
		{"proto udp", []string{"-m", "conntrack", "--ctproto", "udp"}, flow, est, false},
		{"! proto udp", []string{"-m", "conntrack", "!", "--ctproto", "udp"}, flow, est, true},
		{"origsrc mask", []string{"-m", "conntrack", "--ctorigsrc", "10.0.0.0/24"}, flow, est, true},
		{"origsrc other", []string{"-m", "conntrack", "--ctorigsrc", "10.0.1.0/24"}, flow, est, false},
		{"! origdst", []string{"-m", "conntrack", "!", "--ctorigdst", "10.0.0.2"}, flow, est, false},
		{"repldst nat", []string{"-m", "conntrack", "--ctrepldst", "192.0.2.7"}, flow, est, true},
		{"replsrc", []string{"-m", "conntrack", "--ctreplsrc", "10.0.0.2/32"}, flow, est, true},
		{"origdstport", []string{"-m", "conntrack", "--ctorigdstport", "22"}, flow, est, true},
		{"origsrcport range", []string{"-m", "conntrack", "--ctorigsrcport", "30000:40000"}, flow, est, true},
		{"! origsrcport range", []string{"-m", "conntrack", "!", "--ctorigsrcport", "30000:40000"}, flow, est, false},
		{"repldstport", []string{"-m", "conntrack", "--ctrepldstport", "1024"}, flow, est, true},
		{"status", []string{"-m", "conntrack", "--ctstatus", "ASSURED"}, flow, est, true},
		{"status expected", []string{"-m", "conntrack", "--ctstatus", "EXPECTED"}, flow, est, false},
		{"status none never", []string{"-m", "conntrack", "--ctstatus", "NONE"}, flow, est, false},
		{"! status none", []string{"-m", "conntrack", "!", "--ctstatus", "NONE"}, flow, est, true},
		{"expire range", []string{"-m", "conntrack", "--ctexpire", "400000:500000"}, flow, est, true},
		{"expire single", []string{"-m", "conntrack", "--ctexpire", "10"}, flow, est, false},
		{"! expire", []string{"-m", "conntrack", "!", "--ctexpire", "10:20"}, flow, est, true},
		{"dir original", []string{"-m", "conntrack", "--ctdir", "ORIGINAL"}, flow, est, true},
		{"dir reply on orig", []string{"-m", "conntrack", "--ctdir", "REPLY"}, flow, est, false},
		{"dir reply", []string{"-m", "conntrack", "--ctdir", "REPLY"}, &rep, est, true},
		{"all", []string{"-m", "conntrack", "--ctstate", "ESTABLISHED", "--ctproto", "6", "--ctorigdstport", "22", "--ctstatus", "SEEN_REPLY"}, flow, est, true},
	})
	// IPv6 addresses and masks.
	f6 := kt.Flow(17, "2001:db8::1", 5000, "2001:db8:1::53", 53)
	pk6 := kt.Build(t, kt.Pkt{Src: "2001:db8::1", Dst: "2001:db8:1::53", Proto: 17, Sport: 5000, Dport: 53})
	runCt(t, v6, pk6, []ctCase{
		{"v6 origsrc /64", []string{"-m", "conntrack", "--ctorigsrc", "2001:db8::/64"}, f6, est, true},
		{"v6 origdst /48 other", []string{"-m", "conntrack", "--ctorigdst", "2001:db8:2::/48"}, f6, est, false},
	})
}

func TestMarks(t *testing.T) {
	pk := tcp4(t)
	for _, c := range []struct {
		args []string
		mark uint32
		ct   *kt.Conn
		want bool
	}{
		{[]string{"-m", "mark", "--mark", "0x10/0xf0"}, 0x1f, nil, true},
		{[]string{"-m", "mark", "--mark", "0x10/0xf0"}, 0x2f, nil, false},
		{[]string{"-m", "mark", "!", "--mark", "1"}, 2, nil, true},
		{[]string{"-m", "connmark", "--mark", "5"}, 0, &kt.Conn{MarkV: 5}, true},
		{[]string{"-m", "connmark", "--mark", "4/4"}, 0, &kt.Conn{MarkV: 5}, true},
		{[]string{"-m", "connmark", "!", "--mark", "5"}, 0, &kt.Conn{MarkV: 5}, false},
		{[]string{"-m", "connmark", "!", "--mark", "5"}, 0, nil, false}, // no ct: false even inverted
	} {
		m := kt.Match(t, v4, c.args...)
		st := kt.State(v4, xtables.HookInput, pk, &kt.Env{})
		st.Mark = c.mark
		if c.ct != nil {
			st.Ct = c.ct
		}
		if got := m.MatchPacket(st); got != c.want {
			t.Errorf("%v mark %#x: %v, want %v", c.args, c.mark, got, c.want)
		}
	}
}

func TestConnbytes(t *testing.T) {
	c := &kt.Conn{Pkts: [2]uint64{10, 5}, Bytes: [2]uint64{1000, 5000}}
	pk := tcp4(t)
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-m", "connbytes", "--connbytes", "10", "--connbytes-dir", "original", "--connbytes-mode", "packets"}, true},
		{[]string{"-m", "connbytes", "--connbytes", "11", "--connbytes-dir", "original", "--connbytes-mode", "packets"}, false},
		{[]string{"-m", "connbytes", "--connbytes", "0:5", "--connbytes-dir", "reply", "--connbytes-mode", "packets"}, true},
		{[]string{"-m", "connbytes", "--connbytes", "6000:6000", "--connbytes-dir", "both", "--connbytes-mode", "bytes"}, true},
		// The inversion is the range given backwards: a one-value range
		// cannot be inverted.
		{[]string{"-m", "connbytes", "!", "--connbytes", "6000:6000", "--connbytes-dir", "both", "--connbytes-mode", "bytes"}, true},
		{[]string{"-m", "connbytes", "!", "--connbytes", "5000:7000", "--connbytes-dir", "both", "--connbytes-mode", "bytes"}, false},
		{[]string{"-m", "connbytes", "!", "--connbytes", "100:200", "--connbytes-dir", "both", "--connbytes-mode", "avgpkt"}, true},
		{[]string{"-m", "connbytes", "--connbytes", "400:400", "--connbytes-dir", "both", "--connbytes-mode", "avgpkt"}, true},
		{[]string{"-m", "connbytes", "--connbytes", "1000", "--connbytes-dir", "reply", "--connbytes-mode", "avgpkt"}, true},
	} {
		m := kt.Match(t, v4, tc.args...)
		st := kt.State(v4, xtables.HookInput, pk, &kt.Env{})
		st.Ct = c
		if got := m.MatchPacket(st); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.args, got, tc.want)
		}
		st.Ct = nil
		if m.MatchPacket(st) {
			t.Errorf("%v matched without a connection", tc.args)
		}
	}
}

func TestConnlabel(t *testing.T) {
	pk := tcp4(t)
	set := kt.Match(t, v4, "-m", "connlabel", "--label", "70", "--set")
	check := kt.Match(t, v4, "-m", "connlabel", "--label", "70")
	inv := kt.Match(t, v4, "-m", "connlabel", "!", "--label", "70")
	c := &kt.Conn{}
	st := kt.State(v4, xtables.HookInput, pk, &kt.Env{})
	st.Ct = c
	if check.MatchPacket(st) || !inv.MatchPacket(st) {
		t.Fatal("label 70 seen before it was set")
	}
	if !set.MatchPacket(st) || c.Lab[1] != 1<<6 {
		t.Fatalf("--set: labels %x", c.Lab)
	}
	if !check.MatchPacket(st) || inv.MatchPacket(st) {
		t.Error("label 70 not seen after --set")
	}
	st.Ct = &kt.Conn{NoLabels: true}
	if set.MatchPacket(st) || !inv.MatchPacket(st) {
		t.Error("a connection without labels: only the inversion matches")
	}
}

func TestHelper(t *testing.T) {
	pk := tcp4(t)
	master := &kt.Conn{HelperName: "ftp"}
	data := &kt.Conn{MasterConn: master}
	for _, c := range []struct {
		args []string
		ct   *kt.Conn
		want bool
	}{
		{[]string{"-m", "helper", "--helper", "ftp"}, data, true},
		{[]string{"-m", "helper", "--helper", "ftp-21"}, data, true}, // strncmp over "ftp"
		{[]string{"-m", "helper", "--helper", "ft"}, data, false},
		{[]string{"-m", "helper", "--helper", "sip"}, data, false},
		{[]string{"-m", "helper", "!", "--helper", "sip"}, data, true},
		{[]string{"-m", "helper", "--helper", "ftp"}, master, false}, // not expected
		{[]string{"-m", "helper", "!", "--helper", "ftp"}, master, true},
		{[]string{"-m", "helper", "--helper", ""}, data, true},
		{[]string{"-m", "helper", "--helper", "ftp"}, &kt.Conn{MasterConn: &kt.Conn{}}, false},
	} {
		m := kt.Match(t, v4, c.args...)
		st := kt.State(v4, xtables.HookInput, pk, &kt.Env{})
		st.Ct = c.ct
		if got := m.MatchPacket(st); got != c.want {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
}

func TestPolicyWithoutIPsec(t *testing.T) {
	pk := tcp4(t)
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"-m", "policy", "--dir", "in", "--pol", "none"}, true},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec"}, false},
		{[]string{"-m", "policy", "--dir", "out", "--pol", "none"}, true},
		{[]string{"-m", "policy", "--dir", "out", "--pol", "ipsec", "--proto", "esp"}, false},
	} {
		m := kt.Match(t, v4, c.args...)
		if got := m.MatchPacket(kt.State(v4, xtables.HookInput, pk, &kt.Env{})); got != c.want {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
}

// ipsecEnv adds an IPsec view to the fake host.
type ipsecEnv struct {
	kt.Env
	in, out []ctmatch.XfrmState
}

func (e *ipsecEnv) InputSAs(*xtables.PacketState) ([]ctmatch.XfrmState, bool) {
	return e.in, e.in != nil
}
func (e *ipsecEnv) OutputSAs(*xtables.PacketState) ([]ctmatch.XfrmState, bool) {
	return e.out, e.out != nil
}

func TestPolicyWithSAs(t *testing.T) {
	pk := tcp4(t)
	gw := netip.MustParseAddr("192.0.2.1")
	me := netip.MustParseAddr("192.0.2.2")
	tunnel := ctmatch.XfrmState{Src: gw, Dst: me, Proto: 50, Mode: 1, SPI: 0x1000, Reqid: 1}
	comp := ctmatch.XfrmState{Src: gw, Dst: me, Proto: 108, Mode: 1, SPI: 0x2000, Reqid: 2}
	env := &ipsecEnv{in: []ctmatch.XfrmState{comp, tunnel}}
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"-m", "policy", "--dir", "in", "--pol", "none"}, false},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec"}, true}, // one empty element: any SA
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "--proto", "esp"}, true},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "--proto", "ah"}, false},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "--mode", "tunnel", "--tunnel-src", "192.0.2.0/24"}, true},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "!", "--spi", "0x1000"}, true}, // comp has another SPI
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "--strict", "--proto", "esp", "--next", "--proto", "108"}, true},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "--strict", "--proto", "108", "--next", "--proto", "esp"}, false},
		{[]string{"-m", "policy", "--dir", "in", "--pol", "ipsec", "--strict", "--proto", "esp"}, false}, // length differs
		{[]string{"-m", "policy", "--dir", "out", "--pol", "none"}, true},
	} {
		m := kt.Match(t, v4, c.args...)
		if got := m.MatchPacket(kt.State(v4, xtables.HookInput, pk, env)); got != c.want {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
	env.out = []ctmatch.XfrmState{tunnel}
	m := kt.Match(t, v4, "-m", "policy", "--dir", "out", "--pol", "ipsec", "--strict", "--reqid", "1")
	if !m.MatchPacket(kt.State(v4, xtables.HookOutput, pk, env)) {
		t.Error("strict output bundle of one SA")
	}
}

func TestIPVSWithoutIPVS(t *testing.T) {
	pk := tcp4(t)
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"-m", "ipvs", "--ipvs"}, false},
		{[]string{"-m", "ipvs", "!", "--ipvs"}, true},
		{[]string{"-m", "ipvs", "!", "--vproto", "tcp"}, false},
		{[]string{"-m", "ipvs", "--vdir", "REPLY"}, false},
	} {
		m := kt.Match(t, v4, c.args...)
		if got := m.MatchPacket(kt.State(v4, xtables.HookInput, pk, &kt.Env{})); got != c.want {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
}

func TestClusterHash(t *testing.T) {
	pk := tcp4(t)
	c := kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 22)
	// The node is reciprocal_scale(jhash_1word(saddr as loaded, seed), n).
	b := c.Orig.Src.As4()
	node := kern.ReciprocalScale(kern.Jhash1Word(kern.LEWord(b[:]), 0xdeadbeef), 4)
	for n := uint32(1); n <= 4; n++ {
		m := kt.Match(t, v4, "-m", "cluster", "--cluster-total-nodes", "4", "--cluster-local-node", string(rune('0'+n)), "--cluster-hash-seed", "0xdeadbeef")
		st := kt.State(v4, xtables.HookPrerouting, pk, &kt.Env{})
		st.Ct = c
		if got := m.MatchPacket(st); got != (n-1 == node) {
			t.Errorf("node %d: %v (hash node %d)", n, got, node)
		}
		st.Ct = &kt.Conn{MasterConn: c} // expected connection: its master's source
		if got := m.MatchPacket(st); got != (n-1 == node) {
			t.Errorf("node %d via master: %v", n, got)
		}
		st.Ct = nil
		if m.MatchPacket(st) {
			t.Error("matched without a connection")
		}
	}
}

// sockEnv adds a socket table to the fake host.
type sockEnv struct {
	kt.Env
	found, wildcard, transparent bool
	mark                         uint32
}

func (e *sockEnv) LookupSocket(*xtables.PacketState) (bool, bool, bool, uint32) {
	return e.found, e.wildcard, e.transparent, e.mark
}

func TestSocket(t *testing.T) {
	pk := tcp4(t)
	for _, c := range []struct {
		args     []string
		env      xtables.Env
		want     bool
		wantMark uint32
	}{
		{[]string{"-m", "socket"}, &kt.Env{}, false, 0},
		{[]string{"-m", "socket"}, &sockEnv{found: true}, true, 0},
		{[]string{"-m", "socket"}, &sockEnv{found: true, wildcard: true}, false, 0},
		{[]string{"-m", "socket", "--nowildcard"}, &sockEnv{found: true, wildcard: true}, true, 0},
		{[]string{"-m", "socket", "--transparent"}, &sockEnv{found: true}, false, 0},
		{[]string{"-m", "socket", "--transparent", "--restore-skmark"}, &sockEnv{found: true, transparent: true, mark: 7}, true, 7},
		{[]string{"-m", "socket", "--restore-skmark"}, &sockEnv{found: true, wildcard: true, mark: 7}, false, 0},
	} {
		m := kt.Match(t, v4, c.args...)
		st := kt.State(v4, xtables.HookPrerouting, pk, c.env)
		if got := m.MatchPacket(st); got != c.want || st.Mark != c.wantMark {
			t.Errorf("%v: %v mark %d, want %v mark %d", c.args, got, st.Mark, c.want, c.wantMark)
		}
	}
}
