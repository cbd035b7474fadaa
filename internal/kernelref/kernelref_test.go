package kernelref

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iptwin/iptwin/packet"
)

var update = flag.Bool("update", false, "record testdata/*.golden from the kernel (as root: go test ./internal/kernelref -run TestKernel -update)")

func scenarios(t *testing.T) []*Scenario {
	t.Helper()
	files, err := filepath.Glob("testdata/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata: %v", err)
	}
	var out []*Scenario
	for _, f := range files {
		s, err := LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// checksums checks that every frame the host sent carries correct
// checksums, as on a wire (a capture of offloaded checksums would not).
func checksums(t *testing.T, res *Result) {
	t.Helper()
	var p packet.Packet
	for _, st := range res.Steps {
		for _, f := range st.Frames {
			if p.DecodeEthernet(f.Data) != nil {
				continue
			}
			if ip, tr := p.ChecksumsOK(); !ip || !tr {
				t.Errorf("%s: frame on %s with a bad checksum (ip %v, transport %v): %s", st.Text, f.Iface, ip, tr, p.String())
			}
		}
	}
}

func golden(s *Scenario) string { return filepath.Join("testdata", s.Name+".golden") }

// check runs every scenario through r and compares with the goldens (or
// rewrites them).
func check(t *testing.T, r Runner, write bool) {
	for _, s := range scenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			res, err := r.Run(s)
			if err != nil {
				t.Fatal(err)
			}
			checksums(t, res)
			got := res.Text()
			if write {
				if err := os.WriteFile(golden(s), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden(s))
			if err != nil {
				t.Fatalf("%v (record it as root: go test ./internal/kernelref -run TestKernel -update)", err)
			}
			if got != string(want) {
				if _, live := r.(*Kernel); live {
					// A loaded machine can make the live kernel miss the
					// 80 ms settling window (a packet injected before the
					// previous one was handled): try once more, slower.
					t.Logf("%s differs from the golden; running it again with a 250 ms settling time", s.Name)
					res, err := (&Kernel{Idle: 250 * time.Millisecond}).Run(s)
					if err == nil {
						got = res.Text()
					}
				}
			}
			if got != string(want) {
				t.Errorf("%s differs from the kernel's golden:\n%s", s.Name, diff(string(want), got))
			}
		})
	}
}

// TestKernel runs every scenario against the real kernel and compares
// with the goldens, which -update records.
func TestKernel(t *testing.T) {
	if why := KernelAvailable(); why != "" {
		t.Skip("kernel runner cannot run: " + why)
	}
	check(t, &Kernel{}, *update)
}

// TestTwin runs every scenario through the twin host and compares with
// the kernel's goldens.
func TestTwin(t *testing.T) {
	if Twin == nil {
		t.Skip("twin runner not registered")
	}
	check(t, Twin, false)
}

func TestGoldensExist(t *testing.T) {
	for _, s := range scenarios(t) {
		if _, err := os.Stat(golden(s)); err != nil && !*update {
			t.Errorf("%s has no golden: record it as root with go test ./internal/kernelref -run TestKernel -update", s.Name)
		}
	}
}

// diff shows the first differing line of two texts with context.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for j := max(0, i-3); j < i; j++ {
		b.WriteString("  " + w[j] + "\n")
	}
	for j := i; j < min(len(w), i+6); j++ {
		b.WriteString("- " + w[j] + "\n")
	}
	for j := i; j < min(len(g), i+6); j++ {
		b.WriteString("+ " + g[j] + "\n")
	}
	return b.String()
}
