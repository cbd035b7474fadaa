package icmpgen_test

import (
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/xtables"
)

func BenchmarkReject(b *testing.B) {
	p4 := udp4(b, 100)
	p6 := tcp6(b, 2)
	buf := make([]byte, 0, 2048)
	o := icmpgen.Options{Local: true}
	b.Run("icmp4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			icmpgen.Reject(buf, p4, xtables.RejectPortUnreach, o)
		}
	})
	b.Run("rst6", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			icmpgen.Reject(buf, p6, xtables.RejectTCPReset, o)
		}
	})
	b.Run("limiter", func(b *testing.B) {
		b.ReportAllocs()
		l := icmpgen.NewLimiter(func() uint32 { return 1 })
		m := icmpgen.Msg{Type: 3, Dst: netip.MustParseAddr("192.0.2.1")}
		var now int64
		for b.Loop() {
			now += 1e6
			l.Allow(now, m)
		}
	})
}
