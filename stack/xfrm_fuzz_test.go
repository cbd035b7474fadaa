package stack_test

import (
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// FuzzIPsecReceive: damaged ESP, ESP in UDP 4500 and inner packets
// reach seed 000's router B (states, policies, an IKE socket on 4500):
// never a panic, and the router keeps working.
func FuzzIPsecReceive(f *testing.F) {
	for _, fr := range espFrames(f, 2) {
		f.Add(fr[14:])
	}
	u := &packet.Headers{Layers: packet.LayerIPv4 | packet.LayerUDP, Proto: packet.ProtoUDP}
	u.IPv4 = packet.IPv4{IHL: 5, TTL: 64, Src: mustAddr("10.0.0.200"), Dst: mustAddr("10.0.0.201")}
	u.UDP = packet.UDP{SrcPort: 4500, DstPort: 4500}
	u.Payload = append([]byte{0xc1, 0, 0, 1, 0, 0, 0, 1}, make([]byte, 64)...)
	f.Add(encode(f, u))
	u.Payload = []byte{0xff}
	f.Add(encode(f, u))
	b := seedB(f)
	b.Sockets = append(b.Sockets, stack.Socket{Proto: packet.ProtoUDP, Port: 4500, XfrmBypass: true})
	b.Emit = func(string, []byte) {}
	f.Fuzz(func(t *testing.T, ip []byte) {
		fr := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 8, 0}, ip...)
		b.Receive("eth0", fr)
	})
}
