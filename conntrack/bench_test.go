package conntrack

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/xtables"
)

// The per-packet path allocates nothing for packets of known
// connections: lookup, tracker, listing into a buffer with room.
func TestInAllocs(t *testing.T) {
	h := newHost(t, DefaultConfig())
	for _, s := range []string{
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 1000",
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 syn ack 1001 seq 5000",
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5001 seq 1001",
		"udp 10.0.0.2:41000 > 10.0.1.2:53",
		"icmp 10.0.0.2 > 10.0.1.2 echo-request id 7",
		"udp [fd00::2]:41000 > [fd00::3]:53",
	} {
		h.send(s)
	}
	for _, s := range []string{
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 ack 1001 seq 5001",
		"udp 10.0.1.2:53 > 10.0.0.2:41000",
		"icmp 10.0.1.2 > 10.0.0.2 echo-reply id 7",
		"icmp 10.0.1.2 > 10.0.0.2 port-unreachable quoting udp 10.0.0.2:41000 > 10.0.1.2:53",
		"udp [fd00::3]:53 > [fd00::2]:41000",
	} {
		p := pkt(t, s)
		n := testing.AllocsPerRun(100, func() {
			c, _, _ := h.tbl.In(p, 0, h.now)
			h.tbl.Confirm(c, h.now)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per packet", s, n)
		}
	}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = h.tbl.AppendList(buf[:0], h.now) }); n != 0 {
		t.Errorf("AppendList: %v allocations", n)
	}
}

// flowKeys are n UDP flows (original and reply keys) and their packets.
func flowKeys(n int) (orig, repl []key, pkts [][]byte) {
	for i := 0; i < n; i++ {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		dst := netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 251)})
		sport := uint16(1024 + i%60000)
		tp := Tuple{Src: src, Dst: dst, Proto: 17, SrcPort: sport, DstPort: 53}
		rt, _ := Invert(tp)
		orig = append(orig, makeKey(tp, 0))
		repl = append(repl, makeKey(rt, 0))
		var h packet.Headers
		h.Layers = packet.LayerIPv4 | packet.LayerUDP
		h.IPv4 = packet.IPv4{IHL: 5, TTL: 64, Protocol: 17, Src: dst, Dst: src}
		h.Proto = 17
		h.UDP = packet.UDP{SrcPort: 53, DstPort: sport}
		b, _ := h.Append(nil, packet.FixLengths|packet.FixChecksums)
		pkts = append(pkts, b)
	}
	return
}

func filledTable(b *testing.B, orig, repl []key) *Table {
	t := New(DefaultConfig(), 7)
	for i := range orig {
		c, ok := t.alloc(orig[i], repl[i], 0)
		c.timeout = 1 << 40
		if !ok || !t.Confirm(c, 0) {
			b.Fatal("insert failed")
		}
	}
	return t
}

// BenchmarkLookup finds existing entries by their reply key: the table's
// chained hash against a Go map holding the same keys (both directions).
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		orig, repl, _ := flowKeys(n)
		b.Run(fmt.Sprintf("conntrack/%d", n), func(b *testing.B) {
			t := filledTable(b, orig, repl)
			hashes := make([]uint32, n)
			for i := range repl {
				hashes[i] = repl[i].hash(t.seed)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % n
				if t.lookup(&repl[j], repl[j].hash(t.seed), 0) == nil {
					b.Fatal("not found")
				}
			}
		})
		b.Run(fmt.Sprintf("gomap/%d", n), func(b *testing.B) {
			m := make(map[key]*Conn, 2*n)
			for i := range orig {
				c := &Conn{}
				m[orig[i]], m[repl[i]] = c, c
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if m[repl[i%n]] == nil {
					b.Fatal("not found")
				}
			}
		})
	}
}

// BenchmarkInsert adds new connections (both tuples) to a table that
// starts empty, against a Go map growing with the same keys.
func BenchmarkInsert(b *testing.B) {
	const n = 1 << 17
	orig, repl, _ := flowKeys(n)
	b.Run("conntrack", func(b *testing.B) {
		b.ReportAllocs()
		t := New(DefaultConfig(), 7)
		for i := 0; i < b.N; i++ {
			if i%n == 0 && i > 0 {
				b.StopTimer()
				t = New(DefaultConfig(), 7)
				b.StartTimer()
			}
			c, _ := t.alloc(orig[i%n], repl[i%n], 0)
			c.timeout = 1 << 40
			t.Confirm(c, 0)
		}
	})
	b.Run("gomap", func(b *testing.B) {
		b.ReportAllocs()
		m := map[key]*Conn{}
		for i := 0; i < b.N; i++ {
			if i%n == 0 && i > 0 {
				b.StopTimer()
				m = map[key]*Conn{}
				b.StartTimer()
			}
			c := &Conn{}
			m[orig[i%n]], m[repl[i%n]] = c, c
		}
	})
}

// BenchmarkIn is the whole nf_conntrack_in for a reply packet of a known
// UDP connection (decoded packets, 100000 connections).
func BenchmarkIn(b *testing.B) {
	const n = 100000
	orig, repl, pkts := flowKeys(n)
	t := filledTable(b, orig, repl)
	ps := make([]packet.Packet, n)
	for i := range pkts {
		ps[i].Decode(pkts[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, info, _ := t.In(&ps[i%n], 0, 0); info != xtables.CtEstablished {
			b.Fatal(ctName(info), t.InvalidReason())
		}
	}
}

// TestMemoryPerFlow reports the heap a connection costs (run with -v).
func TestMemoryPerFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	const n = 200000
	orig, repl, pkts := flowKeys(n)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	tbl := New(DefaultConfig(), 7)
	for i := range orig {
		c, _ := tbl.alloc(orig[i], repl[i], 0)
		c.timeout = 1 << 40
		tbl.Confirm(c, 0)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n
	runtime.KeepAlive(tbl)
	runtime.GC()
	runtime.ReadMemStats(&m0)
	mp := make(map[key]*Conn)
	for i := range orig {
		c := &Conn{}
		mp[orig[i]], mp[repl[i]] = c, c
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	perMap := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n
	runtime.KeepAlive(mp)
	runtime.KeepAlive(pkts)
	if tbl.Count() != n {
		t.Fatalf("%d entries", tbl.Count())
	}
	t.Logf("conntrack: %.0f bytes per flow (Conn %d bytes); Go map of the same keys and Conns: %.0f bytes per flow",
		per, connSize, perMap)
	if per > 600 {
		t.Errorf("%.0f bytes per flow", per)
	}
}
