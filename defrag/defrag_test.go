package defrag_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/iptwin/iptwin/defrag"
	"github.com/iptwin/iptwin/packet"
)

// datagram builds a UDP datagram with n bytes of payload.
func datagram(tb testing.TB, v6 bool, n int, id uint16) []byte {
	h := packet.Headers{Proto: packet.ProtoUDP, UDP: packet.UDP{SrcPort: 1, DstPort: 2}, Payload: make([]byte, n)}
	for i := range h.Payload {
		h.Payload[i] = byte(i*13 + 7)
	}
	if v6 {
		h.Layers = packet.LayerIPv6 | packet.LayerUDP
		h.IPv6 = packet.IPv6{HopLimit: 64, Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2")}
	} else {
		h.Layers = packet.LayerIPv4 | packet.LayerUDP
		h.IPv4 = packet.IPv4{TTL: 64, ID: id, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}
	}
	b, err := h.Append(nil, packet.FixAll)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type span struct{ start, end int }

// cut makes fragments of an IPv4 or IPv6 datagram (without extension
// headers) carrying the given spans of its payload.
func cut(b []byte, id uint32, spans ...span) [][]byte {
	var out [][]byte
	if b[0]>>4 == 4 {
		data := b[20:]
		for _, s := range spans {
			f := append(append([]byte(nil), b[:20]...), data[s.start:s.end]...)
			w := uint16(s.start / 8)
			if s.end < len(data) {
				w |= 0x2000
			}
			f[6], f[7] = byte(w>>8), byte(w)
			f[2], f[3] = byte(len(f)>>8), byte(len(f))
			f[10], f[11] = 0, 0
			cs := packet.Checksum(f[:20], 0)
			f[10], f[11] = byte(cs>>8), byte(cs)
			out = append(out, f)
		}
		return out
	}
	data := b[40:]
	for _, s := range spans {
		f := append([]byte(nil), b[:40]...)
		f[6] = packet.ProtoFragment
		w := uint16(s.start)
		if s.end < len(data) {
			w |= 1
		}
		f = append(f, b[6], 0, byte(w>>8), byte(w), byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
		f = append(f, data[s.start:s.end]...)
		f[4], f[5] = byte((len(f)-40)>>8), byte(len(f)-40)
		out = append(out, f)
	}
	return out
}

func feed(t *testing.T, q *defrag.Queue, fs [][]byte) (whole []byte, maxFrag int, errs []error) {
	t.Helper()
	for _, f := range fs {
		w, m, done, err := q.AddMeta(f, nil, 0, defrag.Meta{Conntrack: true})
		errs = append(errs, err)
		if done {
			whole, maxFrag = append([]byte(nil), w...), m
		}
	}
	return
}

func TestReassemble(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		d := datagram(t, v6, 3000, 77)
		kind := defrag.IPv4
		if v6 {
			kind = defrag.IPv6Conntrack
		}
		q := defrag.New(defrag.Config{Kind: kind})
		fs := cut(d, 9, span{1008, 2008}, span{0, 1008}, span{2008, 3008})
		whole, maxFrag, errs := feed(t, q, fs)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("v6=%v: %v", v6, err)
			}
		}
		if !bytes.Equal(whole, d) {
			t.Fatalf("v6=%v: reassembled\n%x\nwant\n%x", v6, whole, d)
		}
		if want := len(fs[1]); maxFrag != want {
			t.Errorf("v6=%v: maxFrag %d, want %d", v6, maxFrag, want)
		}
		if got := q.Sizes(); len(got) != 3 || got[0] != 1008 || got[1] != 1000 || got[2] != 1000 {
			t.Errorf("v6=%v: sizes %v", v6, got)
		}
		if q.Len() != 0 || q.Mem() != 0 {
			t.Errorf("v6=%v: %d queues, %d bytes left", v6, q.Len(), q.Mem())
		}
	}
}

// TestRuns: a fragment inside a run that arrived in order is a
// duplicate, the same fragment across two runs an overlap
// (inet_frag_queue_insert).
func TestRuns(t *testing.T) {
	d := datagram(t, false, 2000, 5)
	inOrder := cut(d, 0, span{0, 1000}, span{1000, 1600}, span{504, 1504}, span{1600, 2008})
	q := defrag.New(defrag.Config{})
	whole, _, errs := feed(t, q, inOrder)
	if !errors.Is(errs[2], defrag.ErrDuplicate) || whole == nil {
		t.Fatalf("in order: %v, reassembled %v", errs, whole != nil)
	}
	outOfOrder := [][]byte{inOrder[1], inOrder[0], inOrder[2], inOrder[3]}
	q = defrag.New(defrag.Config{})
	whole, _, errs = feed(t, q, outOfOrder)
	if !errors.Is(errs[2], defrag.ErrOverlap) || whole != nil {
		t.Fatalf("out of order: %v, reassembled %v", errs, whole != nil)
	}
	// The last fragment opened a new queue, held.
	if q.Len() != 1 {
		t.Fatalf("%d queues", q.Len())
	}
}

func TestECN(t *testing.T) {
	for _, c := range []struct {
		a, b uint8
		want int // resulting ECN bits, -1 dropped
	}{{0, 0, 0}, {2, 2, 2}, {1, 2, 0}, {2, 3, 3}, {1, 3, 3}, {0, 2, -1}, {0, 3, -1}, {3, 3, 0}} {
		d := datagram(t, false, 1000, 6)
		fs := cut(d, 0, span{0, 504}, span{504, 1008})
		for i, tos := range []uint8{c.a, c.b} {
			fs[i][1] = tos
			fs[i][10], fs[i][11] = 0, 0
			cs := packet.Checksum(fs[i][:20], 0)
			fs[i][10], fs[i][11] = byte(cs>>8), byte(cs)
		}
		whole, _, errs := feed(t, defrag.New(defrag.Config{}), fs)
		switch {
		case c.want < 0:
			if whole != nil || !errors.Is(errs[1], defrag.ErrECN) {
				t.Errorf("%d+%d: want dropped, got %v", c.a, c.b, errs)
			}
		case whole == nil:
			t.Errorf("%d+%d: dropped (%v)", c.a, c.b, errs)
		case int(whole[1]&3) != c.want|int(c.a&3):
			t.Errorf("%d+%d: ECN %d, want %d", c.a, c.b, whole[1]&3, c.want)
		}
	}
}

func TestMemoryAndExpiry(t *testing.T) {
	q := defrag.New(defrag.Config{HighThresh: 10000, Timeout: 5e9})
	n := 0
	for i := 0; i < 100; i++ {
		fs := cut(datagram(t, false, 1000, uint16(i)), 0, span{0, 504})
		if _, _, _, err := q.Add(fs[0], nil, int64(i)*1e6); errors.Is(err, defrag.ErrNoMemory) {
			break
		}
		n++
	}
	// 264 per queue + 1216 per fragment of 538 bytes: past 10000 bytes
	// after 7 (the check is before adding).
	if n != 7 || q.Mem() != 7*(264+1216) {
		t.Fatalf("%d queued, %d bytes", n, q.Mem())
	}
	if at, ok := q.NextExpiry(); !ok || at != 5e9 {
		t.Fatalf("next expiry %d %v", at, ok)
	}
	firsts := 0
	q.Expire(5e9+3e6, func(first []byte) { firsts++ })
	if firsts != 4 || q.Len() != 3 {
		t.Fatalf("%d expired with a first fragment, %d left", firsts, q.Len())
	}
	q.Expire(1<<62, nil)
	if q.Len() != 0 || q.Mem() != 0 {
		t.Fatalf("%d queues, %d bytes", q.Len(), q.Mem())
	}
}

func TestNotFragment(t *testing.T) {
	for _, kind := range []defrag.Kind{defrag.IPv4, defrag.IPv6Local, defrag.IPv6Conntrack} {
		d := datagram(t, kind != defrag.IPv4, 100, 1)
		w, m, done, err := defrag.New(defrag.Config{Kind: kind}).Add(d, nil, 0)
		if !done || err != nil || m != 0 || !bytes.Equal(w, d) {
			t.Errorf("kind %d: %v %v %d", kind, done, err, m)
		}
	}
	if _, _, _, err := defrag.New(defrag.Config{}).Add([]byte{0x45, 0}, nil, 0); !errors.Is(err, defrag.ErrMalformed) {
		t.Errorf("short packet: %v", err)
	}
}

// TestRefragmentSlowPath: without a frag_list the kernel's output
// fragmentation is the slow path, which packet.FragmentIPv4 and
// FragmentIPv6 implement too.
func TestRefragmentSlowPath(t *testing.T) {
	for _, mtu := range []int{68, 576, 1000, 1280, 1500} {
		d := datagram(t, false, 3000, 3)
		_, got, err := defrag.Refragment4(nil, nil, d, nil, 0, mtu)
		if err != nil {
			t.Fatal(err)
		}
		_, want, err := packet.FragmentIPv4(nil, nil, d, mtu)
		if err != nil {
			t.Fatal(err)
		}
		if !equalFrags(got, want) {
			t.Errorf("IPv4 mtu %d: %d fragments, packet says %d", mtu, len(got), len(want))
		}
		if mtu < 1280 {
			continue
		}
		d6 := datagram(t, true, 3000, 0)
		_, got, err = defrag.Refragment6(nil, nil, d6, nil, 0, mtu, 0x1234)
		if err != nil {
			t.Fatal(err)
		}
		_, want, err = packet.FragmentIPv6(nil, nil, d6, mtu, 0x1234)
		if err != nil {
			t.Fatal(err)
		}
		if !equalFrags(got, want) {
			t.Errorf("IPv6 mtu %d differs from packet.FragmentIPv6", mtu)
		}
	}
}

func equalFrags(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestNoAllocs: a steady stream of fragmented datagrams allocates nothing
// once the queue's buffers are warm.
func TestNoAllocs(t *testing.T) {
	for _, kind := range []defrag.Kind{defrag.IPv4, defrag.IPv6Conntrack} {
		d := datagram(t, kind != defrag.IPv4, 3000, 8)
		fs := cut(d, 1, span{0, 1000}, span{1000, 2000}, span{2000, 3008})
		q := defrag.New(defrag.Config{Kind: kind})
		var out [][]byte
		buf := make([]byte, 0, 8192)
		run := func() {
			for _, f := range fs {
				if w, m, done, _ := q.Add(f, nil, 0); done {
					if kind == defrag.IPv4 {
						_, out, _ = defrag.Refragment4(buf[:0], out[:0], w, q.Sizes(), m, 1280)
					} else {
						_, out, _ = defrag.Refragment6(buf[:0], out[:0], w, q.Sizes(), m, 1280, 7)
					}
				}
			}
		}
		run()
		if n := testing.AllocsPerRun(100, run); n != 0 {
			t.Errorf("kind %d: %v allocations per datagram", kind, n)
		}
	}
}

// FuzzAdd cuts a datagram into fragments of arbitrary spans and order:
// nothing panics, whatever is reassembled is the datagram, and every
// queue expires with its memory.
func FuzzAdd(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5}, false)
	f.Add([]byte{9, 200, 1, 7, 3, 3, 3, 250}, true)
	f.Fuzz(func(t *testing.T, plan []byte, v6 bool) {
		kind := defrag.IPv4
		if v6 {
			kind = defrag.IPv6Local
			if len(plan) > 0 && plan[0]&1 != 0 {
				kind = defrag.IPv6Conntrack
			}
		}
		d := datagram(t, v6, 400, 11)
		hl := 20
		if v6 {
			hl = 40
		}
		n := len(d) - hl
		q := defrag.New(defrag.Config{Kind: kind})
		for i := 0; i+1 < len(plan); i += 2 {
			start := int(plan[i]) * 8 % n
			end := min(start+int(plan[i+1])%200+1, n)
			fr := cut(d, 3, span{start, end})[0]
			whole, _, done, err := q.Add(fr, nil, int64(i))
			if done && err == nil && len(whole) != len(fr) && !bytes.Equal(whole, d) {
				t.Fatalf("reassembled something else:\n%x\n%x", whole, d)
			}
		}
		q.Expire(1<<62, func([]byte) {})
		if q.Len() != 0 || q.Mem() != 0 {
			t.Fatalf("%d queues, %d bytes left", q.Len(), q.Mem())
		}
	})
}

// FuzzAddRaw feeds arbitrary bytes as fragments to every reassembler:
// malformed input is an error, never a panic, and nothing is left after
// expiry.
func FuzzAddRaw(f *testing.F) {
	d := datagram(f, false, 100, 1)
	f.Add(cut(d, 0, span{0, 64})[0], cut(d, 0, span{64, 108})[0], uint8(0))
	d6 := datagram(f, true, 100, 1)
	f.Add(cut(d6, 5, span{0, 64})[0], cut(d6, 5, span{64, 108})[0], uint8(1))
	f.Fuzz(func(t *testing.T, a, b []byte, sel uint8) {
		kind := defrag.Kind(sel % 3)
		q := defrag.New(defrag.Config{Kind: kind})
		for i, fr := range [][]byte{a, b, a} {
			var p packet.Packet
			pp := &p
			if p.Decode(fr) != nil {
				pp = nil
			}
			q.AddMeta(fr, pp, int64(i), defrag.Meta{Conntrack: sel&4 != 0, IfIndex: int(sel >> 4)})
		}
		q.Expire(1<<62, func([]byte) {})
		if q.Len() != 0 || q.Mem() != 0 {
			t.Fatalf("%d queues, %d bytes left", q.Len(), q.Mem())
		}
	})
}
