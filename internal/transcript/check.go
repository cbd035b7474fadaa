package transcript

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update-transcripts", false, "rewrite *.golden from iptwin's own output (only to bootstrap; record goldens from the real tools with scripts/record-transcripts.sh)")

// CheckDir runs every *.cmds file under dir through iptwin and compares
// with the *.golden beside it, recorded from the real tools. A script
// without a golden fails: record it first.
func CheckDir(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.cmds"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.cmds files in %s", dir)
	}
	for _, f := range files {
		f := f
		t.Run(strings.TrimSuffix(filepath.Base(f), ".cmds"), func(t *testing.T) {
			Check(t, f)
		})
	}
}

// Check runs one script and compares it with its golden file.
func Check(t *testing.T, path string) {
	t.Helper()
	s, err := Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	got, err := Render(s, Iptwin(t.TempDir(), s.Hosts, dir))
	if err != nil {
		t.Fatal(err)
	}
	golden := strings.TrimSuffix(path, ".cmds") + ".golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (record it: sudo scripts/record-transcripts.sh %s)", err, path)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the real tools' recorded transcript:\n%s", path, Diff(string(want), string(got)))
	}
	// Live: ask the kernel too, so a golden that went stale shows.
	if why := KernelAvailable(); why != "" {
		t.Logf("live comparison with the kernel skipped: %s", why)
		return
	}
	live, err := Render(s, Kernel(fmt.Sprintf("iptw-t%d", os.Getpid()), dir, s.Hosts))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, live) {
		t.Errorf("%s differs from the live kernel's transcript:\n%s", path, Diff(string(live), string(got)))
	}
}

// Diff shows the first differing lines of want and got with some context.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	from := i - 3
	if from < 0 {
		from = 0
	}
	for k := from; k < i; k++ {
		b.WriteString("  " + w[k] + "\n")
	}
	for k := i; k < len(w) && k < i+6; k++ {
		b.WriteString("- " + w[k] + "\n")
	}
	for k := i; k < len(g) && k < i+6; k++ {
		b.WriteString("+ " + g[k] + "\n")
	}
	return b.String()
}
