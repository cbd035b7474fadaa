package ipset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, h *Host, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code, _ := h.Run(args, nil, &out, &errb)
	return out.String(), errb.String(), code
}

func TestRangeToCidrs(t *testing.T) {
	// 10.2.0.0-10.2.0.5 is 10.2.0.0/30 and 10.2.0.4/31, as the kernel
	// splits it.
	got := rangeToCidrs(v4(fromV4(0x0a020000)), 0x0a020005)
	if len(got) != 2 || got[0] != [2]uint32{0x0a020000, 30} || got[1] != [2]uint32{0x0a020004, 31} {
		t.Fatalf("rangeToCidrs = %v", got)
	}
}

// A host stored and loaded again keeps its sets, elements, initvals and
// the time left on element timeouts.
func TestStoreLoad(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	h := NewHost()
	h.Now = func() int64 { return now }
	for _, c := range [][]string{
		{"create", "a", "hash:net", "timeout", "100", "comment"},
		{"add", "a", "10.0.0.0/8", "comment", "two words"},
		{"add", "a", "11.0.0.0/8", "timeout", "0"},
		{"create", "l", "list:set"},
		{"add", "l", "a"},
	} {
		if _, e, code := run(t, h, c...); code != 0 {
			t.Fatalf("%v: %s", c, e)
		}
	}
	if err := h.Store(dir); err != nil {
		t.Fatal(err)
	}
	now = 1030
	h2, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	h2.Now = func() int64 { return now }
	out, _, _ := run(t, h2, "save")
	want := []string{
		"add a 10.0.0.0/8 timeout 70 comment \"two words\"",
		"add a 11.0.0.0/8 timeout 0",
		"add l a",
		savedInitval(t, dir),
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("save after load lacks %q:\n%s", w, out)
		}
	}
	now = 1200 // the first element has timed out
	out, _, _ = run(t, h2, "list", "a")
	if strings.Contains(out, "10.0.0.0/8") || !strings.Contains(out, "Number of entries: 1") {
		t.Errorf("expired element still listed:\n%s", out)
	}
}

// savedInitval is the "initval 0x…" of the stored create line.
func savedInitval(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "initval ")
	if !ok {
		t.Fatalf("no initval stored:\n%s", b)
	}
	v, _, _ := strings.Cut(rest, "\n")
	return "initval " + v
}

// Rules of the state directory hold their sets: destroy and rename are
// refused, and References counts them.
func TestRuleReferences(t *testing.T) {
	dir := t.TempDir()
	rules := "*filter\n-A INPUT -m set --match-set s src -j DROP\n-A INPUT -j SET --add-set s src,dst\nCOMMIT\n"
	if err := os.WriteFile(filepath.Join(dir, "rules-ipv4"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, h, "create", "s", "hash:ip")
	out, _, _ := run(t, h, "list", "-t", "s")
	if !strings.Contains(out, "References: 2\n") {
		t.Errorf("references not counted:\n%s", out)
	}
	if _, e, code := run(t, h, "destroy", "s"); code != 1 || !strings.Contains(e, "in use by a kernel component") {
		t.Errorf("destroy of a referenced set: %d %q", code, e)
	}
	if _, e, code := run(t, h, "rename", "s", "t"); code != 1 || !strings.Contains(e, "in use by another system") {
		t.Errorf("rename of a referenced set: %d %q", code, e)
	}
}

// swap exchanges contents; the names stay where the rules see them.
func TestSwap(t *testing.T) {
	h := NewHost()
	run(t, h, "create", "x", "hash:ip")
	run(t, h, "create", "y", "hash:ip")
	run(t, h, "add", "x", "1.1.1.1")
	if _, e, code := run(t, h, "swap", "x", "y"); code != 0 {
		t.Fatal(e)
	}
	if _, _, code := run(t, h, "test", "y", "1.1.1.1"); code != 0 {
		t.Error("y lacks x's element after swap")
	}
	if out, _, _ := run(t, h, "list", "-n"); out != "x\ny\n" {
		t.Errorf("order after swap: %q", out)
	}
}
