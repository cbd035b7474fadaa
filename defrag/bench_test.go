package defrag_test

import (
	"testing"

	"github.com/iptwin/iptwin/defrag"
)

// BenchmarkAdd reassembles datagrams of three fragments, against a
// baseline that only collects the fragments' data in a map of slices (no
// checks, no order, allocating as naive code does).
func BenchmarkAdd(b *testing.B) {
	for _, c := range []struct {
		name string
		kind defrag.Kind
	}{{"ipv4", defrag.IPv4}, {"ipv6", defrag.IPv6Conntrack}} {
		d := datagram(b, c.kind != defrag.IPv4, 3000, 8)
		fs := cut(d, 1, span{0, 1000}, span{1000, 2000}, span{2000, 3008})
		b.Run(c.name, func(b *testing.B) {
			q := defrag.New(defrag.Config{Kind: c.kind})
			b.ReportAllocs()
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				for _, f := range fs {
					q.Add(f, nil, 0)
				}
			}
		})
		b.Run(c.name+"-baseline-map", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(d)))
			m := map[uint32][][]byte{}
			for b.Loop() {
				for _, f := range fs {
					m[1] = append(m[1], append([]byte(nil), f...))
				}
				var whole []byte
				for _, f := range m[1] {
					whole = append(whole, f...)
				}
				delete(m, 1)
				_ = whole
			}
		})
	}
}
