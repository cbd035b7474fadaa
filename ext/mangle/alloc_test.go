package mangle_test

import (
	"testing"

	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

type spHost struct{ kt.Env }

func (spHost) SynproxySynAck(*xtables.PacketState, uint8, uint16, uint8)         {}
func (spHost) SynproxyClientACK(*xtables.PacketState, uint8, uint16, uint8) bool { return true }

func TestSynproxy(t *testing.T) {
	sp := tg(t, v4, "-p", "tcp", "-j", "SYNPROXY", "--sack-perm", "--timestamp", "--mss", "1460", "--wscale", "7")
	for _, c := range []struct {
		flags uint8
		env   xtables.Env
		want  xtables.VerdictCode
	}{
		{packet.TCPSyn, &spHost{}, xtables.VerdictCodeStolen},
		{packet.TCPAck, &spHost{}, xtables.VerdictCodeStolen},
		{packet.TCPSyn | packet.TCPAck, &spHost{}, xtables.VerdictCodeContinue},
		{packet.TCPSyn, &kt.Env{}, xtables.VerdictCodeDrop},
		{packet.TCPAck, &kt.Env{}, xtables.VerdictCodeDrop},
	} {
		pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 6, Sport: 1, Dport: 80, Flags: c.flags})
		if v := sp.TargetPacket(kt.State(v4, xtables.HookInput, pk, c.env)); v != c.want {
			t.Errorf("flags %#x: %v, want %v", c.flags, v, c.want)
		}
	}
}

// Every target acts on a packet without allocating.
func TestTargetPacketAllocs(t *testing.T) {
	env := &kt.Env{MTUOut: 1500, MTURev: 1500}
	c := kt.Flow(6, "10.0.0.1", 40000, "10.0.0.2", 80)
	for _, args := range [][]string{
		{"-j", "MARK", "--set-xmark", "1/3"},
		{"-j", "CONNMARK", "--save-mark", "--left-shift-mark", "2"},
		{"-j", "CONNMARK", "--restore-mark"},
		{"-j", "DSCP", "--set-dscp", "9"},
		{"-j", "TOS", "--xor-tos", "0x10"},
		{"-j", "TTL", "--ttl-dec", "1"},
		{"-p", "tcp", "-j", "ECN", "--ecn-tcp-remove"},
		{"-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu"},
		{"-p", "tcp", "-j", "TCPOPTSTRIP", "--strip-options", "sack-permitted"},
		{"-j", "HMARK", "--hmark-tuple", "src,dst,sport,dport", "--hmark-mod", "8", "--hmark-rnd", "5"},
		{"-j", "TEE", "--gateway", "10.0.0.9"},
		{"-j", "CLASSIFY", "--set-class", "1:1"},
	} {
		pk := syn(t, v4, mss1460, 0)
		tp := tg(t, v4, args...)
		st := kt.State(v4, xtables.HookForward, pk, env)
		st.Ct = c
		tp.TargetPacket(st)
		if n := testing.AllocsPerRun(100, func() { tp.TargetPacket(st) }); n != 0 {
			t.Errorf("%v: %v allocations per packet", args, n)
		}
	}
	pk := syn(t, v4, mss1460, 0)
	ct := kt.Target(t, v4, "raw", "-j", "CT", "--zone", "3")
	st := kt.State(v4, xtables.HookPrerouting, pk, env)
	if n := testing.AllocsPerRun(100, func() { ct.TargetPacket(st) }); n != 0 {
		t.Errorf("CT: %v allocations per packet", n)
	}
}
