package iptables_test

import (
	"strings"
	"testing"

	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/xtables"
)

// BenchmarkParseLine parses typical kube-proxy rule lines.
func BenchmarkParseLine(b *testing.B) {
	lines := [][]string{
		strings.Fields("-t nat -A KUBE-SEP-ABCDEFGHIJKLMNOP -m comment --comment ns1/svc1:http -s 10.1.2.3/32 -j KUBE-MARK-MASQ"),
		strings.Fields("-t nat -A KUBE-SEP-ABCDEFGHIJKLMNOP -m comment --comment ns1/svc1:http -m tcp -p tcp -j DNAT --to-destination 10.1.2.3:8080"),
		strings.Fields("-t nat -A KUBE-SVC-ABCDEFGHIJKLMNOP -m comment --comment x -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-ABCDEFGHIJKLMNOP"),
		strings.Fields("-t nat -A KUBE-SERVICES -m comment --comment x -m tcp -p tcp -d 172.16.0.1/32 --dport 80 -j KUBE-SVC-ABCDEFGHIJKLMNOP"),
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := iptables.Parse(lines[i%len(lines)], iptables.ParseOptions{Family: xtables.IPv4, Table: "nat", Restore: true, Names: fuzzNames}); err != nil {
			b.Fatal(err)
		}
	}
}
