package corpus

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/transcript"
)

// TestGolden loads every corpus ruleset into a fresh twin host and compares
// every output the real iptables 1.8.9 recorded for it: restore status and
// stderr, iptables-save, -S and -L -n -v -x --line-numbers per table, -L -v
// with names, and restore --counters followed by save -c.
func TestGolden(t *testing.T) {
	dir := Dir("../..")
	if dir == "" {
		t.Skip("corpus not found: set IPTWIN_CORPUS or put it at ../shared/corpus beside the repository")
	}
	sets := Rulesets(dir)
	if len(sets) == 0 {
		t.Fatalf("no rulesets in %s", dir)
	}
	var pass, total int
	for _, rs := range sets {
		rs := rs
		t.Run(rs.Name, func(t *testing.T) {
			p, n := checkRuleset(t, rs)
			pass += p
			total += n
		})
	}
	t.Logf("corpus: %d of %d recorded outputs identical, %d rulesets", pass, total, len(sets))
}

func checkRuleset(t *testing.T, rs Ruleset) (pass, total int) {
	rules, err := os.ReadFile(rs.File)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "iptables"
	if rs.IPv6 {
		prefix = "ip6tables"
	}
	cmp := func(what string, got []byte, goldenFile string) {
		total++
		want, err := os.ReadFile(filepath.Join(rs.Golden, goldenFile))
		if os.IsNotExist(err) {
			want = nil
		} else if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s (%s) differs:\n%s", what, goldenFile, transcript.Diff(string(want), string(got)))
			return
		}
		pass++
	}
	golden := func(name string) []byte {
		b, _ := os.ReadFile(filepath.Join(rs.Golden, name))
		return b
	}
	load := func(sub string, counters bool) *Host {
		h, err := NewHost(filepath.Join(t.TempDir(), sub))
		if err != nil {
			t.Fatal(err)
		}
		if rs.Setup != "" {
			if err := h.RunSetup(rs.Setup); err != nil {
				t.Fatal(err)
			}
		}
		argv := []string{prefix + "-restore"}
		tag := "restore"
		if counters {
			argv = append(argv, "--counters")
			tag = "restore-c"
		}
		_, stderr, rc := h.Run(rules, argv...)
		cmp(tag+" exit status", []byte(fmt.Sprintf("%d\n", rc)), tag+".rc")
		cmp(tag+" stderr", stderr, tag+".stderr")
		return h
	}

	h := load("plain", false)
	out, _, _ := h.Run(nil, prefix+"-save")
	cmp("save", StripSaveComments(out), "save.norm.txt")
	// The listing commands the recorder ran, from its own list.
	for _, line := range strings.Split(strings.TrimSpace(string(golden("commands.rc"))), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] == prefix+"-save" {
			continue
		}
		wantRC, _ := strconv.Atoi(f[0])
		out, stderr, rc := h.Run(nil, f[2:]...)
		if rc != wantRC {
			t.Errorf("%s: exit %d, want %d (%s)", strings.Join(f[2:], " "), rc, wantRC, stderr)
		}
		cmp(strings.Join(f[2:], " "), out, f[1])
	}
	if _, err := os.Stat(filepath.Join(rs.Golden, "save-c.txt")); err == nil {
		hc := load("counters", true)
		out, _, _ := hc.Run(nil, prefix+"-save", "-c")
		cmp("save -c", StripSaveComments(out), "save-c.txt")
	} else {
		load("counters", true)
	}
	return pass, total
}
