package stack_test

import (
	"strings"
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// ipsecHost is one end of seed 000's tunnel: LAN lan/24 behind it, the
// peer at peer; SAs both ways with the same keys on both ends.
func ipsecHost(t *testing.T, self, peer, lan, rlan string, mac byte) *stack.Host {
	key := "0x0123456789abcdef0123456789abcdef"
	auth := "0x0123456789abcdef0123456789abcdef01234567"
	sa := func(src, dst, spi string) string {
		return "ip xfrm state add src " + src + " dst " + dst + " proto esp spi " + spi +
			" reqid 1 mode tunnel enc cbc(aes) " + key + " auth-trunc hmac(sha1) " + auth + " 96"
	}
	h := newHost(t,
		"ip link add eth0 type dummy", "ip link set eth0 address 02:00:00:00:00:0"+string('0'+mac), "ip link set eth0 up",
		"ip link add eth1 type dummy", "ip link set eth1 up",
		"ip addr add "+self+"/24 dev eth0", "ip addr add "+lan+"/24 dev eth1",
		"sysctl -w net.ipv4.ip_forward=1",
		sa("10.0.0.200", "10.0.0.201", "0xc1000001"), sa("10.0.0.201", "10.0.0.200", "0xc1000002"),
		"ip xfrm policy add src "+lan+"/24 dst "+rlan+"/24 dir out tmpl src "+self+" dst "+peer+" proto esp reqid 1 mode tunnel",
		"ip xfrm policy add src "+rlan+"/24 dst "+lan+"/24 dir in tmpl src "+peer+" dst "+self+" proto esp reqid 1 mode tunnel",
		"ip xfrm policy add src "+rlan+"/24 dst "+lan+"/24 dir fwd tmpl src "+peer+" dst "+self+" proto esp reqid 1 mode tunnel",
		"ip route add "+rlan+"/24 via "+peer,
	)
	return h
}

// TestIPsecTunnel: a packet from the LAN leaves as ESP to the peer (the
// xfrm look-up after POSTROUTING), the peer decapsulates it and receives
// the inner packet again on its device.
func TestIPsecTunnel(t *testing.T) {
	a := ipsecHost(t, "10.0.0.200", "10.0.0.201", "192.168.200.1", "192.168.201.0", 0)
	b := ipsecHost(t, "10.0.0.201", "10.0.0.200", "192.168.201.1", "192.168.200.0", 1)
	var frames [][]byte
	var lines []string
	a.Emit = func(dev string, f []byte) {
		frames = append(frames, append([]byte(nil), f...))
		var p packet.Packet
		p.DecodeEthernet(f)
		lines = append(lines, dev+" "+p.String())
	}
	ping := &packet.Headers{Layers: packet.LayerIPv4 | packet.LayerICMPv4, Proto: packet.ProtoICMP}
	ping.IPv4 = packet.IPv4{IHL: 5, TTL: 64, Src: mustAddr("192.168.200.1"), Dst: mustAddr("192.168.201.10")}
	ping.ICMP = packet.ICMP{Type: 8}
	ping.ICMP.SetEcho(1, 1)
	ping.Payload = make([]byte, 56)
	ip, err := ping.Append(nil, packet.FixAll)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := a.Send(ip, &stack.Socket{}); err != nil || res.Fate != stack.FateSent {
		t.Fatalf("send: %+v %v", res, err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "eth0 IP 10.0.0.200 > 10.0.0.201: ESP(spi=0xc1000001,seq=0x1), length 132") {
		t.Fatalf("emitted %q", lines)
	}
	var got []string
	b.Deliver = func(in string, p *packet.Packet) bool {
		got = append(got, in+" "+p.String())
		return false
	}
	var blines []string
	b.Emit = func(dev string, f []byte) {
		var p packet.Packet
		p.DecodeEthernet(f)
		blines = append(blines, dev+" "+p.String())
	}
	f := frames[0]
	copy(f[0:6], []byte{2, 0, 0, 0, 0, 1})
	if _, err := b.Receive("eth0", f); err != nil {
		t.Fatal(err)
	}
	// 192.168.201.10 is not b's: the inner packet, received again on
	// eth0, is forwarded to the LAN with its TTL decremented.
	if len(got) != 0 || len(blines) != 1 ||
		!strings.HasPrefix(blines[0], "eth1 IP 192.168.200.1 > 192.168.201.10: ICMP echo request, id 1, seq 1, length 64") {
		t.Fatalf("delivered %q, emitted %q", got, blines)
	}
}
