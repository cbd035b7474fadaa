package kernelref

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
)

func TestParseScenario(t *testing.T) {
	text := `# comment
iface eth0 02:00:00:00:00:01 peer 02:00:00:00:00:02   # trailing comment
iface eth1
run ip addr add 10.0.0.1/24 dev eth0
run iptables -A INPUT -j LOG --log-prefix "two words: " # comment
run iptables-restore <<EOF
*filter
-A INPUT -j ACCEPT
COMMIT
EOF
run iptables-restore < rules.txt
listen tcp 22
listen udp 53 10.0.0.1
neigh eth1 10.0.1.9
in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 syn   # a packet
run iptables -F
out udp 10.0.0.1:5000 > 10.0.0.2:53
tcp 10.0.0.2:1 > 10.0.0.1:2 ack peer+1 in eth1
logpkt [x]IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP SPT=1 DPT=2 LEN=8
`
	s, err := ParseScenario("t", text, func(f string) (string, error) { return "file " + f + "\n", nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Ifaces) != 2 || s.Ifaces[1].MAC != [6]byte{2, 0, 0, 0, 1, 1} || s.Ifaces[1].PeerMAC != [6]byte{2, 0, 0, 0, 1, 2} {
		t.Errorf("ifaces %+v", s.Ifaces)
	}
	wantSetup := []Command{
		{Line: 4, Args: []string{"ip", "addr", "add", "10.0.0.1/24", "dev", "eth0"}},
		{Line: 5, Args: []string{"iptables", "-A", "INPUT", "-j", "LOG", "--log-prefix", "two words: "}},
		{Line: 6, Args: []string{"iptables-restore"}, Stdin: "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{Line: 11, Args: []string{"iptables-restore"}, Stdin: "file rules.txt\n"},
	}
	if !reflect.DeepEqual(s.Setup, wantSetup) {
		t.Errorf("setup\n%+v\nwant\n%+v", s.Setup, wantSetup)
	}
	if len(s.Listen) != 2 || s.Listen[0].Addr.IsValid() || s.Listen[1].Addr != netip.MustParseAddr("10.0.0.1") || s.Listen[1].Proto != packet.ProtoUDP {
		t.Errorf("listen %+v", s.Listen)
	}
	if len(s.Neigh) != 1 || s.Neigh[0].Iface != "eth1" {
		t.Errorf("neigh %+v", s.Neigh)
	}
	if len(s.Packets) != 4 {
		t.Fatalf("packets %+v", s.Packets)
	}
	p := s.Packets
	if p[0].Line != 15 || p[0].Text != "in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 syn" || p[0].Spec.Dir != pktspec.DirIn {
		t.Errorf("packet 0 %+v", p[0])
	}
	if len(p[1].Run) != 1 || p[1].Run[0].Args[1] != "-F" || p[1].Spec.Dir != pktspec.DirOut {
		t.Errorf("packet 1 %+v", p[1])
	}
	if p[2].Spec.Iface != "eth1" || !p[2].Spec.AckPeer {
		t.Errorf("packet 2 %+v", p[2])
	}
	if p[3].Spec.Proto != packet.ProtoUDP || p[3].Spec.Iface != "eth0" || !strings.HasPrefix(p[3].Text, "logpkt [x]IN=eth0") {
		t.Errorf("packet 3 %+v", p[3])
	}
	want := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1")}
	if got := s.Addresses(); !reflect.DeepEqual(got, want) {
		t.Errorf("addresses %v", got)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	for _, c := range []struct{ text, msg string }{
		{"", "no iface"},
		{"iface eth0\niface eth0", "twice"},
		{"iface eth0 02:00:00:00:00:01 peer 02:00:00:00:00:01", "must differ"},
		{"iface eth0 zz", "bad MAC"},
		{"iface lo", "bad iface name"},
		{"iface eth0\nrun bash -c x", "run wants"},
		{"iface eth0\nrun iptables-restore <<EOF\n*filter\n", "not terminated"},
		{"iface eth0\nrun iptables-restore < x", "no files"},
		{"iface eth0\nrun echo 'x", "unterminated"},
		{"iface eth0\nlisten sctp 1", "tcp or udp"},
		{"iface eth0\nlisten tcp 0", "bad port"},
		{"iface eth0\nneigh eth1 10.0.0.1", "unknown iface"},
		{"iface eth0\nin eth1 udp 1.1.1.1:1 > 2.2.2.2:2", "no such iface"},
		{"iface eth0\nudp 1.1.1.1:1 > 2.2.2.2:2", "without direction"},
		{"iface eth0\nin eth0 udp 1.1.1.1:1 > 2.2.2.2:2 bogus", "bogus"},
		{"iface eth0\nout udp 1.1.1.1:1 > 2.2.2.2:2\nrun iptables -F", "after the last packet"},
		{"iface eth0\nout udp 1.1.1.1:1 > 2.2.2.2:2\nlisten tcp 1", "after the first packet"},
		{"iface eth0\nlogpkt nothing", "not a LOG line"},
	} {
		_, err := ParseScenario("t", c.text, nil)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.msg)
		}
	}
}

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		`a b  c`:                     {"a", "b", "c"},
		`--log-prefix "x y" z`:       {"--log-prefix", "x y", "z"},
		`'a b'c "d\"e" f\ g`:         {"a bc", `d"e`, "f g"},
		`x # comment "unterminated`:  {"x"},
		`x#y`:                        {"x#y"},
		`""`:                         {""},
		`--log-prefix "[INPUT]" -j`:  {"--log-prefix", "[INPUT]", "-j"},
		"\t tabs\tand spaces \r":     {"tabs", "and", "spaces"},
		`-m comment --comment 'a#b'`: {"-m", "comment", "--comment", "a#b"},
	} {
		got, err := splitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzParseScenario: any text parses or fails with an error, never a panic.
func FuzzParseScenario(f *testing.F) {
	f.Add("iface eth0\nrun ip addr add 10.0.0.1/24 dev eth0\nlisten tcp 22\nin eth0 tcp 10.0.0.2:1 > 10.0.0.1:22 syn\n")
	f.Add("iface eth0 02:00:00:00:00:01 peer 02:00:00:00:00:02\nrun iptables-restore <<EOF\n*filter\nCOMMIT\nEOF\nout udp [::1]:1 > [::2]:2\n")
	f.Add("iface eth0\nlogpkt IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2 LEN=28 TTL=1 PROTO=UDP SPT=1 DPT=2 LEN=8\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseScenario("f", text, nil)
		if err != nil {
			return
		}
		for _, p := range s.Packets {
			if _, err := p.Spec.Resolve(1).Append(nil); err != nil {
				t.Fatalf("packet %q parsed but does not build: %v", p.Text, err)
			}
		}
	})
}
