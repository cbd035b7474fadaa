package icmpgen_test

import (
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/icmpgen"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

func mustBuild(t testing.TB, h packet.Headers) *packet.Packet {
	t.Helper()
	b, err := h.Append(nil, packet.FixAll)
	if err != nil {
		t.Fatal(err)
	}
	p := new(packet.Packet)
	if err := p.Decode(b); err != nil {
		t.Fatal(err)
	}
	return p
}

func udp4(t testing.TB, payload int) *packet.Packet {
	return mustBuild(t, packet.Headers{Layers: packet.LayerIPv4 | packet.LayerUDP, Proto: packet.ProtoUDP,
		IPv4:    packet.IPv4{TTL: 64, ID: 1, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.1")},
		UDP:     packet.UDP{SrcPort: 1000, DstPort: 53},
		Payload: make([]byte, payload)})
}

func tcp6(t testing.TB, flags uint8) *packet.Packet {
	return mustBuild(t, packet.Headers{Layers: packet.LayerIPv6 | packet.LayerTCP, Proto: packet.ProtoTCP,
		IPv6: packet.IPv6{HopLimit: 64, Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2")},
		TCP:  packet.TCP{SrcPort: 1000, DstPort: 22, Seq: 100, Ack: 200, Flags: flags}})
}

// decodeOK decodes a generated packet and checks its checksums.
func decodeOK(t *testing.T, b []byte) *packet.Packet {
	t.Helper()
	p := new(packet.Packet)
	if err := p.Decode(b); err != nil {
		t.Fatalf("generated packet does not decode: %v", err)
	}
	if ip, l4 := p.ChecksumsOK(); !ip || !l4 {
		t.Fatalf("generated packet has bad checksums (ip %v, transport %v): %s", ip, l4, p)
	}
	return p
}

func TestRejectCode(t *testing.T) {
	for _, c := range []struct {
		t    xtables.RejectType
		v6   bool
		code uint8
		ok   bool
	}{
		{xtables.RejectNetUnreach, false, 0, true},
		{xtables.RejectHostProhibited, false, 10, true},
		{xtables.RejectAdminProhibited, false, 13, true},
		{xtables.RejectAdminProhibited, true, 1, true},
		{xtables.RejectPortUnreach, true, 4, true},
		{xtables.RejectRejectRoute, true, 6, true},
		{xtables.RejectEchoReply, false, 0, false},
		{xtables.RejectTCPReset, false, 0, false},
		{xtables.RejectNoRoute, false, 0, false},
		{xtables.RejectNetUnreach, true, 0, false},
	} {
		code, ok := icmpgen.RejectCode(c.t, c.v6)
		if code != c.code || ok != c.ok {
			t.Errorf("RejectCode(%d, v6=%v) = %d, %v; want %d, %v", c.t, c.v6, code, ok, c.code, c.ok)
		}
	}
}

func TestSourceRule(t *testing.T) {
	for _, c := range []struct {
		v6, local, fwd, inbound bool
		want                    icmpgen.SrcRule
	}{
		{false, true, false, true, icmpgen.SrcOrigDst},
		{false, false, true, false, icmpgen.SrcRoute},
		{false, false, true, true, icmpgen.SrcInboundAddr},
		{false, false, false, true, icmpgen.SrcRoute}, // OUTPUT: not an input route
		{true, false, true, true, icmpgen.SrcRoute},   // no such sysctl for IPv6
	} {
		if got := icmpgen.SourceRule(c.v6, c.local, c.fwd, c.inbound); got != c.want {
			t.Errorf("SourceRule(%v, %v, %v, %v) = %d, want %d", c.v6, c.local, c.fwd, c.inbound, got, c.want)
		}
	}
}

// TestQuote576 checks the IPv4 room rule: the error fits min(MTU, 576)
// bytes, and a route MTU leaving 20 bytes or less for the quote sends
// nothing.
func TestQuote576(t *testing.T) {
	p := udp4(t, 1000)
	o := icmpgen.Options{Local: true}
	b, ok := icmpgen.Reject(nil, p, xtables.RejectPortUnreach, o)
	if !ok || len(b) != 576 {
		t.Fatalf("len %d ok %v, want 576", len(b), ok)
	}
	o.MTU = 300
	if b, ok = icmpgen.Reject(nil, p, xtables.RejectPortUnreach, o); !ok || len(b) != 300 {
		t.Fatalf("MTU 300: len %d ok %v", len(b), ok)
	}
	o.MTU = 48
	if _, ok = icmpgen.Reject(nil, p, xtables.RejectPortUnreach, o); ok {
		t.Fatal("MTU 48 leaves 20 bytes of quote: nothing is sent")
	}
	o.MTU = 49
	if b, ok = icmpgen.Reject(nil, p, xtables.RejectPortUnreach, o); !ok || len(b) != 49 {
		t.Fatalf("MTU 49: len %d ok %v", len(b), ok)
	}
	decodeOK(t, b)
}

func TestDummySource(t *testing.T) {
	b, ok := icmpgen.Reject(nil, udp4(t, 8), xtables.RejectHostUnreach, icmpgen.Options{})
	if !ok {
		t.Fatal("not sent")
	}
	if p := decodeOK(t, b); p.Src() != netip.MustParseAddr("192.0.0.8") {
		t.Fatalf("source %s, want INADDR_DUMMY 192.0.0.8", p.Src())
	}
	// IPv6 has no dummy: without a source there is no error.
	if _, ok := icmpgen.Reject(nil, tcp6(t, packet.TCPSyn), xtables.RejectPortUnreach, icmpgen.Options{}); ok {
		t.Fatal("IPv6 error without a source address")
	}
}

func TestResetAck(t *testing.T) {
	for _, c := range []struct {
		flags    uint8
		seq, ack uint32
		rflags   uint8
	}{
		{packet.TCPSyn, 0, 101, packet.TCPRst | packet.TCPAck},
		{packet.TCPSyn | packet.TCPFin, 0, 102, packet.TCPRst | packet.TCPAck},
		{packet.TCPAck, 200, 0, packet.TCPRst},
		{packet.TCPAck | packet.TCPSyn, 200, 0, packet.TCPRst},
	} {
		b, ok := icmpgen.Reset(nil, tcp6(t, c.flags), icmpgen.Options{})
		if !ok {
			t.Fatalf("flags %#x: no RST", c.flags)
		}
		r := decodeOK(t, b)
		if r.TCP.Seq != c.seq || r.TCP.Ack != c.ack || r.TCP.Flags != c.rflags || r.TCP.Window != 0 {
			t.Errorf("flags %#x: RST seq %d ack %d flags %#x win %d", c.flags, r.TCP.Seq, r.TCP.Ack, r.TCP.Flags, r.TCP.Window)
		}
		if r.IPv6.FlowLabel != 0 || r.IPv6.TrafficClass != 0 || r.IPv6.HopLimit != 64 {
			t.Errorf("RST header %+v", r.IPv6)
		}
	}
	if _, ok := icmpgen.Reset(nil, udp4(t, 8), icmpgen.Options{}); ok {
		t.Error("RST for UDP")
	}
}

func TestAppendsToDst(t *testing.T) {
	dst := []byte("prefix")
	b, ok := icmpgen.Reject(dst, udp4(t, 8), xtables.RejectPortUnreach, icmpgen.Options{Local: true})
	if !ok || string(b[:6]) != "prefix" {
		t.Fatalf("dst not kept: %q", b[:6])
	}
	decodeOK(t, b[6:])
	b, ok = icmpgen.Reject(dst, udp4(t, 8), xtables.RejectEchoReply, icmpgen.Options{Local: true})
	if ok || len(b) != 6 {
		t.Fatalf("echo-reply sent something or changed dst")
	}
}

// TestNoAllocs: the builders allocate nothing when dst has room.
func TestNoAllocs(t *testing.T) {
	p4, p6 := udp4(t, 100), tcp6(t, packet.TCPSyn)
	buf := make([]byte, 0, 2048)
	o := icmpgen.Options{Local: true, Src: netip.MustParseAddr("2001:db8::9")}
	n := testing.AllocsPerRun(100, func() {
		icmpgen.Reject(buf, p4, xtables.RejectPortUnreach, o)
		icmpgen.Reject(buf, p6, xtables.RejectTCPReset, o)
		icmpgen.Reject(buf, p6, xtables.RejectAdminProhibited, o)
		icmpgen.PortUnreachable(buf, p4, o)
		icmpgen.StackReset(buf, p6, o)
		icmpgen.TimeExceeded(buf, p6, o)
	})
	if n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

func TestLimiterV4(t *testing.T) {
	l := icmpgen.NewLimiter(func() uint32 { return 1 })
	m := icmpgen.Msg{Type: 3, Code: 3, Dst: netip.MustParseAddr("192.0.2.1")}
	count := func(from, to, step int64) int {
		n := 0
		for now := from; now < to; now += step {
			if l.Allow(now, m) {
				n++
			}
		}
		return n
	}
	if n := count(0, 1e8, 1e6); n != 6 {
		t.Fatalf("burst: %d messages in 100 ms, want 6", n)
	}
	// Then one per second (icmp_ratelimit 1000 ms).
	if n := count(1e8, 10e9+1e8, 1e7); n != 10 {
		t.Fatalf("%d messages in the next 10 s, want 10", n)
	}
	// Frag needed is never limited, echo replies are not in the mask.
	for _, x := range []icmpgen.Msg{{Type: 3, Code: 4, Dst: m.Dst}, {Type: 0, Dst: m.Dst, Echo: true}} {
		for i := 0; i < 100; i++ {
			if !l.Allow(11e9, x) {
				t.Fatalf("type %d code %d limited", x.Type, x.Code)
			}
		}
	}
	// Over loopback there is no per-peer limit, only the global bucket:
	// 50 credits, refilled at 1000 per second no more often than every
	// HZ/50 jiffies.
	l = icmpgen.NewLimiter(func() uint32 { return 1 })
	lo := icmpgen.Msg{Type: 3, Code: 1, Dst: m.Dst, OutLoopback: true}
	n := 0
	for i := 0; i < 200; i++ {
		if l.Allow(20e9, lo) {
			n++
		}
	}
	if n != 50 {
		t.Fatalf("%d messages at one instant through the global bucket, want 50", n)
	}
	n = 0
	for i := 0; i < 200; i++ {
		if l.Allow(20e9+20e6, lo) {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("%d messages 20 ms later, want 20 (1000 per second)", n)
	}
	lo.InLoopback = true
	if !l.Allow(20e9, lo) {
		t.Fatal("an error about a packet from lo skips the global bucket")
	}
}

func TestLimiterV6(t *testing.T) {
	l := icmpgen.NewLimiter(nil)
	m := icmpgen.Msg{V6: true, Type: 1, Code: 4, Dst: netip.MustParseAddr("2001:db8::1"), PrefixLen: 128}
	n := 0
	for now := int64(0); now < 1e9; now += 1e6 {
		if l.Allow(now, m) {
			n++
		}
	}
	// ratelimit 100 ms = 25 jiffies for a /128: burst 6, then one per 100 ms.
	if n != 6+9 {
		t.Fatalf("%d messages in 1 s, want 15", n)
	}
	if !l.Allow(0, icmpgen.Msg{V6: true, Type: 2, Dst: m.Dst}) {
		t.Fatal("packet too big is not in the IPv6 rate mask")
	}
}

// FuzzBuilders feeds arbitrary packets and options to every builder:
// nothing panics, and whatever is built decodes with good checksums.
func FuzzBuilders(f *testing.F) {
	f.Add(udp4(f, 10).Data, uint8(3), true)
	f.Add(tcp6(f, packet.TCPSyn).Data, uint8(7), false)
	f.Fuzz(func(t *testing.T, b []byte, sel uint8, local bool) {
		var p packet.Packet
		p.Decode(b)
		o := icmpgen.Options{Local: local, Src: netip.MustParseAddr("2001:db8::7"), MTU: int(sel) * 4}
		if p.IsIPv4() {
			o.Src = netip.MustParseAddr("192.0.2.7")
		}
		check := func(out []byte, ok bool) {
			if !ok {
				return
			}
			var q packet.Packet
			if err := q.Decode(out); err != nil {
				t.Fatalf("built packet does not decode: %v\n%x", err, out)
			}
			if ip, l4 := q.ChecksumsOK(); !ip || !l4 {
				t.Fatalf("bad checksums in %x", out)
			}
		}
		check(icmpgen.Reject(nil, &p, xtables.RejectType(sel%13), o))
		check(icmpgen.StackReset(nil, &p, o))
		check(icmpgen.PortUnreachable(nil, &p, o))
		check(icmpgen.ProtoUnreachable(nil, &p, o))
		check(icmpgen.TimeExceeded(nil, &p, o))
		check(icmpgen.TooBig(nil, &p, 1280, o))
		check(icmpgen.EchoReply(nil, &p, o))
		check(icmpgen.ErrorBytes(nil, b, 3, sel, 0, o))
		check(icmpgen.ReassemblyTimeout(nil, b, o))
	})
}
