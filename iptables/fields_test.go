package iptables

import (
	"math/rand"
	"strings"
	"testing"
)

// TestFields3 checks the chain line splitter against strings.Fields.
func TestFields3(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	alphabet := []string{" ", "\t", "\n", "\v", "\f", "\r", "a", "B", "-", "\u00a0", "\u0085", "é", "\xff", "[0:0]"}
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for i := r.Intn(10); i > 0; i-- {
			b.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		s := b.String()
		want := strings.Fields(s)
		f, nf := fields3(s)
		if nf != len(want) {
			t.Fatalf("%q: %d fields, want %d", s, nf, len(want))
		}
		for i := 0; i < min(nf, 3); i++ {
			if f[i] != want[i] {
				t.Fatalf("%q: field %d %q, want %q", s, i, f[i], want[i])
			}
		}
	}
}
