package iptables

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// refNum is xtables_print_num as fmt writes it, the reference for appendNum.
func refNum(n uint64, format int) string {
	if format&FmtKiloMegaGiga == 0 {
		return fmt.Sprintf("%8d ", n)
	}
	if n <= 99999 {
		return fmt.Sprintf("%5d ", n)
	}
	for _, unit := range []string{"K", "M", "G"} {
		n = (n + 500) / 1000
		if n <= 9999 {
			return fmt.Sprintf("%4d%s ", n, unit)
		}
	}
	n = (n + 500) / 1000
	return fmt.Sprintf("%4dT ", n)
}

// TestListPaddingAsFmt checks the -L columns against fmt's padding.
func TestListPaddingAsFmt(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	nums := []uint64{0, 1, 9, 99999, 100000, 9999499, 9999500, 99999999, 123456789012, math.MaxUint64}
	for i := 0; i < 2000; i++ {
		nums = append(nums, r.Uint64()>>uint(r.Intn(64)))
	}
	for _, n := range nums {
		for _, f := range []int{0, FmtKiloMegaGiga} {
			if got, want := string(appendNum(nil, n, f)), refNum(n, f); got != want {
				t.Errorf("appendNum(%d, %#x) = %q, want %q", n, f, got, want)
			}
		}
	}
	for _, s := range []string{"", "ACCEPT", "KUBE-MARK-MASQ", "é", "ab\xff", "日本語x", "123456789"} {
		for _, w := range []int{4, 9} {
			if got, want := string(padRunes([]byte(s), s, w)), fmt.Sprintf("%-*s", w, s); got != want {
				t.Errorf("padRunes(%q, %d) = %q, want %q", s, w, got, want)
			}
		}
	}
}
