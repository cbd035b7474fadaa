package packet

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Benchmarks decode typical packets with this package and, as a
// baseline in the same run, with gopacket's DecodingLayerParser (its
// fastest, preallocated mode) over the same layers.

func benchPacket(b *testing.B, pick func(p *Packet) bool) []byte {
	for _, pkt := range kernelPackets(b) {
		var p Packet
		if p.Decode(pkt) == nil && pick(&p) {
			return pkt
		}
	}
	b.Fatal("no packet")
	return nil
}

var (
	pickTCP4 = func(p *Packet) bool {
		return p.IsIPv4() && p.Layers&LayerTCP != 0 && len(p.TCP.Options) > 0 && len(p.Payload) > 0
	}
	pickTCP6  = func(p *Packet) bool { return p.IsIPv6() && p.Layers&LayerTCP != 0 && len(p.Payload) > 0 }
	pickUDP4  = func(p *Packet) bool { return p.IsIPv4() && p.Layers&LayerUDP != 0 && !p.IsFragment() }
	pickICMP4 = func(p *Packet) bool { return p.Layers&LayerInner != 0 && p.IsIPv4() }
)

func benchDecode(b *testing.B, pick func(p *Packet) bool) {
	pkt := benchPacket(b, pick)
	var p Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := p.Decode(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGopacket(b *testing.B, pick func(p *Packet) bool, first gopacket.LayerType) {
	pkt := benchPacket(b, pick)
	var (
		ip4  layers.IPv4
		ip6  layers.IPv6
		tcp  layers.TCP
		udp  layers.UDP
		icmp layers.ICMPv4
		pl   gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(first, &ip4, &ip6, &tcp, &udp, &icmp, &pl)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := parser.DecodeLayers(pkt, &decoded); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTCP(b *testing.B)          { benchDecode(b, pickTCP4) }
func BenchmarkDecodeTCPGopacket(b *testing.B)  { benchGopacket(b, pickTCP4, layers.LayerTypeIPv4) }
func BenchmarkDecodeTCP6(b *testing.B)         { benchDecode(b, pickTCP6) }
func BenchmarkDecodeTCP6Gopacket(b *testing.B) { benchGopacket(b, pickTCP6, layers.LayerTypeIPv6) }
func BenchmarkDecodeUDP(b *testing.B)          { benchDecode(b, pickUDP4) }
func BenchmarkDecodeUDPGopacket(b *testing.B)  { benchGopacket(b, pickUDP4, layers.LayerTypeIPv4) }
func BenchmarkDecodeICMPErr(b *testing.B)      { benchDecode(b, pickICMP4) }
func BenchmarkDecodeICMPErrGopacket(b *testing.B) {
	benchGopacket(b, pickICMP4, layers.LayerTypeIPv4)
}

// BenchmarkDecodeTCPGopacketNew is gopacket's common allocating API.
func BenchmarkDecodeTCPGopacketNew(b *testing.B) {
	pkt := benchPacket(b, pickTCP4)
	b.ReportAllocs()
	for b.Loop() {
		p := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.NoCopy)
		if p.ErrorLayer() != nil {
			b.Fatal(p.ErrorLayer().Error())
		}
	}
}

func BenchmarkEncodeTCP(b *testing.B) {
	var p Packet
	p.Decode(benchPacket(b, pickTCP4))
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.Append(buf[:0], FixAll)
	}
}

func BenchmarkSummaryTCP(b *testing.B) {
	var p Packet
	p.Decode(benchPacket(b, pickTCP4))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendSummary(buf[:0])
	}
}

func BenchmarkNATRewrite(b *testing.B) {
	pkt := append([]byte(nil), benchPacket(b, pickTCP4)...)
	var p Packet
	p.Decode(pkt)
	a1, a2 := addr("203.0.113.1"), p.Src()
	b.ReportAllocs()
	for b.Loop() {
		p.SetSrc(a1)
		p.SetSrcPort(1000)
		p.SetSrc(a2)
	}
}

func BenchmarkChecksum1500(b *testing.B) {
	buf := seq(1500)
	b.SetBytes(1500)
	for b.Loop() {
		Checksum(buf, 0)
	}
}
