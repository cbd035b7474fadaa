package sim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/sim"
)

// TestIPsecInScripts: a host's setup script and a step's "bash FILE" may
// run ipsec. The setup's "ipsec up" is carried out at boot (charon's
// lines in syslog); the step's commands run after the script, printing
// what they print as steps.
func TestIPsecInScripts(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.sh"), []byte("#!/bin/bash\nipsec restart\nipsec up b\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "again.sh"), []byte("#!/bin/bash\necho restarting\nipsec restart\nipsec up b\nipsec status\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "none.sh"), []byte("#!/bin/bash\nipsec up x\n"), 0o644)
	topo, err := parse(t, dir, ipsecPairTopo("add", "    script: a.sh", `  - wait: 1s
    expect:
      - log: "[IKE] CHILD_SA b{1} established"
        host: a
  - a: ipsec status
    expect:
      - output: "b[1]: ESTABLISHED"
  - a: bash again.sh
    expect:
      - ok
      - output: restarting
      - output: "Stopping strongSwan IPsec..."
      - output: "connection 'b' established successfully"
      - output: "INSTALLED, TUNNEL"
  - b: bash none.sh
    note: b's charon has no conn x
    expect:
      - failed
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.Run(topo, options(t, true))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(r); len(f) > 0 {
		t.Errorf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), text(t, r))
	}
}
