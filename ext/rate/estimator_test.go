package rate

import "testing"

// decay batches what single idle timer runs do.
func TestDecayBatches(t *testing.T) {
	for _, c := range []struct {
		x    uint64
		ewma uint8
		n    uint64
	}{{1 << 20, 2, 7}, {123456789, 3, 1000}, {5, 1, 10}, {1 << 40, 8, 100000}, {999, 0, 3}} {
		want := c.x
		for i := uint64(0); i < c.n; i++ {
			want -= want >> c.ewma
		}
		if got := decay(c.x, c.ewma, c.n); got != want {
			t.Errorf("decay(%d, %d, %d) = %d, want %d", c.x, c.ewma, c.n, got, want)
		}
	}
}
