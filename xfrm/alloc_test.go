package xfrm

import (
	"net/netip"
	"testing"
)

// The per-packet functions allocate nothing.
func TestPerPacketAllocs(t *testing.T) {
	d2, d3 := seedDBs(t)
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	buf := make([]byte, 0, 2048)
	ibuf := make([]byte, 0, 2048)
	var b Bundle
	var fl Flow
	var sp SecPath
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y := d3.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y.ReplayWindow = 0 // the same packet again is no replay
	p := &EncapParams{TTL: 64}
	dp := &DecapParams{}
	out, _ := x.Encapsulate(buf, in, p)
	checks := []struct {
		name string
		f    func()
	}{
		{"FromPacket", func() { fl.FromPacket(in, false) }},
		{"OutputPolicy", func() { d2.OutputPolicy(&fl, 1, nil, &b) }},
		{"Encapsulate", func() { x.Encapsulate(buf, in, p) }},
		{"Decapsulate", func() { sp.Reset(); d3.Decapsulate(ibuf, out, dp, &sp) }},
		{"Check", func() { d3.Check(DirFwd, &fl, &sp, 1) }},
		{"AppendInfo", func() { var a [MaxDepth]SAInfo; sp.AppendInfo(a[:0]) }},
	}
	fl.FromPacket(in, false)
	for _, c := range checks {
		if n := testing.AllocsPerRun(200, c.f); n != 0 {
			t.Errorf("%s: %v allocations per packet", c.name, n)
		}
	}
}

// Benchmarks of the per-packet path, with a copy of the packet as the
// baseline (the least any encapsulation costs).
func BenchmarkPath(b *testing.B) {
	d2, d3 := seedDBs(b)
	in := echo(netip.MustParseAddr("192.168.200.2"), netip.MustParseAddr("192.168.201.2"), 63, 0, 1)
	big := make([]byte, 1400)
	copy(big, in)
	big[2], big[3] = 1400>>8, 1400&0xff
	buf := make([]byte, 0, 2048)
	x := d2.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y := d3.LookupSPI(d3addr, spi23, ProtoESP, 0)
	y.ReplayWindow = 0
	var fl Flow
	fl.FromPacket(in, false)
	var bd Bundle
	var sp SecPath
	b.Run("baseline-copy-84", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf = append(buf[:0], in...)
		}
	})
	b.Run("OutputPolicy", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d2.OutputPolicy(&fl, 1, nil, &bd)
		}
	})
	for _, pkt := range [][]byte{in, big} {
		out, _ := x.Encapsulate(nil, pkt, &EncapParams{TTL: 64})
		b.Run("Encapsulate-"+itoa(uint64(len(pkt))), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for i := 0; i < b.N; i++ {
				x.Encapsulate(buf[:0], pkt, &EncapParams{TTL: 64})
			}
		})
		b.Run("Decapsulate-"+itoa(uint64(len(pkt))), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for i := 0; i < b.N; i++ {
				sp.Reset()
				d3.Decapsulate(buf[:0], out, &DecapParams{}, &sp)
			}
		})
	}
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d3.Check(DirFwd, &fl, &sp, 1)
		}
	})
}
