package nattarget_test

import (
	"net/netip"
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	kt "github.com/iptwin/iptwin/ext/ctmatch/kern/kerntest"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

const v4, v6 = xtables.IPv4, xtables.IPv6

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestNATRequests(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.0.1", Dst: "192.0.2.1", Proto: 6, Sport: 40000, Dport: 80, Flags: packet.TCPSyn})
	for _, c := range []struct {
		hook int
		args []string
		want xtables.NATRequest
	}{
		{xtables.HookPostrouting, []string{"-j", "SNAT", "--to-source", "198.51.100.1-198.51.100.4"},
			xtables.NATRequest{Kind: xtables.NATSource, Range: xtables.NATRange{Flags: xtables.NATRangeMapIPs, MinAddr: addr("198.51.100.1"), MaxAddr: addr("198.51.100.4")}}},
		{xtables.HookPostrouting, []string{"-p", "tcp", "-j", "SNAT", "--to-source", "198.51.100.1:1024-2047", "--random"},
			xtables.NATRequest{Kind: xtables.NATSource, Range: xtables.NATRange{Flags: xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified | xtables.NATRangeProtoRandom,
				MinAddr: addr("198.51.100.1"), MaxAddr: addr("198.51.100.1"), MinPort: 1024, MaxPort: 2047}}},
		{xtables.HookPrerouting, []string{"-p", "tcp", "-j", "DNAT", "--to-destination", "10.1.1.1:8000-8010/8005"},
			xtables.NATRequest{Kind: xtables.NATDestination, Range: xtables.NATRange{Flags: xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified | xtables.NATRangeProtoOffset,
				MinAddr: addr("10.1.1.1"), MaxAddr: addr("10.1.1.1"), MinPort: 8000, MaxPort: 8010, BasePort: 8005}}},
		{xtables.HookPostrouting, []string{"-j", "MASQUERADE"},
			xtables.NATRequest{Kind: xtables.NATMasquerade, Range: xtables.NATRange{Flags: xtables.NATRangeMapIPs}}},
		{xtables.HookPostrouting, []string{"-p", "tcp", "-j", "MASQUERADE", "--to-ports", "5000-6000", "--random-fully"},
			xtables.NATRequest{Kind: xtables.NATMasquerade, Range: xtables.NATRange{Flags: xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified | xtables.NATRangeProtoRandomFully, MinPort: 5000, MaxPort: 6000}}},
		{xtables.HookPrerouting, []string{"-p", "tcp", "-j", "REDIRECT", "--to-ports", "3128"},
			xtables.NATRequest{Kind: xtables.NATRedirect, Range: xtables.NATRange{Flags: xtables.NATRangeMapIPs | xtables.NATRangeProtoSpecified, MinPort: 3128, MaxPort: 3128}}},
	} {
		st := kt.State(v4, c.hook, pk, &kt.Env{})
		st.Ct, st.CtInfo = kt.Flow(6, "10.0.0.1", 40000, "192.0.2.1", 80), xtables.CtNew
		v := kt.Target(t, v4, "nat", c.args...).TargetPacket(st)
		if v != xtables.VerdictCodeAccept || st.NAT != c.want {
			t.Errorf("%v: verdict %v\n got %+v\nwant %+v", c.args, v, st.NAT, c.want)
		}
	}
	// MASQUERADE leaves a connection from 0.0.0.0 alone.
	st := kt.State(v4, xtables.HookPostrouting, pk, &kt.Env{})
	st.Ct = kt.Flow(17, "0.0.0.0", 68, "255.255.255.255", 67)
	if v := kt.Target(t, v4, "nat", "-j", "MASQUERADE").TargetPacket(st); v != xtables.VerdictCodeAccept || st.NAT.Kind != xtables.NATNone {
		t.Errorf("masquerade of 0.0.0.0: %v %+v", v, st.NAT)
	}
}

func TestNETMAP(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.5.77", Dst: "192.168.1.9", Proto: 17, Sport: 1, Dport: 2})
	nm := kt.Target(t, v4, "nat", "-j", "NETMAP", "--to", "172.16.0.0/16")
	st := kt.State(v4, xtables.HookPostrouting, pk, &kt.Env{})
	nm.TargetPacket(st)
	if st.NAT.Kind != xtables.NATSource || st.NAT.Range.MinAddr != addr("172.16.5.77") || st.NAT.Range.MaxAddr != addr("172.16.5.77") {
		t.Errorf("POSTROUTING: %+v", st.NAT)
	}
	st = kt.State(v4, xtables.HookPrerouting, pk, &kt.Env{})
	kt.Target(t, v4, "nat", "-j", "NETMAP", "--to", "10.9.0.0/24").TargetPacket(st)
	if st.NAT.Kind != xtables.NATDestination || st.NAT.Range.MinAddr != addr("10.9.0.9") || st.NAT.Range.Flags&xtables.NATRangeMapIPs == 0 {
		t.Errorf("PREROUTING: %+v", st.NAT)
	}
	pk6 := kt.Build(t, kt.Pkt{Src: "2001:db8::1", Dst: "2001:db8:aaaa::42", Proto: 17})
	st = kt.State(v6, xtables.HookOutput, pk6, &kt.Env{})
	kt.Target(t, v6, "nat", "-j", "NETMAP", "--to", "fd00:1::/32").TargetPacket(st)
	if st.NAT.Range.MinAddr != addr("fd00:1:aaaa::42") {
		t.Errorf("IPv6 OUTPUT: %+v", st.NAT)
	}
}

func TestNPT(t *testing.T) {
	// RFC 6296 section 3.5: fd01:203:405:1::1234 becomes
	// 2001:db8:1:d550::1234 and back.
	pk := kt.Build(t, kt.Pkt{Src: "fd01:203:405:1::1234", Dst: "2001:db8:ffff::1", Proto: 6, Sport: 1, Dport: 2, Flags: packet.TCPSyn})
	snpt := kt.Target(t, v6, "mangle", "-j", "SNPT", "--src-pfx", "fd01:203:405::/48", "--dst-pfx", "2001:db8:1::/48")
	if v := snpt.TargetPacket(kt.State(v6, xtables.HookPostrouting, pk, &kt.Env{})); v != xtables.VerdictCodeContinue {
		t.Fatalf("SNPT verdict %v", v)
	}
	if pk.IPv6.Src != addr("2001:db8:1:d550::1234") {
		t.Errorf("SNPT: %v", pk.IPv6.Src)
	}
	if _, ok := pk.ChecksumsOK(); !ok {
		t.Error("the TCP checksum broke: the mapping must be checksum-neutral")
	}
	back := kt.Build(t, kt.Pkt{Src: "2001:db8:ffff::1", Dst: "2001:db8:1:d550::1234", Proto: 17, Sport: 2, Dport: 1})
	dnpt := kt.Target(t, v6, "mangle", "-j", "DNPT", "--src-pfx", "2001:db8:1::/48", "--dst-pfx", "fd01:203:405::/48")
	dnpt.TargetPacket(kt.State(v6, xtables.HookPrerouting, back, &kt.Env{}))
	if back.IPv6.Dst != addr("fd01:203:405:1::1234") {
		t.Errorf("DNPT: %v", back.IPv6.Dst)
	}
	if _, ok := back.ChecksumsOK(); !ok {
		t.Error("DNPT broke the UDP checksum")
	}
	// /64: the first word after the prefix that is not 0xffff takes the
	// adjustment; an address whose words are all 0xffff cannot be mapped.
	bad := kt.Build(t, kt.Pkt{Src: "fd01:203:405:1:ffff:ffff:ffff:ffff", Dst: "2001:db8::1", Proto: 17})
	s64 := kt.Target(t, v6, "mangle", "-j", "SNPT", "--src-pfx", "fd01:203:405:1::/64", "--dst-pfx", "2001:db8:1:2::/64")
	if v := s64.TargetPacket(kt.State(v6, xtables.HookPostrouting, bad, &kt.Env{})); v != xtables.VerdictCodeDrop {
		t.Errorf("unmappable address: %v", v)
	}
}

func TestNATAllocs(t *testing.T) {
	pk := kt.Build(t, kt.Pkt{Src: "10.0.5.77", Dst: "192.168.1.9", Proto: 17, Sport: 1, Dport: 2})
	pk6 := kt.Build(t, kt.Pkt{Src: "fd01:203:405:1::1234", Dst: "2001:db8::1", Proto: 17, Sport: 1, Dport: 2})
	for _, c := range []struct {
		f    xtables.Family
		pk   *packet.Packet
		tab  string
		args []string
	}{
		{v4, pk, "nat", []string{"-j", "SNAT", "--to-source", "1.2.3.4"}},
		{v4, pk, "nat", []string{"-j", "MASQUERADE"}},
		{v4, pk, "nat", []string{"-j", "NETMAP", "--to", "10.0.0.0/8"}},
		{v6, pk6, "mangle", []string{"-j", "SNPT", "--src-pfx", "fd01:203:405::/48", "--dst-pfx", "2001:db8:1::/48"}},
	} {
		tp := kt.Target(t, c.f, c.tab, c.args...)
		st := kt.State(c.f, xtables.HookPostrouting, c.pk, &kt.Env{})
		if n := testing.AllocsPerRun(100, func() { tp.TargetPacket(st) }); n != 0 {
			t.Errorf("%v: %v allocations", c.args, n)
		}
	}
}
