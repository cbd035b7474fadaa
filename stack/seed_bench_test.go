package stack_test

import (
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// The seeds' rulesets on their hosts, per packet, each against the same
// host and packet without rules (the baseline sub-benchmark of its run).

// seed004 is the VPS of seed 004: MYCHAIN with state rules, REJECT of
// ident, DROP of the rest.
var seed004 = []string{
	"iptables -N MYCHAIN",
	"iptables -A MYCHAIN -m state --state ESTABLISHED,RELATED -j ACCEPT",
	"iptables -A MYCHAIN -p icmp -j ACCEPT",
	"iptables -A MYCHAIN -s 127.0.0.0/8 -d 127.0.0.0/8 -j ACCEPT",
	"iptables -A MYCHAIN -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT",
	"iptables -A MYCHAIN -m state --state NEW -m tcp -p tcp --dport 25 -j ACCEPT",
	"iptables -A MYCHAIN -m state --state NEW -m tcp -p tcp --dport 80 -j ACCEPT",
	"iptables -A MYCHAIN -m state --state NEW -m tcp -p tcp --dport 443 -j ACCEPT",
	"iptables -A MYCHAIN -m tcp -p tcp --dport 113 -j REJECT --reject-with tcp-reset",
	"iptables -A MYCHAIN -j DROP",
	"iptables -A INPUT -j MYCHAIN",
}

// seed000 is the IPsec router of seed 000 (its final script).
var seed000 = []string{
	"iptables -P INPUT DROP", "iptables -P FORWARD DROP",
	"iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT",
	"iptables -A INPUT -m state --state INVALID -j DROP",
	"iptables -A INPUT -i lo -j ACCEPT",
	"iptables -A INPUT -p icmp -j ACCEPT",
	"iptables -A INPUT -i eth1 -j ACCEPT",
	"iptables -A INPUT ! -i eth0 -p tcp --dport 22 -j ACCEPT",
	"iptables -A INPUT -p udp --dport 500 -j ACCEPT",
	"iptables -A INPUT -p udp --dport 4500 -j ACCEPT",
	"iptables -A INPUT -p esp -j ACCEPT",
	"iptables -A INPUT -j LOG --log-prefix [INPUT]",
	"iptables -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT",
	"iptables -A FORWARD -i eth1 -j ACCEPT",
	"iptables -A FORWARD -m policy --pol ipsec --dir in -j ACCEPT",
	"iptables -A FORWARD -j LOG --log-prefix [FORWARD]",
	"iptables -t nat -A POSTROUTING -o eth0 -m policy --dir out --pol ipsec -j ACCEPT",
	"iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE",
}

func BenchmarkSeed004(b *testing.B) {
	for _, c := range []struct {
		name  string
		rules []string
	}{{"baseline", nil}, {"seed004", seed004}} {
		h := newHost(b, append(append([]string{}, basic...), c.rules...)...)
		h.Sockets = []stack.Socket{{Proto: packet.ProtoTCP, Port: 22}}
		h.Emit = func(string, []byte) {}
		// An SSH client retransmitting its SYN: accepted as NEW by the
		// ruleset (a known connection in conntrack), answered with a
		// SYN-ACK by the listener each time.
		f := frame(b, syn("10.0.0.2", "10.0.0.1", 40000, 22))
		h.Receive("eth0", f)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h.Receive("eth0", f)
			}
		})
	}
}

func BenchmarkSeed000Forward(b *testing.B) {
	for _, c := range []struct {
		name  string
		rules []string
	}{{"baseline", nil}, {"seed000", seed000}} {
		h := newHost(b, append(append([]string{}, router...), c.rules...)...)
		h.Emit = func(string, []byte) {}
		// LAN host 192.168.1.2 behind eth1 out to the internet on eth0,
		// masqueraded: the first packet sets up the connection.
		out := frame(b, syn("192.168.1.2", "10.0.0.2", 40000, 443))
		copy(out[0:6], []byte{2, 0, 0, 0, 1, 1}) // to eth1's MAC
		h.Receive("eth1", out)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if res, _ := h.Receive("eth1", out); res.Fate != stack.FateForwarded {
					b.Fatal(res)
				}
			}
		})
	}
}
