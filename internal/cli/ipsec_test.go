package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/sim"
)

// TestIPsecOutsideSim: ipsec only hands commands to a simulation; on its
// own it says so and fails.
func TestIPsecOutsideSim(t *testing.T) {
	t.Setenv("IPTWIN_SIM", "")
	var out, errb bytes.Buffer
	dir := t.TempDir()
	if rc := Main([]string{"ipsec", "--state", dir, "up", "x"}, strings.NewReader(""), &out, &errb); rc != 1 {
		t.Errorf("exit %d, want 1", rc)
	}
	if !strings.Contains(errb.String(), "only inside `iptwin sim`") {
		t.Errorf("stderr %q", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, sim.IPsecRequests)); err == nil {
		t.Error("a request was queued outside a simulation")
	}
}

// TestIPsecQueues: in a simulation's script it queues the command.
func TestIPsecQueues(t *testing.T) {
	t.Setenv("IPTWIN_SIM", "1")
	dir := t.TempDir()
	for _, args := range [][]string{{"restart"}, {"up", "debian3"}} {
		var out, errb bytes.Buffer
		if rc := Main(append([]string{"ipsec", "--state", dir}, args...), strings.NewReader(""), &out, &errb); rc != 0 {
			t.Fatalf("%v: exit %d: %s", args, rc, errb.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, sim.IPsecRequests))
	if err != nil || string(b) != "restart\nup\tdebian3\n" {
		t.Errorf("queue %q (%v)", b, err)
	}
}
