package iphdr_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

var noNames = names.New(names.Files{})

func ip4(tos, ttl, proto byte, payload []byte, frag uint16) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0], b[1], b[8], b[9] = 0x45, tos, ttl, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[6:], frag)
	copy(b[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(b[10:], packet.Checksum(b, 0))
	return append(b, payload...)
}

func ip6(tc, nh byte, src string, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0], b[1], b[6], b[7] = 0x60|tc>>4, tc<<4, nh, 64
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	s := netip.MustParseAddr(src).As16()
	copy(b[8:], s[:])
	copy(b[24:], []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})
	return append(b, payload...)
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

var tcpSYN = []byte{0, 1, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0xc2, 4, 0, 0, 0, 0, 0}

func matchers(t testing.TB, f xtables.Family, spec string) []xtables.PacketMatcher {
	t.Helper()
	args, err := iptables.SplitParams(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := iptables.Parse(append([]string{"-A", "FORWARD"}, args...), iptables.ParseOptions{Family: f, Names: noNames})
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	var ms []xtables.PacketMatcher
	for _, m := range cmd.Rules[0].Matches {
		pm, ok := m.Info.(xtables.PacketMatcher)
		if !ok {
			t.Fatalf("%s: %s has no packet semantics", spec, m.Type.Name)
		}
		ms = append(ms, pm)
	}
	return ms
}

func outcome(st *xtables.PacketState, ms []xtables.PacketMatcher) string {
	for _, m := range ms {
		ok := m.MatchPacket(st)
		if st.HotDrop {
			return "drop"
		}
		if !ok {
			return "nomatch"
		}
	}
	return "match"
}

type fixedEnv struct{ xtables.Env }

func (fixedEnv) Random() uint32 { return 7 }

// macFrom is an Ethernet header from 02:00:00:00:0a:01.
var macFrom = []byte{2, 0, 0, 0, 0x0b, 1, 2, 0, 0, 0, 0x0a, 1, 0x86, 0xdd}

func state(f xtables.Family, raw, mac []byte) *xtables.PacketState {
	p := new(packet.Packet)
	p.Decode(raw)
	p.Data = raw
	return &xtables.PacketState{Family: f, Hook: xtables.HookForward, Pkt: p, In: "eth0", Out: "eth1",
		MAC: mac, Mark: 0x10, FragOff: xtables.FragOffset(&p.Headers), Env: fixedEnv{}}
}

type pktCase struct {
	f    xtables.Family
	spec string
	pkt  []byte
	mac  []byte
	want string
}

// fsm tokens: type (little-endian 16 bits), recurrence, value.
const (
	fsmA12Z     = `"|00 00 00 61 07 00 03 00 00 00 00 7a|"` // 'a', digits+, 'z'
	fsmAnyA12Z  = `"|01 00 04 00 00 00 00 61 07 00 03 00 00 00 00 7a|"`
	fsmAOptB    = `"|00 00 00 61 00 00 01 62 00 00 00 63|"` // 'a', 'b'?, 'c'
	fsmAnyThenZ = `"|00 00 00 61 01 00 02 00|"`             // 'a', anything
)

var iphdrCases = []pktCase{
	{xtables.IPv4, "-m dscp --dscp 0x30", ip4(0xc2, 64, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, "-m dscp ! --dscp 0x30", ip4(0xc2, 64, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv6, "-m dscp --dscp 0x30", ip6(0xc2, 6, "fd00::1", tcpSYN), nil, "match"},
	{xtables.IPv6, "-m tos --tos 0xc0/0xf0", ip6(0xc2, 6, "fd00::1", tcpSYN), nil, "match"},
	{xtables.IPv4, "-m tos ! --tos 0xc2", ip4(0xc2, 64, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, "-m ecn --ecn-ip-ect 2", ip4(0xc2, 64, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv6, "-m ecn ! --ecn-ip-ect 2", ip6(0xc2, 6, "fd00::1", tcpSYN), nil, "nomatch"},
	{xtables.IPv4, "-p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr", ip4(0, 64, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, "-p tcp -m ecn ! --ecn-tcp-ece", ip4(0, 64, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, "-p tcp -m ecn --ecn-tcp-ece", ip4(0, 64, 6, tcpSYN[:10], 0x2000), nil, "nomatch"},
	{xtables.IPv4, "-m ttl --ttl-lt 2", ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, "-m ttl ! --ttl-eq 1", ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv6, "-m hl --hl-gt 63", ip6(0, 6, "fd00::1", tcpSYN), nil, "match"},
	{xtables.IPv4, "-m length --length 40", ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, "-m length --length 41:39", ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv6, "-m length ! --length 60", ip6(0, 6, "fd00::1", tcpSYN), nil, "nomatch"},
	{xtables.IPv4, "-m iprange --src-range 10.0.0.1-10.0.0.1 ! --dst-range 10.0.0.3-10.0.0.4", ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv6, "-m iprange ! --src-range fd00::-fd00::1", ip6(0, 6, "fd00::1", tcpSYN), nil, "nomatch"},
	// u32: the C shift of a 32-bit value by 33 is a shift by 1 on x86.
	{xtables.IPv4, `-m u32 --u32 "0>>22&0x3C@0&0xFFFF=22"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, `-m u32 ! --u32 "0>>22&0x3C@0&0xFFFF=22"`, ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, `-m u32 ! --u32 "40=0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, `-m u32 --u32 "0<<33=0x8a000050"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	// string: bm, kmp and fsm, --from/--to, case folding
	{xtables.IPv4, `-m string --algo bm --string abcab`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo kmp --string ABCAB --icase`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo kmp --string abcab --to 34`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "nomatch"},
	{xtables.IPv4, `-m string --algo kmp --string abcab --to 35`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo bm --string abcab --from 31`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo bm --string abcab --from 34`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "nomatch"},
	{xtables.IPv4, `-m string --algo bm ! --string zzz`, ip4(0, 1, 17, []byte("........xxabcabcabyy"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmA12Z + ` --from 28`, ip4(0, 1, 17, []byte("........a123z"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmA12Z + ` --from 28`, ip4(0, 1, 17, []byte("........a123zz"), 0), nil, "nomatch"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmA12Z + ` --from 28`, ip4(0, 1, 17, []byte("........az"), 0), nil, "nomatch"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmAnyA12Z + ` --from 28`, ip4(0, 1, 17, []byte("........xxa1z"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmAOptB + ` --from 28`, ip4(0, 1, 17, []byte("........ac"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmAOptB + ` --from 28`, ip4(0, 1, 17, []byte("........abc"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmAnyThenZ + ` --from 28`, ip4(0, 1, 17, []byte("........aqqqq"), 0), nil, "match"},
	{xtables.IPv4, `-m string --algo fsm --hex-string ` + fsmAnyThenZ, ip4(0, 1, 17, []byte("........aqqqq"), 0), nil, "nomatch"},
	// bpf: loads, the link layer, ancillary data, division by zero
	{xtables.IPv4, `-m bpf --bytecode "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, `-m bpf --bytecode "4,48 0 0 9,21 0 1 17,6 0 0 1,6 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, `-m bpf --bytecode "2,48 0 0 4293918729,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, `-m bpf --bytecode "2,48 0 0 4292870155,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), macFrom, "match"},
	{xtables.IPv4, `-m bpf --bytecode "2,48 0 0 4292870155,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, `-m bpf --bytecode "2,32 0 0 4294963220,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, `-m bpf --bytecode "2,32 0 0 4294963256,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, `-m bpf --bytecode "4,0 0 0 5,1 0 0 0,60 0 0 0,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, `-m bpf --bytecode "3,177 0 0 0,72 0 0 2,22 0 0 0"`, ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	// IPv6 extension headers
	{xtables.IPv6, "-m frag --fragid 5 --fraglast", ip6(0, 44, "fd00::1", []byte{6, 0, 0, 8, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8}), nil, "match"},
	{xtables.IPv6, "-m frag --fragfirst", ip6(0, 44, "fd00::1", []byte{6, 0, 0, 8, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8}), nil, "nomatch"},
	{xtables.IPv6, "-m frag", ip6(0, 44, "fd00::1", []byte{6, 0}), nil, "drop"},
	{xtables.IPv6, "-m hbh --hbh-opts 1:4", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "match"},
	{xtables.IPv6, "-m hbh --hbh-opts 1:2", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "nomatch"},
	{xtables.IPv6, "-m hbh ! --hbh-len 8", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "nomatch"},
	{xtables.IPv6, "-m dst", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "nomatch"},
	{xtables.IPv6, "-m hbh", ip6(0, 0, "fd00::1", []byte{6}), nil, "drop"},
	{xtables.IPv6, "-m rt --rt-segsleft 1 --rt-type 0", ip6(0, 43, "fd00::1", cat([]byte{6, 2, 0, 1, 0, 0, 0, 0}, make([]byte, 16))), nil, "match"},
	{xtables.IPv6, "-m rt ! --rt-segsleft 1", ip6(0, 43, "fd00::1", cat([]byte{6, 2, 0, 1, 0, 0, 0, 0}, make([]byte, 16))), nil, "nomatch"},
	{xtables.IPv6, "-m rt --rt-len 24", ip6(0, 43, "fd00::1", cat([]byte{6, 2, 0, 1, 0, 0, 0, 0}, make([]byte, 8))), nil, "nomatch"},
	{xtables.IPv6, "-m ipv6header --header hop,prot", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "match"},
	{xtables.IPv6, "-m ipv6header --header hop", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "nomatch"},
	{xtables.IPv6, "-m ipv6header --header hop --soft", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "match"},
	{xtables.IPv6, "-m ipv6header ! --header hop --soft", ip6(0, 0, "fd00::1", cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSYN)), nil, "nomatch"},
	{xtables.IPv6, "-m ipv6header --header none", ip6(0, 59, "fd00::1", nil), nil, "match"},
	// srh: a type 4 routing header, segments left 1, last entry 1
	{xtables.IPv6, "-m srh --srh-segs-left-eq 1 --srh-lsid fd00::a/128 --srh-nsid fd00::a/128", ip6(0, 43, "fd00::1",
		cat([]byte{6, 4, 4, 1, 1, 0, 0, 0}, netip.MustParseAddr("fd00::a").AsSlice(), netip.MustParseAddr("fd00::b").AsSlice())), nil, "match"},
	{xtables.IPv6, "-m srh --srh-psid fd00::a/128", ip6(0, 43, "fd00::1",
		cat([]byte{6, 4, 4, 1, 1, 0, 0, 0}, netip.MustParseAddr("fd00::a").AsSlice(), netip.MustParseAddr("fd00::b").AsSlice())), nil, "nomatch"},
	{xtables.IPv6, "-m srh ! --srh-tag 0", ip6(0, 43, "fd00::1",
		cat([]byte{6, 4, 4, 1, 1, 0, 0, 0}, netip.MustParseAddr("fd00::a").AsSlice(), netip.MustParseAddr("fd00::b").AsSlice())), nil, "nomatch"},
	// eui64: the frame's MAC; no frame and a later fragment drops
	{xtables.IPv6, "-m eui64", ip6(0, 6, "fe80::ff:fe00:a01", tcpSYN), macFrom, "match"},
	{xtables.IPv6, "-m eui64", ip6(0, 6, "fe80::ff:fe00:a02", tcpSYN), macFrom, "nomatch"},
	{xtables.IPv6, "-m eui64", ip6(0, 6, "fe80::ff:fe00:a01", tcpSYN), nil, "nomatch"},
	{xtables.IPv6, "-m eui64", ip6(0, 44, "fe80::ff:fe00:a01", []byte{6, 0, 0, 8, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8}), nil, "drop"},
	// realm: routes have no realm; osf: no fingerprints
	{xtables.IPv4, "-m realm --realm 0", ip4(0, 1, 6, tcpSYN, 0), nil, "match"},
	{xtables.IPv4, "-m realm ! --realm 0", ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, "-m realm --realm 3/0", ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, "-p tcp -m osf --genre Linux", ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
	{xtables.IPv4, "-p tcp -m osf ! --genre Linux", ip4(0, 1, 6, tcpSYN, 0), nil, "nomatch"},
}

func TestMatchPacket(t *testing.T) {
	for _, c := range iphdrCases {
		st := state(c.f, c.pkt, c.mac)
		if got := outcome(st, matchers(t, c.f, c.spec)); got != c.want {
			t.Errorf("%v %s on % x: %s, want %s", c.f, c.spec, c.pkt, got, c.want)
		}
	}
}

func TestMatchPacketAllocs(t *testing.T) {
	type prepared struct {
		st *xtables.PacketState
		ms []xtables.PacketMatcher
	}
	var ps []prepared
	for _, c := range iphdrCases {
		ps = append(ps, prepared{state(c.f, c.pkt, c.mac), matchers(t, c.f, c.spec)})
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, p := range ps {
			p.st.HotDrop = false
			outcome(p.st, p.ms)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run of %d cases", allocs, len(ps))
	}
}

func BenchmarkStringBM(b *testing.B) {
	ms := matchers(b, xtables.IPv4, `-m string --algo bm --string "Host: example"`)
	st := state(xtables.IPv4, ip4(0, 1, 17, []byte("GET /index.html HTTP/1.1\r\nUser-Agent: x\r\nHost: example\r\n"), 0), nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ms[0].MatchPacket(st)
	}
}

func BenchmarkU32(b *testing.B) {
	ms := matchers(b, xtables.IPv4, `-m u32 --u32 "0>>22&0x3C@0>>16=22&&0>>22&0x3C@12>>26&0x3F=0x10"`)
	st := state(xtables.IPv4, ip4(0, 1, 6, tcpSYN, 0), nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ms[0].MatchPacket(st)
	}
}
