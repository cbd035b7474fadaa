package sim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/sim"
)

// TestIPsecSeed000 runs seed 000's story as far as the IKE side goes:
// UDP 500 dropped by INPUT (the [INPUT] LOG line, retransmissions),
// IKE_AUTH stuck on 4500 (MOBIKE floats it there), the tunnel with its
// SAs, policies, rule and table-220 route, the ping leaving in clear
// because of MASQUERADE, then as ESP once the LAN is exempted, dropped
// by debian3 until ESP is allowed. The whole output is compared with
// testdata/ipsec-seed000/expected.txt (go test -run IPsecSeed000
// -update rewrites it).
func TestIPsecSeed000(t *testing.T) {
	r := runFile(t, "testdata/ipsec-seed000/net.yaml", options(t, false))
	out := text(t, r)
	if f := failed(r); len(f) > 0 {
		t.Fatalf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), out)
	}
	// The seed's own figures: IKE_SA_INIT of 336 bytes (364 on the
	// wire with the IP and UDP headers), IKE_AUTH of 300 bytes from
	// 4500, the first retransmissions 4 and 7.2 s apart, the
	// established tunnel's lines, ESP of 132 bytes for a 84-byte ping.
	for _, want := range []string{
		"LEN=364 TOS=0x00 PREC=0x00 TTL=64 ID=",
		"DF PROTO=UDP SPT=500 DPT=500 LEN=344 \n",
		"wan  21:51:04.000000 IP 10.0.0.200.500 > 10.0.0.201.500: isakmp: parent_sa ikev2_init[I]\n",
		"wan  21:51:11.200000 IP 10.0.0.200.500 > 10.0.0.201.500: isakmp: parent_sa ikev2_init[I]\n",
		"generating IKE_AUTH request 1 [ IDi N(INIT_CONTACT) IDr AUTH SA TSi TSr N(MOBIKE_SUP) N(ADD_4_ADDR) N(MULT_AUTH) N(EAP_ONLY) N(MSG_ID_SYN_SUP) ]\n",
		"IKE_SA debian3[1] established between 10.0.0.200[debian2.example.com]...10.0.0.201[debian3.example.com]\n",
		"ESP(spi=0x", "), length 132\n",
		"debian charon: ", "[IKE] 10.0.0.200 is initiating an IKE_SA\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	golden := "testdata/ipsec-seed000/expected.txt"
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (go test ./sim -run IPsecSeed000 -update rewrites it):\n%s", golden, out)
	}
	// The same bytes on every run.
	if again := text(t, runFile(t, "testdata/ipsec-seed000/net.yaml", options(t, false))); again != out {
		t.Error("a second run printed something else")
	}
}

const ipsecPair = `
seed: 3
hosts:
  a:
    interfaces: {eth0: 10.0.0.1/24, eth1: 192.168.1.1/24}
    ipsec:
      conf: |
        conn b
          left=10.0.0.1
          right=10.0.0.2
          leftsubnet=192.168.1.0/24
          rightsubnet=192.168.2.0/24
          authby=secret
          auto=%AUTO%
      secrets: |
        : PSK "x"
%SWCONF%
  b:
    interfaces: {eth0: 10.0.0.2/24, eth1: 192.168.2.1/24}
    ipsec:
      conf: |
        conn a
          left=10.0.0.2
          right=10.0.0.1
          leftsubnet=192.168.2.0/24
          rightsubnet=192.168.1.0/24
          authby=secret
          auto=add
      secrets: |
        : PSK "x"
links:
  wan: [a.eth0, b.eth0]
`

func ipsecPairTopo(auto, swconf string, steps string) string {
	s := strings.ReplaceAll(ipsecPair, "%AUTO%", auto)
	s = strings.ReplaceAll(s, "%SWCONF%", swconf)
	return s + "steps:\n" + steps
}

// TestIPsecAutoStart: a conn with auto=start is initiated when charon
// starts; its lines go to syslog, nobody running "ipsec up".
// install_routes = no leaves table 220 and the rule out.
func TestIPsecAutoStart(t *testing.T) {
	r := runPassing(t, t.TempDir(), ipsecPairTopo("start", `      strongswan: |
        charon {
          install_routes = no
        }`, `  - wait: 1s
    expect:
      - log: "[IKE] CHILD_SA b{1} established"
        host: a
      - log: "[IKE] CHILD_SA a{1} established"
        host: b
  - a: ipsec status
    expect:
      - output: "b[1]: ESTABLISHED"
      - output: "INSTALLED, TUNNEL, reqid 1, ESP SPIs:"
  - a: ip route show table 220
    expect:
      - no-output: "192.168.2.0/24"
  - a: ip rule
    expect:
      - no-output: "220:"
  - b: ip rule
    expect:
      - output: "220:	from all lookup 220"
  - b: ip route show table 220
    expect:
      - output: "192.168.1.0/24 via 10.0.0.1 dev eth0 proto static src 192.168.2.1"
  - a: ipsec stop
    expect:
      - output: Stopping strongSwan IPsec...
  - a: ip xfrm state
    expect:
      - no-output: spi
  - a: ipsec status
    expect:
      - error
      - output: "failed to connect to stroke socket 'unix:///var/run/charon.ctl'"
  - a: ipsec start
    expect:
      - ok
  - wait: 1s
  - a: ipsec status
    expect:
      - output: "b[1]: ESTABLISHED"
`), false)
	// charon's lines carry its syslog tag and a worker thread.
	var charon int
	for _, l := range r.Steps[0].Logs {
		if strings.Contains(l.Syslog, " charon: ") && l.Line[2] == '[' {
			charon++
		}
	}
	if charon == 0 {
		t.Errorf("no charon line in syslog:\n%s", text(t, r))
	}
}

// TestIPsecUpOutcomes: an unknown conn, a peer that never answers
// (keyingtries=1: five retransmissions, then failure after 165 s), and
// "ipsec" on a host without charon.
func TestIPsecUpOutcomes(t *testing.T) {
	topo, err := parse(t, t.TempDir(), `
hosts:
  a:
    interfaces: {eth0: 10.0.0.1/24}
    ipsec:
      conf: |
        conn peer
          right=10.0.0.9
          authby=secret
          keyingtries=1
          auto=add
      secrets: |
        : PSK "x"
  c:
    interfaces: {eth0: 10.0.0.3/24}
links:
  wan: [a.eth0, c.eth0]
steps:
  - a: ipsec up nothere
    expect:
      - failed
      - output: "no config named 'nothere'"
  - a: ipsec up peer
    expect:
      - failed
      - output: retransmit 5 of request with message ID 0
      - output: giving up after 5 retransmits
      - output: establishing connection 'peer' failed
  - c: ipsec up peer
    expect: error
  - a: ipsec frobnicate
    expect: error
`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.Run(topo, options(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(r); len(f) > 0 {
		t.Fatalf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), text(t, r))
	}
	if d := r.Steps[1].End - r.Steps[1].Start; d/1e6 != 165060 {
		t.Errorf("ipsec up gave up after %d ms, want 165060 (4 s * 1.8^n)", d/1e6)
	}
}

// TestIPsecFieldErrors: mistakes in the field or in the files are
// reported with the topology's file and line, or the file's name and
// line, in starter's words.
func TestIPsecFieldErrors(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"bad.conf":     "conn x\n  right=1.2.3.4\n  mobike=maybe\n",
		"cert.conf":    "conn x\n  right=1.2.3.4\n",
		"cert.secrets": ": RSA k.pem\n",
		"d/cacerts/x":  "",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, "d/cacerts/x"))
	for _, c := range []struct{ field, want string }{
		{"ipsec: {secrets: s}", "net.yaml:4:12: hosts.a.ipsec: conf is missing"},
		{"ipsec: {conf: none.conf}", "net.yaml:4:19: hosts.a.ipsec.conf: " + filepath.Join(dir, "none.conf") + ": no such file or directory"},
		{"ipsec: {conf: bad.conf}", "net.yaml:4:19: hosts.a.ipsec.conf: bad.conf:3: # bad option value: mobike=maybe (and 1 more)"},
		{"ipsec:\n      conf: |\n        conn x\n          frob=1\n", "net.yaml:7: hosts.a.ipsec.conf: # unknown keyword 'frob'"},
		{"ipsec: {conf: bad.conf, other: 1}", "hosts.a.ipsec.other"},
		{"ipsec: {conf: bad.conf, ipsec.d: bad.conf}", "net.yaml:4:38: hosts.a.ipsec.ipsec.d: " + filepath.Join(dir, "bad.conf") + ": not a directory"},
		{"ipsec: {conf: cert.conf, secrets: cert.secrets, ipsec.d: d}", "net.yaml:4:39: hosts.a.ipsec.secrets: cert.secrets:1:   loading private key from '/etc/ipsec.d/private/k.pem' failed: no such file"},
	} {
		_, err := parse(t, dir, "hosts:\n  a:\n    interfaces: {eth0: 10.0.0.1/24}\n    "+c.field+"\n")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.field, err, c.want)
		}
	}
}
