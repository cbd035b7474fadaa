package packet

import (
	"bytes"
	"net/netip"
	"testing"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ip4(src, dst string, proto uint8, layers Layer) Headers {
	return Headers{Layers: LayerIPv4 | layers, Proto: proto,
		IPv4: IPv4{TTL: 64, ID: 0x5efa, Src: addr(src), Dst: addr(dst)}}
}

func ip6(src, dst string, proto uint8, layers Layer) Headers {
	return Headers{Layers: LayerIPv6 | layers, Proto: proto,
		IPv6: IPv6{HopLimit: 64, Src: addr(src), Dst: addr(dst)}}
}

func build(h Headers) []byte {
	b, err := h.Append(nil, FixAll)
	if err != nil {
		panic(err)
	}
	return b
}

// ikeMessages are ISAKMP headers (RFC 7296 3.1) with payload chains.
func ikeMessages() [][]byte {
	msg := func(ver, etype, flags uint8, msgid uint32, np uint8, body []byte) []byte {
		b := make([]byte, 28, 28+len(body))
		copy(b, "\x11\x22\x33\x44\x55\x66\x77\x88")
		b[16], b[17], b[18], b[19] = np, ver, etype, flags
		b[20], b[21], b[22], b[23] = byte(msgid>>24), byte(msgid>>16), byte(msgid>>8), byte(msgid)
		b = append(b, body...)
		n := len(b)
		b[24], b[25], b[26], b[27] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return b
	}
	pay := func(next uint8, n int) []byte { // a generic payload header and n bytes
		p := append([]byte{next, 0, byte((n + 4) >> 8), byte(n + 4)}, seq(n)...)
		return p
	}
	sa := append(append(pay(34, 8), pay(40, 16)...), pay(0, 4)...) // SA, KE, Nonce
	enc := pay(35, 40)                                             // SK, inner IDi
	short := pay(0, 100)[:40]                                      // item length beyond the data
	return [][]byte{
		msg(0x20, 34, 0x08, 0, 33, sa),       // IKE_SA_INIT request
		msg(0x20, 34, 0x20, 0, 33, sa),       // IKE_SA_INIT response
		msg(0x20, 35, 0x08, 1, 46, enc),      // IKE_AUTH request
		msg(0x20, 37, 0x28, 2, 46, enc),      // INFORMATIONAL response, initiator
		msg(0x20, 36, 0x00, 3, 46, enc),      // CREATE_CHILD_SA, no flags
		msg(0x20, 99, 0x08, 0, 0, nil),       // unknown exchange type
		msg(0x20, 35, 0x08, 1, 46, short),    // truncated SK payload
		msg(0x10, 2, 0x00, 0, 1, pay(0, 8)),  // IKEv1 identity protection
		msg(0x30, 34, 0x08, 0, 0, nil),       // version 3
		msg(0x20, 34, 0x08, 0, 33, nil)[:20], // shorter than the header
	}
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func withExt(h Headers, exts ...Ext) Headers {
	for _, x := range exts {
		h.Ext[h.NumExt] = x
		h.NumExt++
	}
	return h
}

// optsHdr is an IPv6 hop-by-hop/destination options header of 8 bytes
// (PadN), or with a router alert option.
func optsHdr(proto uint8, ra bool) Ext {
	d := []byte{0, 0, 1, 4, 0, 0, 0, 0}
	if ra {
		d = []byte{0, 0, 5, 2, 0, 0, 1, 0}
	}
	return Ext{Proto: proto, Data: d}
}

func routingHdr(typ uint8, segleft uint8, addrs ...string) Ext {
	d := []byte{0, uint8(2 * len(addrs)), typ, segleft, 0, 0, 0, 0}
	if typ == 4 {
		d[4] = uint8(len(addrs) - 1)
	}
	for _, a := range addrs {
		b := addr(a).As16()
		d = append(d, b[:]...)
	}
	return Ext{Proto: ProtoRouting, Data: d}
}

func ahHdr(spi, seq uint32) Ext {
	d := []byte{0, 4, 0, 0}
	d = be.AppendUint32(d, spi)
	d = be.AppendUint32(d, seq)
	d = append(d, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8)
	return Ext{Proto: ProtoAH, Data: d}
}

// builtPackets are packets made with the encoder, covering what the
// kernel capture does not; their tcpdump output is in built.tcpdump.
func builtPackets() [][]byte {
	var out [][]byte
	add := func(b ...[]byte) { out = append(out, b...) }

	// The examples of the brief.
	h := ip4("10.1.77.146", "10.1.51.165", ProtoTCP, LayerTCP)
	h.TCP = TCP{SrcPort: 55724, DstPort: 22, Seq: 1, Flags: TCPSyn, Window: 26883}
	add(build(h))
	h = ip6("2001:db8::1", "2001:db8::2", ProtoICMPv6, LayerICMPv6)
	h.ICMP.Type = ICMPv6EchoRequest
	h.ICMP.SetEcho(1, 1)
	h.Payload = seq(56)
	add(build(h))
	h = ip4("10.0.0.1", "10.0.0.2", ProtoESP, LayerESP)
	h.ESP = ESP{SPI: 1, Seq: 1}
	h.Payload = seq(92)
	add(build(h))

	// TCP: every flag, urgent data, payload; no flags; options.
	h = ip4("192.0.2.1", "198.51.100.7", ProtoTCP, LayerTCP)
	h.TCP = TCP{SrcPort: 40000, DstPort: 5001, Seq: 4000000000, Ack: 7, Flags: 0xff, Window: 512, Urgent: 3}
	h.Payload = []byte("0123456789")
	add(build(h))
	h.TCP.Flags = 0
	h.Payload = nil
	add(build(h))
	h.TCP.Flags = TCPSyn | TCPEce | TCPCwr
	h.TCP.Opts = OptMSS | OptWScale | OptSACKPermitted | OptTimestamp
	h.TCP.MSS, h.TCP.WScale, h.TCP.TSVal = 1460, 7, 123456
	h.TCP.Options = h.TCP.AppendOptions(nil)
	add(build(h))
	h.TCP.Flags = TCPAck
	h.TCP.Opts = OptSACK | OptTimestamp
	h.TCP.SACK = []byte{0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 1, 0, 0, 0, 2, 0}
	h.TCP.Options = h.TCP.AppendOptions(nil)
	add(build(h))
	// Options tcpdump prints specially, unknown ones, a wrong length, EOL.
	h.TCP.Options = []byte{6, 6, 0, 0, 0, 9, 28, 4, 0x81, 0x2c, 99, 4, 0xab, 0xcd, 20, 4, 1, 2, 2, 5, 1, 2, 3, 0, 1, 1}
	add(build(h))
	h.TCP.Options = []byte{19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 5, 7, 1, 2, 3, 4, 5, 1, 1}
	add(build(h))
	h.TCP.Options = []byte{1, 2, 1}
	add(build(h))
	h.TCP.Options = []byte{3, 9, 1}
	add(build(h))

	// UDP, UDP to 4500: ESP, keepalive; IPv4 options.
	h = ip4("192.0.2.1", "198.51.100.7", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 5005, DstPort: 5006}
	h.Payload = seq(20)
	add(build(h))
	h.UDP.SrcPort, h.UDP.DstPort = 4500, 4500
	h.Layers |= LayerESP
	h.ESP = ESP{SPI: 0xc0ffee, Seq: 0x1234567}
	add(build(h))
	h.Layers &^= LayerESP
	h.Payload = []byte{0xff}
	add(build(h))
	// IKE on 500 and (after the non-ESP marker) on 4500: IKEv2
	// exchanges of both roles, a truncated payload chain, a short
	// header, IKEv1 and an unknown version.
	h = ip4("192.0.2.1", "198.51.100.7", ProtoUDP, LayerUDP)
	for _, ike := range ikeMessages() {
		for _, port := range []uint16{500, 4500} {
			h.UDP = UDP{SrcPort: port, DstPort: port}
			h.Payload = ike
			if port == 4500 {
				h.Payload = append([]byte{0, 0, 0, 0}, ike...)
			}
			add(build(h))
		}
	}
	h.UDP = UDP{SrcPort: 500, DstPort: 4500}
	h.Payload = ikeMessages()[0]
	add(build(h))
	h = ip4("192.0.2.1", "198.51.100.7", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 5005, DstPort: 5006}
	h.IPv4.Options = []byte{0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0} // router alert, RR
	h.IPv4.TOS = 0x10
	h.Payload = seq(4)
	add(build(h))

	// IPv4 fragments of a UDP datagram (FragmentIPv4), and of TCP.
	h = ip4("1.2.3.4", "5.6.7.8", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 5005, DstPort: 5006}
	h.IPv4.Options = []byte{0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0}
	h.Payload = seq(2000)
	_, frags, err := FragmentIPv4(nil, nil, build(h), 1280)
	if err != nil {
		panic(err)
	}
	add(frags...)
	h = ip4("1.2.3.4", "5.6.7.8", ProtoTCP, LayerTCP)
	h.TCP = TCP{SrcPort: 5001, DstPort: 5002, Seq: 1, Ack: 1, Flags: TCPAck | TCPPsh, Window: 100}
	h.Payload = seq(100)
	_, frags, err = FragmentIPv4(nil, nil, build(h), 68)
	if err != nil {
		panic(err)
	}
	add(frags...)

	// An unknown protocol.
	h = ip4("10.0.0.1", "10.0.0.2", 99, 0)
	h.Payload = seq(12)
	add(build(h))

	// ICMP messages.
	orig := ip4("10.0.0.2", "10.0.0.9", ProtoTCP, LayerTCP)
	orig.TCP = TCP{SrcPort: 33000, DstPort: 5001, Seq: 77, Flags: TCPSyn, Window: 1000}
	origTCP := build(orig)
	origU := ip4("10.0.0.2", "10.0.0.9", ProtoUDP, LayerUDP)
	origU.UDP = UDP{SrcPort: 33001, DstPort: 5003}
	origU.Payload = seq(10)
	origUDP := build(origU)
	origP := ip4("10.0.0.2", "10.0.0.9", 99, 0)
	origP.Payload = seq(8)
	origProto := build(origP)
	icmpErr := func(typ, code uint8, rest uint32, q []byte) []byte {
		b, err := AppendICMPError(nil, q, ICMPError{Src: addr("10.0.0.1"), Type: typ, Code: code, Rest: rest})
		if err != nil {
			panic(err)
		}
		return b
	}
	for code := uint8(0); code <= 16; code++ {
		q := origTCP
		if code == 2 {
			q = origProto
		}
		add(icmpErr(ICMPUnreachable, code, 1400, q))
	}
	add(icmpErr(ICMPUnreachable, 3, 0, origUDP), icmpErr(ICMPUnreachable, 3, 0, origProto))
	add(icmpErr(ICMPUnreachable, 4, 0, origUDP))
	add(icmpErr(ICMPTimeExceeded, 0, 0, origTCP), icmpErr(ICMPTimeExceeded, 1, 0, origTCP), icmpErr(ICMPTimeExceeded, 5, 0, origTCP))
	add(icmpErr(ICMPParamProblem, 0, 20<<24, origTCP), icmpErr(ICMPParamProblem, 1, 0, origTCP))
	for code := uint8(0); code <= 4; code++ {
		add(icmpErr(ICMPRedirect, code, 0x0a000063, origTCP))
	}
	add(icmpErr(ICMPSourceQuench, 0, 0, origTCP))
	h = ip4("10.0.0.1", "10.0.0.2", ProtoICMP, LayerICMPv4)
	h.ICMP = ICMP{Type: ICMPUnreachable, Code: 3}
	h.Payload = origTCP[:12] // too short to name the port
	add(build(h))
	for _, typ := range []uint8{0, 8, 10, 13, 14, 15, 16, 17, 18, 42} {
		h = ip4("10.0.0.1", "10.0.0.2", ProtoICMP, LayerICMPv4)
		h.ICMP = ICMP{Type: typ}
		h.ICMP.SetEcho(7, 9)
		h.Payload = []byte{0, 0, 0, 1, 0, 0, 0, 2, 0x05, 0x26, 0x5c, 0x00}
		add(build(h))
	}

	// IPv6: TCP, UDP, extension headers, AH, ESP, unknown, none.
	h = ip6("2001:db8::1", "2001:db8::2", ProtoTCP, LayerTCP)
	h.TCP = TCP{SrcPort: 5001, DstPort: 5002, Seq: 5, Ack: 6, Flags: TCPAck | TCPFin, Window: 9}
	h.IPv6.TrafficClass, h.IPv6.FlowLabel = 0xb8, 0x12345
	add(build(h))
	add(build(withExt(h, optsHdr(ProtoHopByHop, true))))
	add(build(withExt(h, optsHdr(ProtoDstOpts, false))))
	add(build(withExt(h, routingHdr(2, 1, "2001:db8::99"))))
	add(build(withExt(h, routingHdr(0, 2, "2001:db8::98", "2001:db8::99"))))
	add(build(withExt(h, routingHdr(4, 1, "2001:db8::97", "2001:db8::96"))))
	add(build(withExt(h, ahHdr(0x1000, 2))))
	add(build(withExt(h, optsHdr(ProtoHopByHop, false), routingHdr(2, 1, "2001:db8::99"), optsHdr(ProtoDstOpts, false))))
	h = ip6("2001:db8::1", "2001:db8::2", ProtoUDP, LayerUDP)
	h.UDP = UDP{SrcPort: 5005, DstPort: 5006}
	h.Payload = seq(3000)
	_, frags, err = FragmentIPv6(nil, nil, build(withExt(h, optsHdr(ProtoHopByHop, false), optsHdr(ProtoDstOpts, false))), 1280, 0xabcdef)
	if err != nil {
		panic(err)
	}
	add(frags...)
	h.Payload = seq(12)
	at, err := InsertIPv6Fragment(nil, build(h), 7)
	if err != nil {
		panic(err)
	}
	add(at)
	h.UDP.DstPort = 4500
	h.Layers |= LayerESP
	h.ESP = ESP{SPI: 0x42, Seq: 1}
	add(build(h))
	h = ip6("2001:db8::1", "2001:db8::2", 99, 0)
	h.Payload = seq(8)
	add(build(h))
	h.Proto = ProtoNoNext
	h.Payload = nil
	add(build(h))

	// ICMPv6 errors and neighbour discovery.
	o6 := ip6("2001:db8::2", "2001:db8::9", ProtoUDP, LayerUDP)
	o6.UDP = UDP{SrcPort: 33001, DstPort: 5003}
	o6.Payload = seq(10)
	o6UDP := build(o6)
	o6.Proto, o6.Layers = ProtoTCP, LayerIPv6|LayerTCP
	o6.TCP = TCP{SrcPort: 33000, DstPort: 5001, Flags: TCPSyn}
	o6.Payload = nil
	o6TCP := build(withExt(o6, optsHdr(ProtoDstOpts, false)))
	icmp6Err := func(typ, code uint8, rest uint32, q []byte) []byte {
		b, err := AppendICMPError(nil, q, ICMPError{Src: addr("2001:db8::1"), Type: typ, Code: code, Rest: rest})
		if err != nil {
			panic(err)
		}
		return b
	}
	for code := uint8(0); code <= 4; code++ {
		add(icmp6Err(ICMPv6Unreachable, code, 0, o6UDP))
	}
	add(icmp6Err(ICMPv6Unreachable, 4, 0, o6TCP))
	add(icmp6Err(ICMPv6PacketTooBig, 0, 1280, o6UDP))
	add(icmp6Err(ICMPv6TimeExceeded, 0, 0, o6UDP), icmp6Err(ICMPv6TimeExceeded, 1, 0, o6UDP), icmp6Err(ICMPv6TimeExceeded, 2, 0, o6UDP))
	for code := uint8(0); code <= 4; code++ {
		add(icmp6Err(ICMPv6ParamProblem, code, 40, o6UDP))
	}
	h = ip6("2001:db8::1", "2001:db8::2", ProtoICMPv6, LayerICMPv6)
	h.ICMP = ICMP{Type: ICMPv6Unreachable, Code: 4}
	h.Payload = o6UDP[:30]
	add(build(h))
	target := addr("2001:db8::2").As16()
	for _, typ := range []uint8{133, 134, 135, 136, 137, 141} {
		h = ip6("fe80::1", "ff02::1", ProtoICMPv6, LayerICMPv6)
		h.ICMP = ICMP{Type: typ}
		h.Payload = append(append(target[:], target[:]...), 1, 1, 2, 0, 0, 0, 0, 1)
		add(build(h))
	}
	return out
}

// TestBuiltPcap checks that testdata/built.pcap (whose tcpdump output is
// the golden built.tcpdump) holds exactly what builtPackets makes now;
// -update rewrites it.
func TestBuiltPcap(t *testing.T) {
	pkts := builtPackets()
	if *update {
		if err := writePcap("testdata/built.pcap", linkRaw, pkts); err != nil {
			t.Fatal(err)
		}
	}
	f, err := readPcap("testdata/built.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.packets) != len(pkts) {
		t.Fatalf("built.pcap has %d packets, builtPackets %d (run with -update, then testdata/record.sh)", len(f.packets), len(pkts))
	}
	for i := range pkts {
		if !bytes.Equal(f.packets[i], pkts[i]) {
			t.Errorf("packet %d differs from built.pcap (run with -update, then testdata/record.sh)", i+1)
		}
	}
}
