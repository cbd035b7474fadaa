package stack_test

import (
	"testing"

	"github.com/iptwin/iptwin/stack"
)

// espFrames are n ESP frames seed 000's router A makes of LAN pings to
// the peer's LAN, addressed to B's eth0.
func espFrames(t testing.TB, n int) [][]byte {
	a := seedA(t)
	var w wire
	a.Emit = func(dev string, f []byte) { w.frames = append(w.frames, append([]byte(nil), f...)) }
	f := lanFrame(t, echo("192.168.200.10", "192.168.201.10", 84, true), 0)
	for i := 0; i < n; i++ {
		if res, _ := a.Receive("eth1", f); res.Fate != stack.FateForwarded {
			t.Fatalf("%+v", res)
		}
	}
	for _, g := range w.frames {
		copy(g[0:6], []byte{2, 0, 0, 0, 0, 1})
	}
	return w.frames
}

// TestIPsecNoAllocs: forwarding into the tunnel (bundle, POSTROUTING,
// transform, the ESP packet round OUTPUT and POSTROUTING) and out of it
// (decapsulation, the inner packet received again, fwd policy check,
// forwarding) allocate nothing per packet.
func TestIPsecNoAllocs(t *testing.T) {
	a := seedA(t, "iptables -t nat -A POSTROUTING -o eth0 -m policy --dir out --pol ipsec -j ACCEPT",
		"iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE")
	sent := 0
	a.Emit = func(string, []byte) { sent++ }
	f := lanFrame(t, echo("192.168.200.10", "192.168.201.10", 84, true), 0)
	a.Receive("eth1", f)
	if allocs := testing.AllocsPerRun(200, func() {
		if res, _ := a.Receive("eth1", f); res.Fate != stack.FateForwarded {
			t.Fatalf("%+v", res)
		}
	}); allocs != 0 {
		t.Errorf("encapsulation: %.1f allocations per packet", allocs)
	}
	if sent != 202 {
		t.Fatalf("%d ESP packets sent", sent)
	}

	frames := espFrames(t, 300)
	b := seedB(t, "iptables -P FORWARD DROP", "iptables -A FORWARD -m policy --dir in --pol ipsec -j ACCEPT")
	fwd := 0
	b.Emit = func(string, []byte) { fwd++ }
	i := 0
	b.Receive("eth0", frames[i])
	if allocs := testing.AllocsPerRun(200, func() {
		i++
		if res, _ := b.Receive("eth0", frames[i]); res.Fate != stack.FateDelivered {
			t.Fatalf("%+v", res)
		}
	}); allocs != 0 {
		t.Errorf("decapsulation: %.1f allocations per packet", allocs)
	}
	if fwd != i+1 {
		t.Fatalf("%d of %d inner packets forwarded", fwd, i+1)
	}
}

// BenchmarkIPsecForward: a LAN packet forwarded into the tunnel
// (encap) and an ESP packet decapsulated and its inner packet forwarded
// (decap), against plain forwarding on a host without IPsec (baseline)
// and on the IPsec host for a packet no policy covers (clear).
func BenchmarkIPsecForward(b *testing.B) {
	plain := newHost(b, router...)
	plain.Emit = func(string, []byte) {}
	pf := frame(b, echo("10.0.0.2", "192.168.1.2", 84, true))
	a := seedA(b)
	a.Emit = func(string, []byte) {}
	clear := lanFrame(b, echo("192.168.200.10", "10.0.0.5", 84, true), 0)
	enc := lanFrame(b, echo("192.168.200.10", "192.168.201.10", 84, true), 0)
	peer := seedB(b)
	peer.Emit = func(string, []byte) {}
	// ip xfrm state add without replay-window: a replayed sequence
	// number passes, so one ESP frame serves every iteration.
	esp := espFrames(b, 1)[0]
	for _, c := range []struct {
		name string
		h    *stack.Host
		dev  string
		f    []byte
		fate stack.Fate
	}{
		{"baseline", plain, "eth0", pf, stack.FateForwarded},
		{"clear", a, "eth1", clear, stack.FateForwarded},
		{"encap", a, "eth1", enc, stack.FateForwarded},
		{"decap", peer, "eth0", esp, stack.FateDelivered},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if res, _ := c.h.Receive(c.dev, c.f); res.Fate != c.fate {
					b.Fatal(res)
				}
			}
		})
	}
}
