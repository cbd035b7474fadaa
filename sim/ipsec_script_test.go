package sim_test

import (
	"os"
	"path/filepath"
	"testing"
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
	runPassing(t, dir, ipsecPairTopo("add", "    script: a.sh", `  - wait: 1s
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
`), true)
}

// TestPingThroughTunnel: ping reads the IPsec bundle's MTU as the kernel
// gives it to the socket: with -M do a probe too big for the tunnel is a
// local error with that MTU; without, it is fragmented before ESP and
// answered.
func TestPingThroughTunnel(t *testing.T) {
	runPassing(t, t.TempDir(), ipsecPairTopo("start", "", `  - wait: 1s
  - a: ping -c 1 -s 1450 -M do -I 192.168.1.1 192.168.2.1
    expect:
      - unreachable
      - output: "ping: local error: message too long, mtu=14"
      - output: "1 packets transmitted, 0 received, +1 errors, 100% packet loss"
      - no-capture: ESP
  - a: ping -c 1 -s 1450 -I 192.168.1.1 192.168.2.1
    expect:
      - ok
      - output: "1458 bytes from 192.168.2.1: icmp_seq=1 ttl=64"
      - capture: "IP 10.0.0.1 > 10.0.0.2: ESP(spi=0x"
`), false)
}
