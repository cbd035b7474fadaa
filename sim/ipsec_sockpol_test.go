package sim_test

import (
	"os"
	"strings"
	"testing"
)

// TestIPsecSocketPolicies: "ip xfrm policy" on a host running charon
// ends with its sockets' bypass policies exactly as the real one lists
// them (sim/ike/testdata/real/ok/xfrm-policy-a.txt), after the
// CHILD_SA's newer policies; "nosock" hides them, flush and deleteall
// leave them, the count's "Sock:" counts them, ipsec stop takes them
// out and start puts new ones in. The packet path does not see them:
// once the flush took the CHILD_SA's policies the ping leaves in clear.
func TestIPsecSocketPolicies(t *testing.T) {
	real, err := os.ReadFile("ike/testdata/real/ok/xfrm-policy-a.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := runPassing(t, t.TempDir(), ipsecPairTopo("start", "", `  - wait: 1s
  - a: ip xfrm policy
  - a: ip xfrm policy list nosock
    expect:
      - output: "dir out priority 375423"
      - no-output: socket
  - a: ip xfrm policy list dir in
    expect:
      - no-output: socket
  - a: ip -s xfrm policy count
    expect:
      - output: "SPD IN  1 OUT 1 FWD 1 (Sock: IN 4 OUT 4 FWD 0)"
  - a: ip xfrm policy deleteall
    expect: ok
  - a: ip xfrm policy flush
    expect: ok
  - a: ip xfrm policy
    expect:
      - no-output: "dir "
      - output: socket in priority 0 ptype main
  - a: ping -c 1 -W 1 -I 192.168.1.1 192.168.2.1
    note: without the CHILD_SA's policies the ping leaves in clear
    expect:
      - capture: "IP 192.168.1.1 > 192.168.2.1: ICMP echo request"
  - a: ipsec stop
  - a: ip xfrm policy
    expect:
      - no-output: socket
  - a: ipsec start
  - a: ip -s xfrm policy
    expect:
      - output: socket out action allow index
      - output: socket in action allow index
`), false)
	list := r.Steps[1].Output
	want := strings.Split(strings.TrimRight(string(real), "\n"), "\n")
	if len(list) < len(want)+6 || strings.Join(list[len(list)-len(want):], "\n") != strings.Join(want, "\n") ||
		list[0] != "src 192.168.2.0/24 dst 192.168.1.0/24 " || list[1] != "\tdir fwd priority 375423 ptype main " {
		t.Errorf("ip xfrm policy:\n%s\nwant the CHILD_SA's policies, then\n%s", strings.Join(list, "\n"), real)
	}
}
