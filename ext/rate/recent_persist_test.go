package rate

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

// TestRecentRoundTrip: what SaveRecent writes, LoadRecent reads back to
// the same tables (entries in LRU order, stamps, ring positions).
func TestRecentRoundTrip(t *testing.T) {
	var s Shared
	s.recent = map[string]*recentTable{}
	for _, name := range []string{"SSH", "HTTP", "two  words "} {
		r := &Recent{Name: name, HitCount: 4}
		tb := newRecentTable(r, xtables.IPv4)
		for i := 0; i < 5; i++ {
			a := [16]byte{10, 0, 0, byte(i)}
			tb.init(&a, xtables.IPv4, 64, uint64(1000+i))
			tb.update(len(tb.entries)-1, uint64(2000+i))
		}
		s.recent[name] = tb
	}
	var a, b bytes.Buffer
	if err := s.SaveRecent(&a); err != nil {
		t.Fatal(err)
	}
	var l Shared
	if err := l.LoadRecent(bytes.NewReader(a.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, a.String())
	}
	if err := l.SaveRecent(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() || !strings.Contains(a.String(), " 3 SSH\n") || len(l.recent) != 3 {
		t.Errorf("round trip differs:\n%s\n---\n%s", a.String(), b.String())
	}
}

// FuzzLoadRecent: any input is a table set or an error, never a panic,
// and what loads saves to something that loads again the same.
func FuzzLoadRecent(f *testing.F) {
	f.Add([]byte("iptwin recent tables 1\ntable ffffffff000000000000000000000000 3 SSH\ne 1 0a000002000000000000000000000000 64 2 2 100 200 0 0\n"))
	f.Add([]byte("iptwin recent tables 1\n"))
	f.Add([]byte("iptwin recent tables 1\ntable 00 3 A\n"))
	f.Add([]byte("iptwin recent tables 1\ne 1 00 1 1 1 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Shared
		if s.LoadRecent(bytes.NewReader(data)) != nil {
			return
		}
		var a, b bytes.Buffer
		s.SaveRecent(&a)
		var l Shared
		if err := l.LoadRecent(bytes.NewReader(a.Bytes())); err != nil {
			t.Fatalf("saved tables do not load: %v\n%s", err, a.String())
		}
		l.SaveRecent(&b)
		if a.String() != b.String() {
			t.Fatalf("second round differs")
		}
	})
}
