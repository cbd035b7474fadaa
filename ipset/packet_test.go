package ipset

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

func pkt4(src, dst string, proto byte, frag uint16, payload []byte) *xtables.PacketState {
	b := make([]byte, 20, 20+len(payload))
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[6:], frag)
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	b = append(b, payload...)
	p := new(packet.Packet)
	p.Decode(b)
	p.Data = b
	return &xtables.PacketState{Family: xtables.IPv4, Pkt: p, In: "eth0", Out: "eth1"}
}

func pkt6(src, dst string, nh byte, payload []byte) *xtables.PacketState {
	b := make([]byte, 40, 40+len(payload))
	b[0], b[6] = 0x60, nh
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	b = append(b, payload...)
	p := new(packet.Packet)
	p.Decode(b)
	p.Data = b
	return &xtables.PacketState{Family: xtables.IPv6, Pkt: p, In: "eth0"}
}

func ports(sport, dport uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12] = 0x50
	return b
}

func hostWith(t *testing.T, cmds ...string) *Host {
	t.Helper()
	h := NewHost()
	h.Now = func() int64 { return 1000 }
	for _, c := range cmds {
		if _, errs, code := run(t, h, strings.Fields(c)...); code != 0 {
			t.Fatalf("%s: %s", c, errs)
		}
	}
	return h
}

// opt is a rule's set reference: dims like "src,dst".
func opt(dims string, cmd uint32) *PacketOpt {
	o := &PacketOpt{Cmd: cmd, Timeout: NoTimeout, Now: 1000}
	for _, d := range strings.Split(dims, ",") {
		o.Dim++
		if d == "src" {
			o.Flags |= 1 << o.Dim
		}
	}
	return o
}

func TestTestPacket(t *testing.T) {
	h := hostWith(t,
		"create n hash:net timeout 0", "add n 10.0.0.0/8", "add n 10.1.0.0/16 timeout 5", "add n 10.2.0.0/16 nomatch",
		"create ip hash:ip,port", "add ip 10.0.0.2,tcp:22", "add ip 10.0.0.2,47:0", "add ip 10.0.0.2,icmp:echo-request",
		"create six hash:ip,port family inet6", "add six fd00::2,udp:53",
		"create ni hash:net,iface", "add ni 10.0.0.0/8,eth1",
		"create bp bitmap:port range 1-100", "add bp 22",
		"create l list:set", "add l bp", "add l n",
	)
	h.Sets[0].Entries[1].Expires = 999 // 10.1.0.0/16 has timed out
	tcp := ports(1000, 22)
	cases := []struct {
		set  string
		st   *xtables.PacketState
		o    *PacketOpt
		want bool
	}{
		// The expired /16 gives way to the /8.
		{"n", pkt4("10.1.2.3", "10.0.0.2", 6, 0, tcp), opt("src", 0), true},
		// The nomatch /16 decides before the /8; --return-nomatch turns it.
		{"n", pkt4("10.2.2.3", "10.0.0.2", 6, 0, tcp), opt("src", 0), false},
		{"n", pkt4("10.2.2.3", "10.0.0.2", 6, 0, tcp), opt("src", FlagReturnNomatch), true},
		{"n", pkt4("10.3.2.3", "10.0.0.2", 6, 0, tcp), opt("src", FlagReturnNomatch), false},
		{"n", pkt4("11.0.0.1", "10.0.0.2", 6, 0, tcp), opt("src", 0), false},
		// Ports by side, ICMP type and code, portless protocols even in
		// a later fragment, ported ones not.
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp), opt("dst,dst", 0), true},
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp), opt("dst,src", 0), false},
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp), opt("dst", 0), false},
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 6, 3, tcp), opt("dst,dst", 0), false},
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 47, 3, tcp), opt("dst,dst", 0), true},
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 1, 0, []byte{8, 0, 0, 0, 0, 1, 0, 1}), opt("dst,dst", 0), true},
		{"ip", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp[:10]), opt("dst,dst", 0), false},
		// IPv6: the port after the extension headers; a v4 packet never.
		{"six", pkt6("fd00::1", "fd00::2", 0, append([]byte{17, 0, 1, 4, 0, 0, 0, 0}, ports(1000, 53)[:8]...)), opt("dst,dst", 0), true},
		{"six", pkt6("fd00::1", "fd00::2", 44, append([]byte{17, 0, 0, 8, 0, 0, 0, 1}, ports(1000, 53)[:8]...)), opt("dst,dst", 0), false},
		{"six", pkt4("10.0.0.1", "10.0.0.2", 17, 0, ports(1000, 53)[:8]), opt("dst,dst", 0), false},
		// Interfaces: the in device for src, the out device for dst.
		{"ni", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp), opt("src,dst", 0), true},
		{"ni", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp), opt("src,src", 0), false},
		// bitmap:port: TCP and UDP only.
		{"bp", pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp), opt("dst", 0), true},
		{"bp", pkt4("10.0.0.1", "10.0.0.2", 132, 0, tcp), opt("dst", 0), false},
		// list:set: the members in order.
		{"l", pkt4("10.0.0.1", "10.0.0.2", 6, 0, ports(1000, 99)), opt("src", 0), true},
		{"l", pkt4("11.0.0.1", "10.0.0.2", 6, 0, ports(1000, 22)), opt("dst", 0), true},
		{"l", pkt4("11.0.0.1", "12.0.0.2", 6, 0, ports(1000, 99)), opt("dst", 0), false},
	}
	for i, c := range cases {
		c.o.Sets = hostObjects{h}
		if got, _ := h.Set(c.set).TestPacket(c.st, c.o); got != c.want {
			t.Errorf("case %d, set %s: %v, want %v", i, c.set, got, c.want)
		}
	}
	st := pkt4("10.0.0.1", "10.0.0.2", 6, 0, tcp)
	o := opt("dst,dst", 0)
	if a := testing.AllocsPerRun(100, func() { h.Set("ip").TestPacket(st, o) }); a != 0 {
		t.Errorf("TestPacket: %v allocations", a)
	}
}

type hostObjects struct{ h *Host }

func (o hostObjects) Lookup(kind, name string) (any, bool) {
	if s := o.h.Set(name); s != nil {
		return s, true
	}
	return nil, false
}

// A bitmap:ip,mac element added without its MAC takes the first
// packet's and matches it; then only that MAC matches.
func TestTestPacketFillsMAC(t *testing.T) {
	h := hostWith(t, "create m bitmap:ip,mac range 10.0.0.0/24", "add m 10.0.0.1")
	st := pkt4("10.0.0.1", "10.0.0.2", 6, 0, ports(1, 2))
	st.MAC = []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	s := h.Set("m")
	if ok, _ := s.TestPacket(st, opt("src,src", 0)); !ok {
		t.Fatal("the first packet does not match")
	}
	if out, _, _ := run(t, h, "list", "m"); !strings.Contains(out, "10.0.0.1,02:00:00:00:00:01") {
		t.Errorf("list after the fill-in:\n%s", out)
	}
	st.MAC[11] = 9
	if ok, _ := s.TestPacket(st, opt("src,src", 0)); ok {
		t.Error("another MAC matches")
	}
}

// Adding from a packet to a hash:net uses the set's longest prefix.
func TestAddPacketNet(t *testing.T) {
	h := hostWith(t, "create n hash:net", "add n 10.0.0.0/8", "add n 192.168.0.0/16")
	s := h.Set("n")
	if !s.AddPacket(pkt4("172.16.5.1", "10.0.0.2", 6, 0, ports(1, 2)), opt("src", 0)) {
		t.Fatal("not added")
	}
	if out, _, _ := run(t, h, "list", "n"); !strings.Contains(out, "172.16.0.0/16") {
		t.Errorf("list:\n%s", out)
	}
	if !s.DelPacket(pkt4("172.16.9.9", "10.0.0.2", 6, 0, ports(1, 2)), opt("src", 0)) {
		t.Error("not deleted")
	}
}
