package mangle_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// FuzzRewrites runs the header-rewriting targets over arbitrary packets:
// no panic, and a packet that decoded still decodes afterwards.
func FuzzRewrites(f *testing.F) {
	for _, p := range []kt.Pkt{
		{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 2, Flags: packet.TCPSyn, TCPOptions: mss1460},
		{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 6, Sport: 1, Dport: 2, Flags: packet.TCPSyn},
		{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 1, ICMPType: 3, ICMPCode: 3, Payload: 28},
		{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, FragOff: 3},
	} {
		pk := kt.Build(f, p)
		f.Add(append([]byte(nil), pk.Data...), uint16(64))
	}
	type tgt struct {
		fam  xtables.Family
		args []string
	}
	var tgs []xtables.PacketTargeter
	var fams []xtables.Family
	for _, c := range []tgt{
		{xtables.IPv4, []string{"-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--set-mss", "500"}},
		{xtables.IPv6, []string{"-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu"}},
		{xtables.IPv4, []string{"-p", "tcp", "-j", "TCPOPTSTRIP"}},
		{xtables.IPv4, []string{"-p", "tcp", "-j", "ECN", "--ecn-tcp-remove"}},
		{xtables.IPv4, []string{"-j", "DSCP", "--set-dscp", "3"}},
		{xtables.IPv6, []string{"-j", "TOS", "--set-tos", "0x10"}},
		{xtables.IPv4, []string{"-j", "TTL", "--ttl-inc", "3"}},
		{xtables.IPv4, []string{"-j", "HMARK", "--hmark-tuple", "src,dst,sport,dport,proto", "--hmark-mod", "7", "--hmark-rnd", "1"}},
		{xtables.IPv6, []string{"-j", "HMARK", "--hmark-tuple", "src,dst,sport,dport", "--hmark-mod", "7", "--hmark-rnd", "1"}},
		{xtables.IPv4, []string{"-p", "tcp", "-j", "SYNPROXY"}},
	} {
		tgs = append(tgs, tg(f, c.fam, c.args...))
		fams = append(fams, c.fam)
	}
	f.Fuzz(func(t *testing.T, b []byte, room uint16) {
		buf := make([]byte, len(b), len(b)+int(room%64))
		copy(buf, b)
		var p packet.Packet
		if p.Decode(buf) != nil {
			return
		}
		for i, tp := range tgs {
			if fams[i] == xtables.IPv4 != p.IsIPv4() {
				continue
			}
			st := kt.State(fams[i], xtables.HookForward, &p, &kt.Env{MTUOut: 1500, MTURev: 1400})
			tp.TargetPacket(st)
			if err := p.Decode(p.Data); err != nil {
				t.Fatalf("%d: no longer decodes: %v", i, err)
			}
		}
	})
}
