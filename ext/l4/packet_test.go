package l4_test

import (
	"encoding/binary"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// Packet builders for the unit tests: IP packets as bytes, lengths and
// the IPv4 header checksum filled in.

func ip4(proto byte, payload []byte, frag uint16, mf bool) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	fo := frag
	if mf {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], fo)
	copy(b[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(b[10:], packet.Checksum(b, 0))
	return append(b, payload...)
}

func ip6(nh byte, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0], b[6], b[7] = 0x60, nh, 64
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[23], b[39] = 1, 2
	b[8], b[9], b[24], b[25] = 0xfd, 0, 0xfd, 0
	return append(b, payload...)
}

func tcpHdr(sport, dport uint16, flags byte, opts ...byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	b := make([]byte, 20, 20+len(opts))
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12] = byte(5+len(opts)/4) << 4
	b[13] = flags
	return append(b, opts...)
}

func udpHdr(sport, dport uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], 8)
	return b
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// matchers parses a rule and returns its matches' packet semantics.
func matchers(t testing.TB, f xtables.Family, spec string) (*xtables.Rule, []xtables.PacketMatcher) {
	t.Helper()
	args, err := iptables.SplitParams(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := iptables.Parse(append([]string{"-A", "INPUT"}, args...), iptables.ParseOptions{Family: f, Names: noNames})
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	r := cmd.Rules[0]
	var ms []xtables.PacketMatcher
	for _, m := range r.Matches {
		pm, ok := m.Info.(xtables.PacketMatcher)
		if !ok {
			t.Fatalf("%s: %s has no packet semantics", spec, m.Type.Name)
		}
		ms = append(ms, pm)
	}
	return r, ms
}

// outcome runs the matches as the walk does: "match", "nomatch" or
// "drop" (a hot drop).
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

func state(f xtables.Family, raw []byte) *xtables.PacketState {
	p := new(packet.Packet)
	p.Decode(raw)
	p.Data = raw
	return &xtables.PacketState{Family: f, Hook: xtables.HookInput, Pkt: p, In: "eth0",
		FragOff: xtables.FragOffset(&p.Headers)}
}

type pktCase struct {
	f    xtables.Family
	spec string
	pkt  []byte
	want string
}

var l4Cases = []pktCase{
	// tcp, native: payload loads, whatever the fragment.
	{xtables.IPv4, "-p tcp --dport 22", ip4(6, tcpHdr(1, 22, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp ! --dport 22", ip4(6, tcpHdr(1, 22, 2), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp --dport 22", ip4(6, tcpHdr(1, 22, 2)[:8], 1, false), "match"},
	{xtables.IPv4, "-p tcp --dport 22", ip4(6, tcpHdr(1, 22, 2)[:3], 0, true), "nomatch"},
	{xtables.IPv4, "-p tcp ! --dport 23", ip4(6, tcpHdr(1, 22, 2)[:3], 0, true), "nomatch"},
	{xtables.IPv4, "-p tcp --syn", ip4(6, tcpHdr(1, 22, 2)[:8], 0, true), "nomatch"},
	{xtables.IPv4, "-p tcp --syn", ip4(6, tcpHdr(1, 22, 0x12), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp ! --syn", ip4(6, tcpHdr(1, 22, 0x12), 0, false), "match"},
	// Both single ports, both inverted: one 32-bit comparison, "not both".
	{xtables.IPv4, "-p tcp ! --sport 1 ! --dport 23", ip4(6, tcpHdr(1, 22, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp ! --sport 1 ! --dport 22", ip4(6, tcpHdr(1, 22, 2), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp ! --sport 1 -m tcp ! --dport 23", ip4(6, tcpHdr(1, 22, 2), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp ! --dport 0:21", ip4(6, tcpHdr(1, 22, 2), 0, false), "match"},
	// tcp, xt (with --tcp-option): fragments and tinygrams.
	{xtables.IPv4, "-p tcp --tcp-option 2", ip4(6, tcpHdr(1, 22, 2, 2, 4, 5, 0xb4), 0, false), "match"},
	{xtables.IPv4, "-p tcp ! --tcp-option 2", ip4(6, tcpHdr(1, 22, 2, 2, 4, 5, 0xb4), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp ! --tcp-option 2", ip4(6, tcpHdr(1, 22, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp --tcp-option 8", ip4(6, tcpHdr(1, 22, 2, 1, 1, 1, 8), 0, false), "match"},
	{xtables.IPv4, "-p tcp --tcp-option 2", ip4(6, tcpHdr(1, 22, 2)[:8], 1, false), "drop"},
	{xtables.IPv4, "-p tcp --tcp-option 2", ip4(6, tcpHdr(1, 22, 2)[:8], 2, false), "nomatch"},
	{xtables.IPv4, "-p tcp ! --tcp-option 2", ip4(6, tcpHdr(1, 22, 2)[:8], 2, false), "nomatch"},
	{xtables.IPv4, "-p tcp --tcp-option 2", ip4(6, tcpHdr(1, 22, 2)[:8], 0, true), "drop"},
	{xtables.IPv4, "-p tcp -m tcp", ip4(6, tcpHdr(1, 22, 2), 0, false), "match"},
	{xtables.IPv6, "-p tcp --tcp-option 2", ip6(44, cat([]byte{6, 0, 0, 8, 0, 0, 0, 1}, make([]byte, 8))), "nomatch"},
	{xtables.IPv6, "-p tcp --tcp-option 2", ip6(6, tcpHdr(1, 22, 2, 2, 4, 5, 0xb4)), "match"},
	// udp
	{xtables.IPv4, "-p udp --dport 53", ip4(17, udpHdr(1, 53), 0, false), "match"},
	{xtables.IPv4, "-p udp --dport 53", ip4(17, udpHdr(1, 53)[:4], 0, true), "match"},
	{xtables.IPv4, "-p udp -m udp", ip4(17, udpHdr(1, 53)[:4], 0, true), "drop"},
	{xtables.IPv4, "-p udp -m udp", ip4(17, udpHdr(1, 53), 3, false), "nomatch"},
	// icmp, icmp6
	{xtables.IPv4, "-p icmp --icmp-type any", ip4(1, []byte{3, 3, 0, 0, 0, 0, 0, 0}, 0, false), "match"},
	{xtables.IPv4, "-p icmp ! --icmp-type any", ip4(1, []byte{3, 3, 0, 0, 0, 0, 0, 0}, 0, false), "nomatch"},
	{xtables.IPv4, "-p icmp --icmp-type port-unreachable", ip4(1, []byte{3, 3, 0, 0, 0, 0, 0, 0}, 0, false), "match"},
	{xtables.IPv4, "-p icmp --icmp-type port-unreachable", ip4(1, []byte{3, 3, 0, 0}, 0, true), "drop"},
	{xtables.IPv4, "-p icmp ! --icmp-type port-unreachable", ip4(1, []byte{3, 3, 0, 0}, 8, false), "nomatch"},
	{xtables.IPv6, "-p ipv6-icmp --icmpv6-type echo-request", ip6(58, []byte{128, 0, 0, 0, 0, 0, 0, 0}), "match"},
	{xtables.IPv6, "-p ipv6-icmp ! --icmpv6-type echo-request", ip6(58, []byte{129, 0, 0, 0, 0, 0, 0, 0}), "match"},
	// multiport
	{xtables.IPv4, "-p tcp -m multiport --dports 21,22:25", ip4(6, tcpHdr(1, 24, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp -m multiport ! --dports 21,22:25", ip4(6, tcpHdr(1, 24, 2), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp -m multiport ! --dports 21,22:25", ip4(6, tcpHdr(1, 26, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp -m multiport --ports 1", ip4(6, tcpHdr(1, 26, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp -m multiport --sports 2", ip4(6, tcpHdr(1, 2, 2), 0, false), "nomatch"},
	{xtables.IPv4, "-p tcp -m multiport ! --sports 2", ip4(6, tcpHdr(1, 2, 2)[:8], 1, false), "nomatch"},
	{xtables.IPv4, "-p tcp -m multiport ! --sports 2", ip4(6, tcpHdr(1, 2, 2)[:3], 0, true), "drop"},
	// IPsec
	{xtables.IPv4, "-p esp -m esp --espspi 5:6", ip4(50, []byte{0, 0, 0, 6, 0, 0, 0, 1}, 0, false), "match"},
	{xtables.IPv4, "-p esp -m esp ! --espspi 5:6", ip4(50, []byte{0, 0, 0, 6, 0, 0, 0, 1}, 0, false), "nomatch"},
	{xtables.IPv4, "-p ah -m ah --ahspi 9", ip4(51, []byte{6, 4, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1}, 0, false), "match"},
	{xtables.IPv6, "-m ah --ahspi 9 --ahlen 12", ip6(51, []byte{59, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1}), "match"},
	{xtables.IPv6, "-m ah --ahspi 9 ! --ahlen 12", ip6(51, []byte{59, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1}), "nomatch"},
	{xtables.IPv6, "-m ah --ahres", ip6(51, []byte{59, 1, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1}), "nomatch"},
	{xtables.IPv6, "-m ah", ip6(51, []byte{59, 1, 0, 1, 0, 0, 0, 9}), "drop"},
	{xtables.IPv6, "-m ah", ip6(6, tcpHdr(1, 2, 2)), "nomatch"},
	{xtables.IPv4, "-p 108 -m ipcomp --ipcompspi 7", ip4(108, []byte{4, 0, 0, 7}, 0, false), "match"},
	// tcpmss: no fragment check at all
	{xtables.IPv4, "-p tcp -m tcpmss --mss 1460", ip4(6, tcpHdr(1, 22, 2, 2, 4, 5, 0xb4), 0, false), "match"},
	{xtables.IPv4, "-p tcp -m tcpmss ! --mss 1460", ip4(6, tcpHdr(1, 22, 2), 0, false), "match"},
	{xtables.IPv4, "-p tcp -m tcpmss --mss 1460", ip4(6, tcpHdr(1, 22, 2, 2, 4, 5, 0xb4), 7, false), "match"},
	{xtables.IPv4, "-p tcp -m tcpmss --mss 1460", ip4(6, tcpHdr(1, 22, 2)[:10], 0, true), "drop"},
	// sctp: ports, then chunks
	{xtables.IPv4, "-p sctp --chunk-types any INIT", ip4(132, cat(make([]byte, 12), []byte{1, 0, 0, 4}), 0, false), "match"},
	{xtables.IPv4, "-p sctp --chunk-types any INIT", ip4(132, cat(make([]byte, 12), []byte{1, 0, 0, 0}), 0, false), "drop"},
	{xtables.IPv4, "-p sctp --sport 1 --chunk-types any INIT", ip4(132, cat(make([]byte, 12), []byte{1, 0, 0, 0}), 0, false), "nomatch"},
	{xtables.IPv4, "-p sctp ! --chunk-types only DATA", ip4(132, cat(make([]byte, 12), []byte{1, 0, 0, 4}), 0, false), "match"},
	// mh: a payload protocol other than none drops
	{xtables.IPv6, "-p mh -m mh --mh-type 5", ip6(135, []byte{59, 0, 5, 0, 0, 0, 0, 0}), "match"},
	{xtables.IPv6, "-p mh -m mh --mh-type 5", ip6(135, []byte{6, 0, 5, 0, 0, 0, 0, 0}), "drop"},
	// dccp: the option search may drop
	{xtables.IPv4, "-p 33 -m dccp --dccp-option 1", ip4(33, []byte{0, 1, 0, 2, 2, 0, 0, 0, 4, 0, 0, 0}, 0, false), "drop"},
	{xtables.IPv4, "-p 33 -m dccp --dccp-types DATA", ip4(33, []byte{0, 1, 0, 2, 3, 0, 0, 0, 4, 0, 0, 0}, 0, false), "match"},
}

func TestMatchPacket(t *testing.T) {
	for _, c := range l4Cases {
		_, ms := matchers(t, c.f, c.spec)
		st := state(c.f, c.pkt)
		if got := outcome(st, ms); got != c.want {
			t.Errorf("%v %s on % x: %s, want %s", c.f, c.spec, c.pkt, got, c.want)
		}
	}
}

// TestMatchPacketAllocs: the matches allocate nothing.
func TestMatchPacketAllocs(t *testing.T) {
	type prepared struct {
		st *xtables.PacketState
		ms []xtables.PacketMatcher
	}
	var ps []prepared
	for _, c := range l4Cases {
		_, ms := matchers(t, c.f, c.spec)
		ps = append(ps, prepared{state(c.f, c.pkt), ms})
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

func BenchmarkTCPNative(b *testing.B) {
	_, ms := matchers(b, xtables.IPv4, "-p tcp --dport 22 --tcp-flags SYN,ACK SYN")
	st := state(xtables.IPv4, ip4(6, tcpHdr(1, 22, 2), 0, false))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ms[0].MatchPacket(st)
	}
}

func BenchmarkMultiport(b *testing.B) {
	_, ms := matchers(b, xtables.IPv4, "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,22")
	st := state(xtables.IPv4, ip4(6, tcpHdr(1, 22, 2), 0, false))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ms[0].MatchPacket(st)
	}
}

// Every match of l4, iphdr and meta evaluates packets, and SET acts on
// them, in each family they serve.
func TestEveryExtensionHasPacketSemantics(t *testing.T) {
	names := []string{"ah", "esp", "frag", "icmp", "icmp6", "ipcomp", "iprange", "mh", "rt", "addrtype", "bpf",
		"multiport", "owner", "set", "srh", "string", "tos", "dst", "hbh", "hl", "rpfilter", "ttl", "comment",
		"dccp", "dscp", "ecn", "eui64", "ipv6header", "length", "mac", "osf", "physdev", "pkttype", "realm",
		"sctp", "tcp", "tcpmss", "u32", "udp"}
	found := map[string]bool{}
	for _, f := range []xtables.Family{xtables.IPv4, xtables.IPv6} {
		for _, n := range names {
			mt := xtables.FindMatch(f, n)
			if mt == nil {
				continue
			}
			found[n] = true
			if _, ok := mt.New().(xtables.PacketMatcher); !ok {
				t.Errorf("%v %s: no MatchPacket", f, n)
			}
		}
		if _, ok := xtables.FindTarget(f, "SET").New().(xtables.PacketTargeter); !ok {
			t.Errorf("%v SET: no TargetPacket", f)
		}
	}
	for _, n := range names {
		if !found[n] {
			t.Errorf("%s is not registered", n)
		}
	}
}
