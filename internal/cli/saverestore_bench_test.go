package cli

import (
	"bytes"
	"io"
	"testing"

	"github.com/iptwin/iptwin/internal/kubegen"
)

// BenchmarkRestoreCommand100k is `iptwin --state DIR iptables-restore` of a
// 100,000-rule kube-proxy ruleset into an empty state, the command that
// scripts/bench-restore.sh times: parse, kernel-side checks, commit and the
// state file written.
func BenchmarkRestoreCommand100k(b *testing.B) {
	var buf bytes.Buffer
	if err := kubegen.Generate(&buf, 100000); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		b.StartTimer()
		var stderr bytes.Buffer
		if code := Main([]string{"iptables-restore", "--state", dir}, bytes.NewReader(data), io.Discard, &stderr); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}

// BenchmarkSaveCommand100k is `iptables-save` and `iptables -t nat -S` of
// that ruleset from the state file.
func BenchmarkSaveCommand100k(b *testing.B) {
	var buf bytes.Buffer
	if err := kubegen.Generate(&buf, 100000); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if code := Main([]string{"iptables-restore", "--state", dir}, &buf, io.Discard, io.Discard); code != 0 {
		b.Fatal("restore failed")
	}
	for _, args := range [][]string{{"iptables-save"}, {"iptables", "-t", "nat", "-S"}} {
		b.Run(args[0]+map[bool]string{true: "-S", false: ""}[len(args) > 1], func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				argv := append([]string{args[0], "--state", dir}, args[1:]...)
				if code := Main(argv, nil, io.Discard, io.Discard); code != 0 {
					b.Fatal("failed")
				}
			}
		})
	}
}
