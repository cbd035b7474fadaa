package pktspec

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/packet"
)

func build(t *testing.T, s string) (Spec, []byte, *packet.Packet) {
	t.Helper()
	sp, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	b, err := sp.Append(nil)
	if err != nil {
		t.Fatalf("Append(%q): %v", s, err)
	}
	p := new(packet.Packet)
	if err := p.Decode(b); err != nil {
		t.Fatalf("decode %q: %v\n% x", s, err, b)
	}
	if ip, tr := p.ChecksumsOK(); !ip || !tr {
		t.Errorf("%q: checksums ip %v transport %v", s, ip, tr)
	}
	return sp, b, p
}

func TestExamples(t *testing.T) {
	cases := []struct {
		in, summary string
	}{
		{"tcp 10.1.77.146:55724 > 10.1.51.165:22 syn", "IP 10.1.77.146.55724 > 10.1.51.165.22: Flags [S], seq 1000, win 64240, length 0"},
		{"tcp 10.1.77.146.55724 > 10.1.51.165.22: S. seq 5 ack 9 win 100", "IP 10.1.77.146.55724 > 10.1.51.165.22: Flags [S.], seq 5, ack 9, win 100, length 0"},
		{"tcp 10.0.0.1:1 > 10.0.0.2:2 flags [FP.] payload 10", "IP 10.0.0.1.1 > 10.0.0.2.2: Flags [FP.], seq 1000:1010, ack 0, win 64240, length 10"},
		{"tcp 10.0.0.1:1 > 10.0.0.2:2 syn,ack mss 1460 sackok ts 7:0 wscale 7", "IP 10.0.0.1.1 > 10.0.0.2.2: Flags [S.], seq 1000, ack 0, win 64240, options [mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7], length 0"},
		{"udp [2001:db8::1]:500 > [2001:db8::2]:500 len 1596", "IP6 2001:db8::1.500 > 2001:db8::2.500: isakmp:"},
		{"icmp 10.0.0.2 > 10.0.0.1 echo-request id 7 seq 1", "IP 10.0.0.2 > 10.0.0.1: ICMP echo request, id 7, seq 1, length 8"},
		{"icmp6 2001:db8::2 > 2001:db8::1 type 128", "IP6 2001:db8::2 > 2001:db8::1: ICMP6, echo request, id 1, seq 1, length 8"},
		{"esp 1.2.3.4 > 5.6.7.8 spi 0xc1a2 seq 3", "IP 1.2.3.4 > 5.6.7.8: ESP(spi=0x0000c1a2,seq=0x3), length 8"},
		{"ip 1.2.3.4 > 5.6.7.8 proto 47 payload 4", "IP 1.2.3.4 > 5.6.7.8:  ip-proto-47 4"},
		{"icmp 10.0.0.1 > 10.0.0.2 port-unreachable quoting udp 10.0.0.2:5000 > 10.0.0.1:53 payload 20",
			"IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.1 udp port 53 unreachable, length 56"},
		{"icmp6 2001:db8::1 > 2001:db8::2 packet-too-big mtu 1280 quoting udp [2001:db8::2]:1 > [2001:db8::9]:2 payload 2000",
			"IP6 2001:db8::1 > 2001:db8::2: ICMP6, packet too big, mtu 1280, length 1240"},
		{"udp 1.2.3.4:4500 > 5.6.7.8:4500 spi 0x1234 seq 2 payload 16", "IP 1.2.3.4.4500 > 5.6.7.8.4500: UDP-encap: ESP(spi=0x00001234,seq=0x2), length 24"},
		{"udp 1.2.3.4:4500 > 5.6.7.8:4500 ike", "IP 1.2.3.4.4500 > 5.6.7.8.4500: NONESP-encap:  [|isakmp]"},
	}
	for _, c := range cases {
		_, _, p := build(t, c.in)
		if got := p.String(); got != c.summary {
			t.Errorf("%q:\n got  %s\n want %s", c.in, got, c.summary)
		}
	}
}

func TestFields(t *testing.T) {
	s, b, p := build(t, "in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 syn ttl 3 tos 0x10 id 77 df ce win 5 urp 9 res 1 len 60")
	if s.Dir != DirIn || s.Iface != "eth0" {
		t.Errorf("dir %v %q", s.Dir, s.Iface)
	}
	ip := p.IPv4
	if ip.TTL != 3 || ip.TOS != 0x10 || ip.ID != 77 || ip.Flags != packet.IPv4DF|packet.IPv4Evil || len(b) != 60 {
		t.Errorf("ip %+v len %d", ip, len(b))
	}
	if p.TCP.Window != 5 || p.TCP.Urgent != 9 || p.TCP.Reserved != 1 || len(p.Payload) != 20 {
		t.Errorf("tcp %+v payload %d", p.TCP, len(p.Payload))
	}
	s, _, p = build(t, "udp [2001:db8::1]:1 > [2001:db8::2]:2 hlim 9 tc 3 flow 0x12345 frag fragid 7 out")
	if s.Dir != DirOut || p.IPv6.HopLimit != 9 || p.IPv6.TrafficClass != 3 || p.IPv6.FlowLabel != 0x12345 ||
		!p.Layers.Has(packet.LayerFragment|packet.LayerUDP) || p.IPv6.Frag.ID != 7 || p.IsFragment() {
		t.Errorf("ipv6 atomic fragment: %+v layers %b", p.IPv6, p.Layers)
	}
	_, _, p = build(t, "icmp 10.0.0.1 > 10.0.0.2 fragmentation-needed mtu 1400 quote 28 quoting tcp 10.0.0.2:1 > 10.0.0.3:2")
	if p.ICMP.Type != 3 || p.ICMP.Code != 4 || p.ICMP.MTU(false) != 1400 || len(p.Payload) != 28 {
		t.Errorf("frag needed: %+v quote %d", p.ICMP, len(p.Payload))
	}
	_, _, p = build(t, "icmp 10.0.0.1 > 10.0.0.2 destination-unreachable code 8")
	if p.ICMP.Type != 3 || p.ICMP.Code != 8 {
		t.Errorf("code: %+v", p.ICMP)
	}
	_, _, p = build(t, "icmp 10.0.0.1 > 10.0.0.2 code 8 destination-unreachable")
	if p.ICMP.Code != 8 {
		t.Errorf("code before name: %+v", p.ICMP)
	}
	_, _, p = build(t, "tcp 1.1.1.1:1 > 2.2.2.2:2 data 68656c6c6f psh ack 3")
	if string(p.Payload) != "hello" || p.TCP.Flags != packet.TCPPsh|packet.TCPAck || p.TCP.Ack != 3 {
		t.Errorf("data: %q %+v", p.Payload, p.TCP)
	}
	_, _, p = build(t, "tcp 1.1.1.1:1 > 2.2.2.2:2 flags none")
	if p.TCP.Flags != 0 {
		t.Errorf("flags none: %x", p.TCP.Flags)
	}
	s, _, _ = build(t, "tcp 1.1.1.1:1 > 2.2.2.2:2 ack")
	if s.TCPFlags != packet.TCPAck || s.Ack != 0 {
		t.Errorf("bare ack: %+v", s)
	}
	_, _, p = build(t, "icmp 10.0.0.1 > 10.0.0.2 echo-request length 64")
	if len(p.Payload) != 56 {
		t.Errorf("icmp length 64: payload %d", len(p.Payload))
	}
}

func TestAckPeer(t *testing.T) {
	s, err := Parse("in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 ack peer+1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(nil); err == nil {
		t.Error("Append of an unresolved ack peer+1 succeeded")
	}
	b, err := s.Resolve(0xfffffffe).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	var p packet.Packet
	if err := p.Decode(b); err != nil || p.TCP.Ack != 0xffffffff || p.TCP.Flags != packet.TCPAck {
		t.Errorf("resolved: %v %+v", err, p.TCP)
	}
}

// TestSeed001Fragments rebuilds the two fragments of seed 001 and checks
// that they reassemble into one datagram with a good UDP checksum.
func TestSeed001Fragments(t *testing.T) {
	const base = "udp [2001:db8::be6b:d879]:4500 > [2001:db8:f:608::2]:4500 ike payload 1596 fragid 0x5efa507c hlim 51 "
	_, f1, p1 := build(t, base+"mf len 1280")
	_, f2, p2 := build(t, base+"off 1232")
	if len(f1) != 1280 || len(f2) != 40+8+376 {
		t.Fatalf("fragment sizes %d %d", len(f1), len(f2))
	}
	if !p1.IsFragment() || !p1.MoreFragments() || p1.FragOffset() != 0 || p2.FragOffset() != 1232 || p2.MoreFragments() {
		t.Errorf("fragment fields: %+v / %+v", p1.IPv6.Frag, p2.IPv6.Frag)
	}
	if got := p1.String(); got != "IP6 2001:db8::be6b:d879 > 2001:db8:f:608::2: frag (0|1232) 4500 > 4500: NONESP-encap: isakmp:" {
		t.Errorf("summary %s", got)
	}
	if got := p2.String(); got != "IP6 2001:db8::be6b:d879 > 2001:db8:f:608::2: frag (1232|376)" {
		t.Errorf("summary %s", got)
	}
	whole := append(append([]byte{}, p1.FragData()...), p2.FragData()...)
	if len(whole) != 1608 {
		t.Fatalf("reassembled %d bytes", len(whole))
	}
	src, dst := netip.MustParseAddr("2001:db8::be6b:d879"), netip.MustParseAddr("2001:db8:f:608::2")
	if packet.Checksum(whole, packet.PseudoSum(src, dst, packet.ProtoUDP, len(whole))) != 0 {
		t.Error("UDP checksum of the reassembled datagram is wrong")
	}
	// IPv4: the same datagram in three pieces.
	_, g1, q1 := build(t, "udp 10.0.0.1:1 > 10.0.0.2:2 payload 100 id 9 mf len 60")
	_, g2, q2 := build(t, "udp 10.0.0.1:1 > 10.0.0.2:2 payload 100 id 9 off 40 mf len 60")
	_, _, q3 := build(t, "udp 10.0.0.1:1 > 10.0.0.2:2 payload 100 id 9 off 80")
	if len(g1) != 60 || len(g2) != 60 || q1.IPv4.FragOff != 0 || q2.IPv4.FragOff != 5 || q3.IPv4.FragOff != 10 ||
		q3.IPv4.Flags&packet.IPv4MF != 0 || q1.IPv4.Flags&packet.IPv4MF == 0 || q3.IPv4.ID != 9 {
		t.Errorf("ipv4 fragments: %+v %+v %+v", q1.IPv4, q2.IPv4, q3.IPv4)
	}
	w4 := append(append(append([]byte{}, q1.FragData()...), q2.FragData()...), q3.FragData()...)
	if len(w4) != 108 || packet.Checksum(w4, packet.PseudoSum(q1.IPv4.Src, q1.IPv4.Dst, packet.ProtoUDP, len(w4))) != 0 {
		t.Errorf("ipv4 reassembly: %d bytes, bad checksum", len(w4))
	}
}

func TestErrors(t *testing.T) {
	cases := []struct{ in, token, msg string }{
		{"", "", "empty packet"},
		{"tcpx 1.1.1.1:1 > 2.2.2.2:2", "tcpx", "unknown protocol"},
		{"tcp 1.1.1.1 > 2.2.2.2:2", "1.1.1.1", "needs a port"},
		{"tcp 1.1.1.1:1 2.2.2.2:2", "2.2.2.2:2", "want >"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:99999", "2.2.2.2:99999", "bad port"},
		{"tcp 1.1.1.1:1 > [::1]:2", "[::1]:2", "different families"},
		{"icmp 1.1.1.1:1 > 2.2.2.2", "1.1.1.1:1", "no ports"},
		{"icmp ::1 > ::2", "icmp", "use icmp6"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:2 synn", "synn", "unknown field"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:2 ttl 300", "300", "ttl wants"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:2 ttl", "ttl", "needs a value"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:2 off 7", "7", "multiple of 8"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 win 5", "win", "only for tcp"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 flow 5", "flow", "only for IPv6"},
		{"udp [::1]:1 > [::2]:2 df", "df", "only for IPv4"},
		{"udp [::1]:1 > [::2]:2 id 5", "id", "fragid"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 seq 5", "seq", "no sequence"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 len 10", "len", "less than the headers"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 len 40 payload 3", "len", "disagrees"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 data 123", "123", "hexadecimal"},
		{"in eth0 udp 1.1.1.1:1 > 2.2.2.2:2 out", "out", "direction given twice"},
		{"in a/b udp 1.1.1.1:1 > 2.2.2.2:2", "a/b", "interface"},
		{"icmp 1.1.1.1 > 2.2.2.2 echo-request quoting udp 1.1.1.1:1 > 2.2.2.2:2", "quoting", "only ICMP errors"},
		{"icmp 1.1.1.1 > 2.2.2.2 port-unreachable quoting udp [::1]:1 > [::2]:2", "udp", "another family"},
		{"icmp 1.1.1.1 > 2.2.2.2 echo-reply ping", "ping", "type given twice"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:2 ack peer+x", "peer+x", "peer+N"},
		{"udp 1.1.1.1:1 > 2.2.2.2:2 ike spi 5", "ike", "exclude"},
		{"tcp 1.1.1.1:1 > 2.2.2.2:2 flags SX", "SX", "unknown TCP flags"},
		{"ip 1.1.1.1 > ::2", "::2", "different families"},
		{"ip6 1.1.1.1 > 2.2.2.2", "ip6", "use ip"},
		{"tcp [fe80::1%eth0]:1 > [fe80::2]:2", "[fe80::1%eth0]:1", "not an IPv4 or IPv6 address"},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want *Error", c.in, err)
			continue
		}
		if pe.Token != c.token || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("Parse(%q): token %q msg %q, want %q ~ %q", c.in, pe.Token, pe.Msg, c.token, c.msg)
		}
		if c.token != "" && !strings.HasPrefix(c.in[pe.Pos:], c.token) {
			t.Errorf("Parse(%q): position %d does not point at %q", c.in, pe.Pos, c.token)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	for _, in := range []string{
		"udp 1.1.1.1:1 > 2.2.2.2:2 payload 10 off 64",     // past the datagram
		"udp 1.1.1.1:1 > 2.2.2.2:2 payload 10 mf len 100", // fragment longer than the datagram
	} {
		s, err := Parse(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if _, err := s.Append(nil); err == nil {
			t.Errorf("Append(%q) succeeded", in)
		}
	}
	if _, err := (Spec{}).Append(nil); err == nil {
		t.Error("Append of a zero Spec succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, in := range []string{
		"in eth0 tcp 10.0.0.2:1234 > 10.0.0.1:22 syn,ack seq 7 ack 9 win 1 urp 2 res 3 mss 1460 wscale 0 sackok ts 1:2 ttl 1 tos 0x10 ipid 5 df ce len 64",
		"out udp [2001:db8::1]:500 > [2001:db8::2]:500 hlim 1 tc 7 flow 0x1 fragid 0x1 off 8 mf len 100 payload 50",
		"icmp 10.0.0.1 > 10.0.0.2 port-unreachable quote 30 quoting tcp 10.0.0.2:1 > 10.0.0.1:2 fin",
		"icmp6 ::1 > ::2 packet-too-big mtu 1280 quoting udp [::2]:1 > [::1]:2 payload 3000",
		"icmp 1.1.1.1 > 2.2.2.2 redirect gw 3.3.3.3 quoting icmp 2.2.2.2 > 4.4.4.4",
		"icmp 1.1.1.1 > 2.2.2.2 parameter-problem ptr 8",
		"icmp 1.1.1.1 > 2.2.2.2 type 42 code 3 rest 0x55",
		"tcp 1.1.1.1:1 > 2.2.2.2:2 flags none acknum 5 tcpopts 01010000 data 00ff",
		"ip 1.2.3.4 > 5.6.7.8 proto 47 ipopts 94040000 payload 3 smac 02:00:00:00:00:01 dmac 02:00:00:00:00:02",
		"udp 1.2.3.4:4500 > 5.6.7.8:4500 spi 0x5 seq 9",
		"esp [::1] > ::2 spi 0xc1a2 seq 3",
		"tcp 1.1.1.1:1 > 2.2.2.2:2 ack peer+1",
	} {
		s, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		out := s.String()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(String(%q)) = Parse(%q): %v", in, out, err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Errorf("round trip of %q through %q:\n%+v\n%+v", in, out, s, s2)
		}
	}
}

// Seed 002's and seed 001's LOG lines.
var logLines = []string{
	"Sep 2 08:58:57 localhost kernel: [INPUT]IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=10084 DF PROTO=ICMP TYPE=8 CODE=0 ID=1496 SEQ=1",
	"Sep 2 09:31:43 localhost kernel: [OUTPUT] IN= OUT=eth0 SRC=10.1.51.165 DST=10.1.77.146 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=41414 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.77.146 DST=10.1.51.165 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=40037 DF PROTO=TCP SPT=55724 DPT=22 WINDOW=26883 RES=0x00 SYN URGP=0 ] ",
	"Aug 26 04:00:43 grummle kernel: iptables: REJECT IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:86:dd SRC=2001:0db8:0000:0000:0000:0000:be6b:d879 DST=2001:0db8:000f:0608:0000:0000:0000:0002 LEN=424 TC=0 HOPLIMIT=51 FLOWLBL=0 OPT ( FRAG:1232 ID:5efa507c ) PROTO=UDP",
	"[ 12.5] fw IN=eth0 OUT=eth1 MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.0.1.2 LEN=52 TOS=0x08 PREC=0x20 TTL=63 ID=1 CE MF PROTO=TCP SPT=1 DPT=2 SEQ=5 ACK=6 WINDOW=7 RES=0x00 ACK PSH URGP=3 OPT (020405B4) MARK=0x1",
	"x IN= OUT=eth0 SRC=2001:db8::1 DST=2001:db8::2 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=5 PROTO=ICMPv6 TYPE=1 CODE=4 [SRC=2001:db8::2 DST=2001:db8::1 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=1 DPT=2 LEN=16 ] ",
	"IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 LEN=1500 TOS=0x00 PREC=0x00 TTL=64 ID=7 MF PROTO=UDP SPT=1 DPT=2 LEN=2008 ",
	"IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 LEN=528 TOS=0x00 PREC=0x00 TTL=64 ID=7 FRAG:185 PROTO=UDP ",
	"IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ESP SPI=0xc1a2 ",
	"IN=eth0 OUT= SRC=2001:db8::2 DST=2001:db8::1 LEN=1280 TC=0 HOPLIMIT=64 FLOWLBL=0 FRAG:0 INCOMPLETE ID:00000009 PROTO=UDP SPT=500 DPT=500 LEN=1608 ",
}

func TestParseLog(t *testing.T) {
	type want struct {
		dir        Dir
		summary    string
		len        int
		id, ttl    int
		tos        uint8
		macSrc     string
		innerLen   int
		fragOff    int
		more       bool
		flowOrOpts int
	}
	wants := []want{
		{DirIn, "IP 10.1.77.146 > 10.1.51.165: ICMP echo request, id 1496, seq 1, length 64", 84, 10084, 64, 0, "0a:a2:e8:49:27:a3", 0, 0, false, 0},
		{DirOut, "IP 10.1.51.165 > 10.1.77.146: ICMP 10.1.51.165 tcp port 22 unreachable, length 68", 88, 41414, 64, 0xc0, "", 60, 0, false, 0},
		{DirIn, "IP6 2001:db8::be6b:d879 > 2001:db8:f:608::2: frag (1232|376)", 424, -1, 51, 0, "02:00:00:00:00:02", 0, 1232, false, 0},
		{DirIn, "", 52, 1, 63, 0x28, "02:00:00:00:00:02", 0, 0, true, 4},
		{DirOut, "IP6 2001:db8::1 > 2001:db8::2: ICMP6, destination unreachable, unreachable port, 2001:db8::1 udp port 2, length 64", 104, -1, 64, 0, "", 56, 0, false, 5},
		{DirIn, "", 1500, 7, 64, 0, "", 0, 0, true, 0},
		{DirIn, "IP 10.0.0.2 > 10.0.0.1: ip-proto-17", 528, 7, 64, 0, "", 0, 1480, false, 0},
		{DirIn, "IP 10.0.0.2 > 10.0.0.1: ESP(spi=0x0000c1a2,seq=0x0), length 8", 28, 7, 64, 0, "", 0, 0, false, 0},
		{DirIn, "", 1280, -1, 64, 0, "", 0, 0, true, 0},
	}
	for i, line := range logLines {
		s, err := ParseLog(line)
		if err != nil {
			t.Errorf("ParseLog(%q): %v", line, err)
			continue
		}
		w := wants[i]
		b, err := s.Append(nil)
		if err != nil {
			t.Errorf("line %d: Append: %v (%s)", i, err, s)
			continue
		}
		var p packet.Packet
		if err := p.Decode(b); err != nil {
			t.Errorf("line %d: decode: %v", i, err)
			continue
		}
		if s.Dir != w.dir || len(b) != w.len || (w.summary != "" && p.String() != w.summary) {
			t.Errorf("line %d: dir %v len %d summary\n %s\nwant %v %d\n %s", i, s.Dir, len(b), p.String(), w.dir, w.len, w.summary)
		}
		if p.IsIPv4() && (int(p.IPv4.ID) != w.id || int(p.IPv4.TTL) != w.ttl || p.IPv4.TOS != w.tos) {
			t.Errorf("line %d: ipv4 %+v", i, p.IPv4)
		}
		if p.IsIPv6() && int(p.IPv6.HopLimit) != w.ttl {
			t.Errorf("line %d: ipv6 %+v", i, p.IPv6)
		}
		if w.macSrc != "" && (!s.HasMAC || string(appendMAC(nil, s.SrcMAC)) != w.macSrc) {
			t.Errorf("line %d: mac %v %x", i, s.HasMAC, s.SrcMAC)
		}
		if w.innerLen != 0 && (s.Inner == nil || s.Inner.Len != w.innerLen) {
			t.Errorf("line %d: inner %+v", i, s.Inner)
		}
		if p.FragOffset() != w.fragOff || p.MoreFragments() != w.more {
			t.Errorf("line %d: fragment %d %v", i, p.FragOffset(), p.MoreFragments())
		}
		// The rebuilt packet parses back to the same spec through String.
		s2, err := Parse(s.String())
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Errorf("line %d: %q does not round-trip: %v", i, s.String(), err)
		}
	}
	// Line 3: forwarded TCP with every field.
	s, _ := ParseLog(logLines[3])
	if s.Iface != "eth0" || s.Seq != 5 || s.Ack != 6 || s.Win != 7 || s.Urp != 3 || s.TCPFlags != packet.TCPAck|packet.TCPPsh ||
		!s.CE || !s.MF || !bytes.Equal(s.TCPOptions, []byte{2, 4, 5, 0xb4}) {
		t.Errorf("tcp line: %+v", s)
	}
	// Line 8: first IPv6 fragment with the datagram's UDP length.
	s, _ = ParseLog(logLines[8])
	if s.Payload != 1600 || s.FragID != 9 || !s.MF {
		t.Errorf("ipv6 first fragment: %+v", s)
	}
}

func TestParseLogErrors(t *testing.T) {
	for _, line := range []string{
		"no log here",
		"IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2 LEN=20 TOS=0x00 PREC=0x00 TTL=64 ID=0",
		"IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2 LEN=10 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=TCP SPT=1 DPT=2",
		"IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=AH SPI=0x1",
		"IN=eth0 OUT= SRC=1.1.1.1 DST=::2 LEN=40 PROTO=UDP",
		"IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2 LEN=40 BOGUS=1 PROTO=UDP",
		"IN=eth0 OUT= SRC=1.1.1.1 DST=2.2.2.2 LEN=56 TTL=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=2.2.2.2 DST=1.1.1.1 LEN=28 PROTO=UDP SPT=1 DPT=2 LEN=8",
	} {
		if s, err := ParseLog(line); err == nil {
			t.Errorf("ParseLog(%q) = %v, want an error", line, s)
		}
	}
}
