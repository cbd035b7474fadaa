package stack_test

import (
	"fmt"
	"testing"

	"github.com/iptwin/iptwin/stack"
)

var router = []string{
	"ip link add eth0 type dummy", "ip link set eth0 address 02:00:00:00:00:01", "ip link set eth0 up",
	"ip link add eth1 type dummy", "ip link set eth1 address 02:00:00:00:01:01", "ip link set eth1 up",
	"ip addr add 10.0.0.1/24 dev eth0", "ip addr add 192.168.1.1/24 dev eth1",
	"sysctl -w net.ipv4.ip_forward=1",
}

// TestNoAllocs: a forwarded packet and a dropped one allocate nothing.
func TestNoAllocs(t *testing.T) {
	h := newHost(t, append(router, "iptables -A FORWARD -s 10.0.0.3 -j DROP")...)
	n := 0
	h.Emit = func(string, []byte) { n++ }
	fwd := frame(t, syn("10.0.0.2", "192.168.1.2", 1234, 80))
	drop := frame(t, syn("10.0.0.3", "192.168.1.2", 1234, 80))
	for name, f := range map[string][]byte{"forwarded": fwd, "dropped": drop} {
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := h.Receive("eth0", f); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per packet", name, allocs)
		}
	}
	if n == 0 {
		t.Fatal("nothing forwarded")
	}
}

// BenchmarkForward: the per-packet cost of forwarding through a filter
// ruleset of N non-matching rules, against an empty ruleset (baseline).
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{0, 10, 100, 1000} {
		lines := append([]string{}, router...)
		for i := 0; i < n; i++ {
			lines = append(lines, fmt.Sprintf("iptables -A FORWARD -s 172.16.%d.%d -j DROP", i/250, i%250+1))
		}
		h := newHost(b, lines...)
		h.Emit = func(string, []byte) {}
		f := frame(b, syn("10.0.0.2", "192.168.1.2", 1234, 80))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if res, _ := h.Receive("eth0", f); res.Fate != stack.FateForwarded {
					b.Fatal(res)
				}
			}
		})
	}
}

// statefulRouter is a forwarding ruleset with connection tracking, as the
// seeds' routers have: established traffic accepted first, new
// connections by port, the rest dropped.
var statefulRouter = append(append([]string{}, router...),
	"iptables -P FORWARD DROP",
	"iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
	"iptables -A FORWARD -p tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT",
	"iptables -A FORWARD -j LOG --log-prefix DROP:",
)

// TestNoAllocsConntrack: packets of a tracked connection allocate nothing
// once the connection exists.
func TestNoAllocsConntrack(t *testing.T) {
	h := newHost(t, statefulRouter...)
	h.Emit = func(string, []byte) {}
	f := frame(t, syn("10.0.0.2", "192.168.1.2", 1234, 80))
	if res, _ := h.Receive("eth0", f); res.Fate != stack.FateForwarded {
		t.Fatalf("first SYN: %+v", res)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if res, _ := h.Receive("eth0", f); res.Fate != stack.FateForwarded {
			t.Fatalf("retransmitted SYN: %+v", res)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per packet of a tracked connection", allocs)
	}
}

// BenchmarkForwardConntrack: a packet of an established connection
// through the stateful router, against the same packet through a router
// without rules (baseline).
func BenchmarkForwardConntrack(b *testing.B) {
	for _, c := range []struct {
		name  string
		rules []string
	}{{"baseline", router}, {"stateful", statefulRouter}} {
		h := newHost(b, c.rules...)
		h.Emit = func(string, []byte) {}
		f := frame(b, syn("10.0.0.2", "192.168.1.2", 1234, 80))
		h.Receive("eth0", f)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if res, _ := h.Receive("eth0", f); res.Fate != stack.FateForwarded {
					b.Fatal(res)
				}
			}
		})
	}
}
