package stack_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/state"
)

// TestRecentAcrossInvocations: the recent tables are kept in the state
// directory, so SYNs sent one invocation at a time (iptwin trace, a
// simulation's tools) meet the classic SSH brute-force rules exactly as
// the same SYNs sent to one host in a row.
func TestRecentAcrossInvocations(t *testing.T) {
	dir := t.TempDir()
	rules := append(basic[:len(basic):len(basic)],
		"iptables -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name SSH",
		"iptables -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 60 --hitcount 4 --name SSH -j DROP")
	for _, l := range rules {
		var out, errb bytes.Buffer
		if rc := cli.Main(append([]string{"iptwin", "--state", dir}, strings.Fields(l)...), strings.NewReader(""), &out, &errb); rc != 0 {
			t.Fatalf("%s: %s", l, errb.String())
		}
	}
	load := func() (*state.Dir, *stack.Host) {
		d, err := state.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		h, err := stack.Load(d, "twin", 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := stack.LoadRuntime(d, h); err != nil {
			t.Fatal(err)
		}
		return d, h
	}
	const tries = 6
	var inRow []stack.Fate
	_, h := load()
	for i := 0; i < tries; i++ {
		h.Now += 1e9
		res, err := h.Receive("eth0", frame(t, syn("10.0.0.2", "10.0.0.1", uint16(40000+i), 22)))
		if err != nil {
			t.Fatal(err)
		}
		inRow = append(inRow, res.Fate)
	}
	var apart []stack.Fate
	for i := 0; i < tries; i++ {
		d, h := load()
		h.Now += 1e9
		res, err := h.Receive("eth0", frame(t, syn("10.0.0.2", "10.0.0.1", uint16(40000+i), 22)))
		if err != nil {
			t.Fatal(err)
		}
		apart = append(apart, res.Fate)
		if err := stack.SaveRuntime(d, h, d.Names()); err != nil {
			t.Fatal(err)
		}
	}
	dropped := 0
	for i := range inRow {
		if inRow[i] != apart[i] {
			t.Errorf("try %d: %v in a row, %v one invocation each", i+1, inRow[i], apart[i])
		}
		if apart[i] == stack.FateDropped {
			dropped++
		}
	}
	if dropped != 3 {
		t.Errorf("%d of %d SYNs dropped, want the 4th and later (%v)", dropped, tries, apart)
	}
	// A damaged file is an error naming it, not a silent reset.
	os.WriteFile(filepath.Join(dir, "recent"), []byte("iptwin recent tables 1\ntable zz 3 SSH\n"), 0o644)
	d, _ := state.Open(dir)
	h2, _ := stack.Load(d, "twin", 1)
	if err := stack.LoadRuntime(d, h2); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("damaged recent file: %v", err)
	}
}
