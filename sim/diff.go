package sim

import (
	"fmt"
	"strings"
)

// Diff returns a line diff of want and got ("-" lines only in want, "+"
// lines only in got, with up to two lines of context), empty when they
// are equal.
func Diff(want, got string) string {
	if want == got {
		return ""
	}
	a := strings.SplitAfter(want, "\n")
	b := strings.SplitAfter(got, "\n")
	if len(a)*len(b) > 25_000_000 {
		return fmt.Sprintf("outputs differ (%d and %d lines, too long to diff)\n", len(a), len(b))
	}
	// Longest common subsequence, backwards.
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, line{' ', a[i]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', b[j]})
			j++
		default:
			ops = append(ops, line{'-', a[i]})
			i++
		}
	}
	var sb strings.Builder
	const ctx = 2
	last := -1
	for k, o := range ops {
		if o.op == ' ' {
			continue
		}
		start := max(k-ctx, last+1)
		if last >= 0 && start > last+1 {
			sb.WriteString("...\n")
		}
		for c := start; c < k; c++ {
			sb.WriteString(" " + ensureNL(ops[c].text))
		}
		sb.WriteString(string(o.op) + ensureNL(o.text))
		last = k
		// trailing context
		for c := k + 1; c < len(ops) && c <= k+ctx && ops[c].op == ' '; c++ {
			sb.WriteString(" " + ensureNL(ops[c].text))
			last = c
		}
	}
	return sb.String()
}

func ensureNL(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
