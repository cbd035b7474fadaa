package nat_test

import (
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/conntrack"
	"github.com/iptwin/iptwin/nat"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/xtables"
)

// FuzzPacket sends arbitrary packets through conntrack and NAT at every
// hook with a source and a destination mapping: nothing may panic, and
// a packet NAT accepts must still decode.
func FuzzPacket(f *testing.F) {
	for _, s := range []string{
		"tcp 10.0.0.2:40000 > 192.0.2.9:80 syn",
		"udp [fd00::2]:41000 > [fd00:9::9]:53",
		"icmp 192.0.2.9 > 192.0.2.1 port-unreachable quoting udp 192.0.2.1:1025 > 192.0.2.9:53",
		"icmp6 fd00:9::9 > fd00:9::1 port-unreachable quoting tcp [fd00:9::1]:1025 > [fd00:9::9]:80 syn",
		"icmp 10.0.0.2 > 192.0.2.9 echo-request id 9",
		"esp 10.0.0.2 > 192.0.2.9",
	} {
		b, err := pktspec.MustParse(s).Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b, uint8(0))
	}
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("fd00:9::1")
	f.Fuzz(func(t *testing.T, a, b []byte, flags uint8) {
		tbl := conntrack.New(conntrack.DefaultConfig(), 1)
		rnd := func() uint32 { return uint32(flags) * 977 }
		for i, d := range [][]byte{a, b} {
			var p packet.Packet
			buf := append([]byte(nil), d...)
			if p.Decode(buf) != nil {
				continue
			}
			c, info, _ := tbl.In(&p, 0, int64(i)*1e9)
			if c == nil {
				continue
			}
			for _, hook := range []int{xtables.HookPrerouting, xtables.HookPostrouting} {
				m := nat.ManipOf(hook)
				if info == xtables.CtNew && !nat.Initialized(c, m) {
					a := v4
					if c.IsIPv6() {
						a = v6
					}
					r := xtables.NATRange{Flags: xtables.NATRangeMapIPs | uint32(flags)&0x3e,
						MinAddr: a, MaxAddr: a, MinPort: uint16(flags) * 100, MaxPort: uint16(flags)*100 + 50}
					nat.Setup(tbl, c, m, r, rnd)
				}
				if nat.Packet(&p, c, hook, c.Reply()) != nil {
					break
				}
				var q packet.Packet
				if err := q.Decode(p.Data); err != nil && p.Layers&packet.LayerInner == 0 {
					t.Fatalf("NAT made an undecodable packet: %v", err)
				}
			}
			tbl.Confirm(c, int64(i)*1e9)
		}
	})
}
