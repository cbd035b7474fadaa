package packet

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// kernelPackets are the IP packets of testdata/kernel.pcap (without the
// Ethernet header).
func kernelPackets(t testing.TB) [][]byte {
	t.Helper()
	f, err := readPcap("testdata/kernel.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, b := range f.packets {
		out = append(out, b[14:])
	}
	return out
}

// findKernel returns the first kernel packet for which pick is true.
func findKernel(t *testing.T, pick func(p *Packet) bool) []byte {
	t.Helper()
	for _, b := range kernelPackets(t) {
		var p Packet
		if p.Decode(b) == nil && pick(&p) {
			return append([]byte(nil), b...)
		}
	}
	t.Fatal("no such packet in kernel.pcap")
	return nil
}

// TestKernelChecksums: the checksums the kernel computed verify, and the
// encoder computing every length and checksum rebuilds the same bytes.
func TestKernelChecksums(t *testing.T) {
	n := 0
	for i, b := range kernelPackets(t) {
		var p Packet
		if err := p.Decode(b); err != nil {
			t.Fatalf("#%d: %v", i+1, err)
		}
		if p.Layers&LayerAH != 0 {
			continue // hand-made AH test packets with a zero UDP checksum
		}
		ipOK, l4OK := p.ChecksumsOK()
		if !ipOK || !l4OK {
			t.Errorf("#%d %s: checksums ip %v transport %v", i+1, &p, ipOK, l4OK)
		}
		out, err := p.Append(nil, FixAll)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, p.Data) {
			t.Errorf("#%d %s: FixAll rebuilt\n%x\nwant\n%x", i+1, &p, out, p.Data)
		}
		n++
	}
	if n < 40 {
		t.Fatalf("only %d kernel packets checked", n)
	}
}

// TestRoundTrip: encode → decode → encode is the identity for the built
// packets, and the decoded fields survive it.
func TestRoundTrip(t *testing.T) {
	for i, b := range builtPackets() {
		var p, q Packet
		if err := p.Decode(b); err != nil {
			t.Fatalf("#%d: %v", i+1, err)
		}
		out, err := p.Append(nil, 0)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("#%d %s: raw re-encode %x, %v; want %x", i+1, &p, out, err, b)
		}
		out2, err := p.Append(nil, FixAll)
		if err != nil || !bytes.Equal(out2, b) {
			t.Fatalf("#%d %s: FixAll re-encode %x, %v; want %x", i+1, &p, out2, err, b)
		}
		if err := q.Decode(out); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&p, &q) {
			t.Errorf("#%d: decoded fields differ after re-encoding:\n%+v\n%+v", i+1, p.Headers, q.Headers)
		}
		if ipOK, l4OK := p.ChecksumsOK(); !ipOK || !l4OK {
			t.Errorf("#%d %s: checksums ip %v transport %v", i+1, &p, ipOK, l4OK)
		}
	}
}

func TestDecodeFields(t *testing.T) {
	syn := findKernel(t, func(p *Packet) bool { return p.IsIPv4() && p.TCP.Flags == TCPSyn })
	var p Packet
	if err := p.Decode(syn); err != nil {
		t.Fatal(err)
	}
	if p.IPv4.IHL != 5 || p.IPv4.Flags != IPv4DF || p.IPv4.TTL != 64 || p.Proto != ProtoTCP ||
		p.IPv4.Src != addr("10.9.0.1") || p.IPv4.Dst != addr("10.9.0.2") || int(p.IPv4.TotalLen) != len(syn) {
		t.Errorf("ipv4 fields: %+v", p.IPv4)
	}
	tc := &p.TCP
	if tc.DstPort != 5001 || tc.DataOff != 10 || len(tc.Options) != 20 ||
		tc.Opts != OptMSS|OptSACKPermitted|OptTimestamp|OptWScale || tc.MSS != 1240 || tc.WScale != 10 || tc.TSVal == 0 {
		t.Errorf("tcp fields: %+v", *tc)
	}
	// Linux lays out SYN options as AppendOptions does.
	if got := tc.AppendOptions(nil); !bytes.Equal(got, tc.Options) {
		t.Errorf("AppendOptions %x, kernel wrote %x", got, tc.Options)
	}
	if len(p.Payload) != 0 || len(p.Transport) != 40 || len(p.Net) != 20 {
		t.Errorf("slices: net %d transport %d payload %d", len(p.Net), len(p.Transport), len(p.Payload))
	}

	// A port unreachable quoting the first fragment of a UDP datagram.
	icmp := findKernel(t, func(p *Packet) bool {
		return p.IsIPv4() && p.Layers&LayerICMPv4 != 0 && p.ICMP.Type == ICMPUnreachable && len(p.Payload) > 500
	})
	if err := p.Decode(icmp); err != nil {
		t.Fatal(err)
	}
	in := &p.Inner
	// Linux reassembles before it finds the port closed: the quote is
	// the start of the whole datagram.
	if p.Layers&LayerInner == 0 || in.Layers&LayerUDP == 0 || in.UDP.DstPort != 5004 || in.UDP.Length != 3008 ||
		!in.Truncated || in.IsFragment() || in.IPv4.TotalLen != 3028 || len(in.Data) != 548 {
		t.Errorf("inner: layers %b %+v truncated %v", in.Layers, in.UDP, in.Truncated)
	}
	if in.Src() != p.Dst() || in.Dst() != p.Src() {
		t.Errorf("inner addresses %v > %v", in.Src(), in.Dst())
	}

	// IPv6 fragments: key, offsets, data.
	var frags []Packet
	for _, b := range kernelPackets(t) {
		var q Packet
		if q.Decode(b) == nil && q.Layers&LayerFragment != 0 {
			frags = append(frags, q)
		}
	}
	if len(frags) != 3 {
		t.Fatalf("%d IPv6 fragments", len(frags))
	}
	total := 0
	for i := range frags {
		f := &frags[i]
		if f.FragKey() != frags[0].FragKey() || f.FragOffset() != total || f.MoreFragments() != (i < 2) {
			t.Errorf("fragment %d: key %+v offset %d more %v", i, f.FragKey(), f.FragOffset(), f.MoreFragments())
		}
		total += len(f.FragData())
	}
	if total != 3008 {
		t.Errorf("fragments hold %d bytes, want 3008", total)
	}

	// UDP-encapsulated ESP and the keepalive.
	esp := findKernel(t, func(p *Packet) bool { return p.Layers.Has(LayerUDP | LayerESP) })
	p.Decode(esp)
	if p.ESP.SPI != 0x100 || p.ESP.Seq != 7 || len(p.Payload) != 40 || len(p.Transport) != 16 {
		t.Errorf("esp in udp: %+v payload %d", p.ESP, len(p.Payload))
	}
}

func TestIKEMarker(t *testing.T) {
	h := ip4("10.0.0.1", "10.0.0.2", ProtoUDP, LayerUDP|LayerIKE)
	h.UDP = UDP{SrcPort: 4500, DstPort: 4500}
	h.Payload = []byte("ike message")
	b := build(h)
	var p Packet
	if err := p.Decode(b); err != nil {
		t.Fatal(err)
	}
	if !p.Layers.Has(LayerUDP|LayerIKE) || p.Layers&LayerESP != 0 || string(p.Payload) != "ike message" || p.UDP.Length != 8+4+11 {
		t.Errorf("ike: layers %b payload %q udp %+v", p.Layers, p.Payload, p.UDP)
	}
}

func TestMalformed(t *testing.T) {
	good := builtPackets()[0] // IPv4 TCP SYN, 40 bytes
	v6 := builtPackets()[1]   // IPv6 ICMPv6 echo
	big := ip6("2001:db8::1", "2001:db8::2", 99, 0)
	big.Payload = seq(80)
	v6big := build(big)
	mod := func(b []byte, f func(b []byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{nil, "ip: header bytes 1 > captured 0"},
		{[]byte{0x50}, "ip: version 5 invalid"},
		{good[:19], "ipv4: header bytes 20 > captured 19"},
		{mod(good, func(b []byte) { b[0] = 0x44 }), "ipv4: header length 4 < 5"},
		{mod(good, func(b []byte) { b[0] = 0x4f }), "ipv4: header bytes 60 > captured 40"},
		{mod(good, func(b []byte) { b[3] = 10 }), "ipv4: total length 10 < 20"},
		{good[:39], "ipv4: total length 40 > captured 39"},
		{mod(good, func(b []byte) { b[32] = 0x40 }), "tcp: data offset 4 < 5"},
		{mod(good, func(b []byte) { b[32] = 0x60 }), "tcp: header bytes 24 > captured 20"},
		{mod(good, func(b []byte) { b[3] = 30 }), "tcp: header bytes 20 > captured 10"},
		{v6[:39], "ipv6: header bytes 40 > captured 39"},
		{v6[:50], "ipv6: payload length 64 > captured 10"},
		{mod(v6, func(b []byte) { b[5] = 4 }), "icmp6: header bytes 8 > captured 4"},
		{mod(v6, func(b []byte) { b[6] = ProtoHopByHop; b[41] = 20 }), "hbh: header bytes 168 > captured 64"},
		{mod(v6, func(b []byte) { b[6] = ProtoAH; b[41] = 0 }), "ah: length 0 < 1"},
		{mod(v6, func(b []byte) { b[6], b[40], b[42], b[43] = ProtoFragment, ProtoFragment, 0, 1 }), "frag6: fragment headers 2 > 1"},
		{mod(v6big, func(b []byte) {
			b[6] = ProtoDstOpts
			for i := 40; i < len(b); i += 8 {
				b[i], b[i+1] = ProtoDstOpts, 0
			}
		}), "ipv6: extension headers 9 > 8"},
		{mod(builtPackets()[11], func(b []byte) { b[25] = 7 }), "udp: length 7 < 8"},
		{mod(builtPackets()[11], func(b []byte) { b[25] = 29 }), "udp: length 29 > captured 28"},
		{mod(builtPackets()[2], func(b []byte) { b[3] = 27 }), "esp: header bytes 8 > captured 7"},
	} {
		var p Packet
		err := p.Decode(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Decode(%x) = %v, want %s", tc.in, err, tc.want)
		}
		var pe *Error
		if !errors.As(err, &pe) || errors.Is(err, ErrTruncated) != (pe.Op == OpTruncated) {
			t.Errorf("%v: not an *Error or ErrTruncated mismatch", err)
		}
	}
	var p Packet
	if err := p.DecodeEthernet(make([]byte, 10)); err == nil || err.Error() != "ethernet: header bytes 14 > captured 10" {
		t.Errorf("ethernet: %v", err)
	}
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	if err := p.DecodeEthernet(arp); err != nil || p.Layers != LayerEthernet || len(p.Payload) != 28 || p.String() != "ethertype 0x0806, length 28" {
		t.Errorf("arp: %v %b %q", err, p.Layers, p.String())
	}
}

// TestZeroAlloc: decoding (successfully or not), re-encoding into a buffer
// with room, summaries and NAT rewrites do not allocate.
func TestZeroAlloc(t *testing.T) {
	var pkts [][]byte
	pkts = append(pkts, kernelPackets(t)...)
	pkts = append(pkts, builtPackets()...)
	pkts = append(pkts, []byte{0x45, 0, 0}, []byte{0x60})
	var p Packet
	buf := make([]byte, 0, 4096)
	for _, b := range pkts {
		if n := testing.AllocsPerRun(50, func() { p.Decode(b) }); n != 0 {
			t.Errorf("Decode(%s): %v allocs", &p, n)
		}
		if p.Decode(b) != nil {
			continue
		}
		if n := testing.AllocsPerRun(50, func() { buf, _ = p.Append(buf[:0], FixAll) }); n != 0 {
			t.Errorf("Append(%s): %v allocs", &p, n)
		}
		if n := testing.AllocsPerRun(50, func() { buf = p.AppendSummary(buf[:0]) }); n != 0 {
			t.Errorf("AppendSummary(%s): %v allocs", &p, n)
		}
	}
	eth := findKernelEth(t)
	if n := testing.AllocsPerRun(50, func() { p.DecodeEthernet(eth) }); n != 0 {
		t.Errorf("DecodeEthernet: %v allocs", n)
	}
	c := append([]byte(nil), builtPackets()[3]...)
	a1, a2 := addr("203.0.113.5"), addr("192.0.2.1")
	if n := testing.AllocsPerRun(50, func() {
		p.Decode(c)
		p.SetSrc(a1)
		p.SetSrcPort(1234)
		p.SetTTL(3)
		p.SetSrc(a2)
	}); n != 0 {
		t.Errorf("NAT rewrite: %v allocs", n)
	}
}

func findKernelEth(t *testing.T) []byte {
	f, err := readPcap("testdata/kernel.pcap")
	if err != nil {
		t.Fatal(err)
	}
	return f.packets[len(f.packets)-1]
}

func TestNATRewrite(t *testing.T) {
	check := func(name string, p *Packet) {
		t.Helper()
		if ipOK, l4OK := p.ChecksumsOK(); !ipOK || !l4OK {
			t.Errorf("%s %s: checksums ip %v transport %v", name, p, ipOK, l4OK)
		}
		var q Packet
		if err := q.Decode(p.Data); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(q.Headers, p.Headers) {
			t.Errorf("%s: fields and bytes disagree:\n%+v\n%+v", name, q.Headers, p.Headers)
		}
	}
	picks := map[string]func(p *Packet) bool{
		"tcp4":   func(p *Packet) bool { return p.IsIPv4() && p.Layers&LayerTCP != 0 && len(p.Payload) > 0 },
		"tcp6":   func(p *Packet) bool { return p.IsIPv6() && p.Layers&LayerTCP != 0 && len(p.Payload) > 0 },
		"udp4":   func(p *Packet) bool { return p.IsIPv4() && p.Layers&LayerUDP != 0 && p.UDP.DstPort == 5003 },
		"udp6":   func(p *Packet) bool { return p.IsIPv6() && p.Layers&LayerUDP != 0 && p.UDP.DstPort == 5003 },
		"echo4":  func(p *Packet) bool { return p.Layers&LayerICMPv4 != 0 && p.ICMP.Type == ICMPEcho },
		"echo6":  func(p *Packet) bool { return p.Layers&LayerICMPv6 != 0 && p.ICMP.Type == ICMPv6EchoRequest },
		"frag4":  func(p *Packet) bool { return p.IsIPv4() && p.IPv4.FragOff != 0 },
		"error4": func(p *Packet) bool { return p.Layers&LayerInner != 0 && p.IsIPv4() },
		"error6": func(p *Packet) bool { return p.Layers&LayerInner != 0 && p.IsIPv6() && p.Inner.Layers&LayerUDP != 0 },
	}
	for name, pick := range picks {
		b := findKernel(t, pick)
		var p Packet
		p.Decode(b)
		src, dst := addr("203.0.113.7"), addr("198.51.100.99")
		if p.IsIPv6() {
			src, dst = addr("2001:db8:ffff::7"), addr("fd00::99")
		}
		if err := p.SetSrc(src); err != nil {
			t.Fatal(err)
		}
		if err := p.SetDst(dst); err != nil {
			t.Fatal(err)
		}
		p.SetTTL(p.IPv4.TTL + p.IPv6.HopLimit - 1)
		if p.Layers&(LayerTCP|LayerUDP) != 0 || p.Layers&(LayerICMPv4|LayerICMPv6) != 0 && p.ICMP.IsEcho() {
			if err := p.SetSrcPort(40001); err != nil {
				t.Fatal(err)
			}
			if err := p.SetDstPort(80); err != nil {
				t.Fatal(err)
			}
		}
		if p.Layers&LayerInner != 0 {
			// Reverse NAT of an error: rewrite the quoted packet too.
			if err := p.Inner.SetSrc(dst); err != nil {
				t.Fatal(err)
			}
			if err := p.Inner.SetDstPort(53); err != nil {
				t.Fatal(err)
			}
			p.FixICMPChecksum()
			if p.Inner.Src() != dst || p.Inner.UDP.DstPort != 53 {
				t.Errorf("%s: inner %v %d", name, p.Inner.Src(), p.Inner.UDP.DstPort)
			}
		}
		if p.Src() != src || p.Dst() != dst {
			t.Errorf("%s: addresses %v %v", name, p.Src(), p.Dst())
		}
		check(name, &p)
	}
	// A zero IPv4 UDP checksum stays zero.
	h := ip4("10.0.0.1", "10.0.0.2", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 1, DstPort: 2}
	b, _ := h.Append(nil, FixLengths)
	var p Packet
	p.Decode(b)
	p.SetSrc(addr("10.0.0.3"))
	p.SetSrcPort(99)
	if p.UDP.Checksum != 0 || be.Uint16(b[26:]) != 0 {
		t.Errorf("zero UDP checksum became %#x", p.UDP.Checksum)
	}
	if err := p.SetSrc(addr("::1")); err == nil {
		t.Error("IPv6 address set on IPv4")
	}
}

func TestChecksumHelpers(t *testing.T) {
	// RFC 1071 example: 0001 f203 f4f5 f6f7 sums to ddf2.
	if s := fold16(Sum([]byte{0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7}, 0)); s != 0xddf2 {
		t.Errorf("sum %#x", s)
	}
	if Checksum([]byte{1}, 0) != ^uint16(0x0100) {
		t.Error("odd length")
	}
	// Incremental updates agree with recomputation, for every word.
	data := seq(40)
	for i := 0; i < 40; i += 2 {
		c := append([]byte(nil), data...)
		cs := Checksum(c, 0)
		old := be.Uint16(c[i:])
		be.PutUint16(c[i:], old^0xa5c3)
		if got, want := Update16(cs, old, old^0xa5c3), Checksum(c, 0); got != want {
			t.Errorf("Update16 at %d: %#x want %#x", i, got, want)
		}
	}
	a, b := addr("2001:db8::1"), addr("fe80::1234:5678")
	s1 := PseudoSum(a, a, ProtoTCP, 100)
	s2 := PseudoSum(b, a, ProtoTCP, 100)
	if UpdateAddr(^fold16(s1), a, b) != ^fold16(s2) {
		t.Error("UpdateAddr")
	}
	if Update32(0x1234, 0x01020304, 0x05060708) != Update16(Update16(0x1234, 0x0102, 0x0506), 0x0304, 0x0708) {
		t.Error("Update32")
	}
}

func TestFragmentIPv4(t *testing.T) {
	h := ip4("1.2.3.4", "5.6.7.8", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 5005, DstPort: 5006}
	h.IPv4.Flags = IPv4DF
	h.IPv4.Options = []byte{0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0} // RA (copied), RR (not)
	h.Payload = seq(3000)
	orig := build(h)
	dst := make([]byte, 0, 8192)
	frags := make([][]byte, 0, 8)
	if n := testing.AllocsPerRun(20, func() { dst, frags, _ = FragmentIPv4(dst[:0], frags[:0], orig, 1000) }); n != 0 {
		t.Errorf("FragmentIPv4 with room: %v allocs", n)
	}
	if len(frags) != 4 {
		t.Fatalf("%d fragments", len(frags))
	}
	var whole []byte
	for i, f := range frags {
		var p Packet
		if err := p.Decode(f); err != nil {
			t.Fatal(err)
		}
		if len(f) > 1000 || p.FragOffset() != len(whole) || p.MoreFragments() != (i < 3) || p.IPv4.Flags&IPv4DF != 0 {
			t.Errorf("fragment %d: len %d off %d flags %d", i, len(f), p.FragOffset(), p.IPv4.Flags)
		}
		if ipOK, _ := p.ChecksumsOK(); !ipOK || p.FragKey() != (FragKey{Src: h.IPv4.Src, Dst: h.IPv4.Dst, ID: 0x5efa, Proto: ProtoUDP}) {
			t.Errorf("fragment %d: checksum %v key %+v", i, ipOK, p.FragKey())
		}
		wantOpts := []byte{0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0}
		if i == 0 {
			wantOpts = h.IPv4.Options
		}
		if !bytes.Equal(p.IPv4.Options, wantOpts) {
			t.Errorf("fragment %d options %x", i, p.IPv4.Options)
		}
		if i < 3 && len(p.FragData())%8 != 0 {
			t.Errorf("fragment %d data %d not a multiple of 8", i, len(p.FragData()))
		}
		whole = append(whole, p.FragData()...)
	}
	if !bytes.Equal(whole, orig[32:]) {
		t.Error("fragments do not reassemble")
	}
	// Refragmenting a middle fragment keeps MF on its last piece.
	_, sub, err := FragmentIPv4(nil, nil, frags[1], 500)
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	p.Decode(sub[len(sub)-1])
	if !p.MoreFragments() || p.FragOffset() == 0 {
		t.Errorf("refragmented: more %v offset %d", p.MoreFragments(), p.FragOffset())
	}
	if _, _, err := FragmentIPv4(nil, nil, orig, 39); err == nil || err.Error() != "ipv4: mtu 39 < 40" {
		t.Errorf("tiny mtu: %v", err)
	}
}

func TestFragmentIPv6(t *testing.T) {
	h := ip6("2001:db8::1", "2001:db8::2", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 5005, DstPort: 5006}
	h.Payload = seq(3000)
	// Hop-by-hop and routing stay in front; destination options after the
	// routing header are fragmented.
	orig := build(withExt(h, optsHdr(ProtoHopByHop, false), routingHdr(2, 1, "2001:db8::99"), optsHdr(ProtoDstOpts, false)))
	_, frags, err := FragmentIPv6(nil, nil, orig, 1280, 0x1234)
	if err != nil {
		t.Fatal(err)
	}
	var whole []byte
	for i, f := range frags {
		var p Packet
		if err := p.Decode(f); err != nil {
			t.Fatal(err)
		}
		if len(f) > 1280 || p.FragOffset() != len(whole) || p.MoreFragments() != (i < len(frags)-1) || p.IPv6.Frag.ID != 0x1234 {
			t.Errorf("fragment %d: len %d off %d", i, len(f), p.FragOffset())
		}
		if p.NumExt < 3 || p.Ext[0].Proto != ProtoHopByHop || p.Ext[1].Proto != ProtoRouting || p.Ext[2].Proto != ProtoFragment {
			t.Errorf("fragment %d: chain %+v", i, p.Ext[:p.NumExt])
		}
		whole = append(whole, p.FragData()...)
	}
	if !bytes.Equal(whole, orig[40+8+24:]) {
		t.Error("fragments do not reassemble")
	}
	at, err := InsertIPv6Fragment(nil, orig, 9)
	var p Packet
	if err != nil || p.Decode(at) != nil || p.IsFragment() || p.Layers&LayerUDP == 0 || !bytes.Equal(p.Payload, seq(3000)) {
		t.Errorf("atomic fragment: %v %s", err, &p)
	}
	if _, _, err := FragmentIPv6(nil, nil, at, 1280, 1); err == nil {
		t.Error("fragmented a fragment")
	}
}

func TestEncodeErrors(t *testing.T) {
	h := ip4("10.0.0.1", "10.0.0.2", ProtoTCP, LayerTCP)
	h.IPv4.Options = make([]byte, 41)
	if _, err := h.Append(nil, FixAll); err == nil || err.Error() != "ipv4: options length 41 > 40" {
		t.Errorf("options: %v", err)
	}
	h.IPv4.Options = nil
	h.IPv4.Dst = netip.MustParseAddr("::1")
	if _, err := h.Append(nil, FixAll); err == nil || err.Error() != "ipv4: address length 16 invalid" {
		t.Errorf("address: %v", err)
	}
	h = ip4("10.0.0.1", "10.0.0.2", ProtoTCP, LayerTCP)
	if _, err := h.Append(nil, 0); err == nil || err.Error() != "ipv4: header length 0 invalid" {
		t.Errorf("raw without IHL: %v", err)
	}
	var none Headers
	if _, err := none.Append(nil, FixAll); err == nil {
		t.Error("no IP layer encoded")
	}
}
