package iptables_test

import (
	"bytes"
	"testing"

	_ "github.com/iptwin/iptwin/ext"
	"github.com/iptwin/iptwin/internal/kubegen"
	"github.com/iptwin/iptwin/iptables"
	"github.com/iptwin/iptwin/names"
	"github.com/iptwin/iptwin/xtables"
)

func kubeRules(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	if err := kubegen.Generate(&buf, n); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRestoreKube restores a 100,000-rule kube-proxy ruleset in
// process (parse, kernel-side checks, commit); rules/s and bytes per rule
// are reported.
func BenchmarkRestoreKube(b *testing.B) {
	data := kubeRules(b, 100000)
	db := names.New(names.System)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _, err := iptables.Restore(xtables.NewRuleset(xtables.IPv4), bytes.NewReader(data), iptables.RestoreOptions{Family: xtables.IPv4, Names: db})
		if err != nil {
			b.Fatal(err.Stderr)
		}
	}
}

// BenchmarkSaveKube renders the same ruleset as iptables-save does.
func BenchmarkSaveKube(b *testing.B) {
	data := kubeRules(b, 100000)
	db := names.New(names.System)
	rs, _, err := iptables.Restore(xtables.NewRuleset(xtables.IPv4), bytes.NewReader(data), iptables.RestoreOptions{Family: xtables.IPv4, Names: db})
	if err != nil {
		b.Fatal(err.Stderr)
	}
	ctx := &xtables.Context{Family: xtables.IPv4, Names: db}
	b.ReportAllocs()
	b.ResetTimer()
	var out []byte
	for i := 0; i < b.N; i++ {
		out = out[:0]
		for _, n := range xtables.TableNames {
			if t := rs.Table(n); t != nil && t.Present {
				out = iptables.AppendSaveTable(out, t, ctx, false)
			}
		}
	}
	b.SetBytes(int64(len(out)))
}
