package xttest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/corpus"
)

// TestUpstream runs the upstream .t files (1.8.11's, with both binaries,
// and 1.8.9's, with iptables only) and requires every case the real
// iptables 1.8.9 passes on this kind of machine (the corpus' BASELINE.txt)
// to pass in iptwin too.
func TestUpstream(t *testing.T) {
	dir := corpus.Dir("../..")
	if dir == "" {
		t.Skip("corpus not found: set IPTWIN_CORPUS or put it at ../shared/corpus beside the repository")
	}
	for _, set := range []struct {
		name  string
		dir   string
		only4 bool
	}{{"1.8.11-files", "xt-tests", false}, {"1.8.9-files", "xt-tests/v1.8.9", true}} {
		t.Run(set.name, func(t *testing.T) {
			d := filepath.Join(dir, set.dir)
			cases, err := Load(d, set.only4)
			if err != nil {
				t.Fatal(err)
			}
			base, err := Baseline(filepath.Join(d, "BASELINE.txt"))
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			var pass, fail, basePass int
			var regress, extra []string
			for i, c := range cases {
				why := Run(c, filepath.Join(tmp, fmt.Sprint(i)))
				if why == "" {
					pass++
					if base[c.ID] {
						basePass++
					} else {
						extra = append(extra, c.ID)
					}
				} else {
					fail++
					if base[c.ID] {
						regress = append(regress, c.ID+": "+why)
					}
				}
			}
			sort.Strings(regress)
			t.Logf("%d passed, %d failed; baseline (real iptables 1.8.9): %d cases, %d pass in iptwin; passing outside the baseline: %d",
				pass, fail, len(base), basePass, len(extra))
			if len(extra) > 0 {
				// The real tool fails these here; iptwin must too.
				t.Errorf("passing outside the baseline (the real 1.8.9 fails them): %s", strings.Join(extra, " "))
			}
			if len(regress) > 0 {
				t.Errorf("%d baseline cases fail:\n%s", len(regress), strings.Join(regress, "\n"))
			}
			if os.Getenv("XTTEST_RESULTS") != "" {
				os.WriteFile(filepath.Join(os.Getenv("XTTEST_RESULTS"), set.name+".txt"), []byte(strings.Join(regress, "\n")+"\n"), 0o644)
			}
		})
	}
}
