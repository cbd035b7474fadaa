package sim_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/sim"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of the examples")

// failed lists the assertions of a run that did not hold.
func failed(r *sim.Result) []string {
	var out []string
	for _, s := range r.Steps {
		for _, e := range s.Expect {
			if !e.OK {
				out = append(out, e.Expect+": "+e.Detail)
			}
		}
	}
	return out
}

// TestRouted: a router between two LANs; ping (with the neighbours
// resolved on each link first), an SSH handshake, a refused port, a
// next hop nobody answers for (three ARP requests, then ICMP host
// unreachable from the router), a LOG and DROP rule added between two
// steps and its counters.
func TestRouted(t *testing.T) {
	r := runFile(t, "testdata/basic.yaml", options(t, false))
	if f := failed(r); len(f) > 0 {
		t.Fatalf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), text(t, r))
	}
	out := text(t, r)
	for _, want := range []string{
		"64 bytes from 10.0.2.2: icmp_seq=1 ttl=63 time=0.800 ms\n", // two ARP exchanges on the way
		"64 bytes from 10.0.2.2: icmp_seq=2 ttl=63 time=0.400 ms\n",
		"2 packets transmitted, 2 received, 0% packet loss, time 1000ms\n",
		"rtt min/avg/max/mdev = 0.400/0.600/0.800/0.200 ms\n",
		"ARP, Request who-has 10.0.1.1 tell 10.0.1.2, length 28\n",
		"nc: connect to 10.0.2.2 port 80 (tcp) failed: Connection refused\n",
		"From 10.0.1.1 icmp_seq=1 Destination Host Unreachable\n",
		"1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n",
		"ssh: connect to host 10.0.2.2 port 22: Connection timed out\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The handshake's ACK belongs to the ssh step (the step runs until
	// the network is quiet).
	ssh := r.Steps[1]
	var acks int
	for _, f := range ssh.Frames {
		if strings.Contains(f.Summary, "Flags [.]") {
			acks++
		}
	}
	if acks != 2 {
		t.Errorf("the ssh step shows %d ACKs of the handshake, want 2 (one per link):\n%s", acks, out)
	}
	// Three ARP probes a second apart, then the failure.
	unreach := r.Steps[3]
	if d := unreach.End - unreach.Start; d < 3e9 || d > 3.01e9 {
		t.Errorf("the unresolved neighbour failed after %d ns, want 3 s", d)
	}
}

// TestIPv6: neighbour discovery on both links, ping6's lines, an SSH
// handshake, and an INPUT policy of DROP that also drops neighbour
// solicitations.
func TestIPv6(t *testing.T) {
	r := runFile(t, "testdata/v6.yaml", options(t, false))
	if f := failed(r); len(f) > 0 {
		t.Fatalf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), text(t, r))
	}
	out := text(t, r)
	for _, want := range []string{
		"PING 2001:db8:2::2(2001:db8:2::2) 56 data bytes\n",
		"ICMP6, neighbor solicitation, who has 2001:db8:1::1, length 32\n",
		"IP6 2001:db8:1::1 > 2001:db8:1::2: ICMP6, neighbor advertisement, tgt is 2001:db8:1::1, length 32\n",
		"64 bytes from 2001:db8:2::2: icmp_seq=2 ttl=63 time=0.400 ms\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDeterministic: the same file gives the same bytes, text and JSON;
// another seed gives other random choices (ports, sequence numbers).
func TestDeterministic(t *testing.T) {
	o := options(t, true)
	path := "../examples/sim-seed003/network.yaml"
	a, b := runFile(t, path, o), runFile(t, path, o)
	if ta, tb := text(t, a), text(t, b); ta != tb {
		t.Fatalf("two runs differ:\n%s", sim.Diff(ta, tb))
	}
	var ja, jb bytes.Buffer
	a.WriteJSON(&ja)
	b.WriteJSON(&jb)
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
		t.Fatal("two runs differ in JSON")
	}
	o.Seed, o.SeedSet = 4, true
	c := runFile(t, path, o)
	if text(t, c) == text(t, a) {
		t.Error("another seed gave the same run")
	}
	if f := failed(c); len(f) > 0 {
		t.Errorf("with seed 4: %s", strings.Join(f, "\n"))
	}
}

// TestJSON: the JSON form has the steps with their output, LOG lines (as
// syslog lines too), frames and assertions.
func TestJSON(t *testing.T) {
	r := runFile(t, "testdata/basic.yaml", options(t, false))
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name  string
		Steps []struct {
			N       int
			Host    string
			Command string
			Outcome string
			Output  []string
			Logs    []struct {
				Host, Line, Syslog string
				TimeNS             int64 `json:"time_ns"`
			}
			Frames []struct{ Link, Summary string }
			Expect []struct {
				Expect string
				OK     bool
			}
		}
		Failed int
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != "basic" || len(doc.Steps) != 7 || doc.Failed != 0 {
		t.Fatalf("name %q, %d steps, %d failed", doc.Name, len(doc.Steps), doc.Failed)
	}
	last := doc.Steps[6]
	if last.Outcome != "timeout" || len(last.Logs) != 3 || !strings.HasPrefix(last.Logs[0].Syslog, "Sep  2 20:19:28 b kernel: [ssh] IN=eth0 ") {
		t.Errorf("last step: %+v", last)
	}
	if len(doc.Steps[0].Frames) != 12 || doc.Steps[0].Frames[0].Link != "lan1" {
		t.Errorf("first step's frames: %+v", doc.Steps[0].Frames)
	}
}

// TestPcap: one file per link with every frame, which tcpdump reads
// back to the lines the run printed.
func TestPcap(t *testing.T) {
	dir := t.TempDir()
	o := options(t, false)
	o.PcapDir = dir
	r := runFile(t, "testdata/basic.yaml", o)
	var lines = map[string][]string{}
	for _, s := range r.Steps {
		for _, f := range s.Frames {
			lines[f.Link] = append(lines[f.Link], f.Summary)
		}
	}
	for _, link := range []string{"lan1", "lan2"} {
		data, err := os.ReadFile(filepath.Join(dir, link+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(data[20:]) != 1 {
			t.Fatalf("%s: not a pcap file of Ethernet frames", link)
		}
		n := 0
		for off := 24; off+16 <= len(data); n++ {
			off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
		}
		if n != len(lines[link]) {
			t.Errorf("%s: %d frames in the file, %d in the output", link, n, len(lines[link]))
		}
		tcpdump, err := exec.LookPath("tcpdump")
		if err != nil {
			t.Log("tcpdump is not installed: the files are not read back (apt-get install tcpdump)")
			continue
		}
		cmd := exec.Command(tcpdump, "-nn", "-S", "-t", "-r", filepath.Join(dir, link+".pcap"))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tcpdump -r: %v: %s", err, errb.String())
		}
		got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if d := sim.Diff(strings.Join(lines[link], "\n"), strings.Join(got, "\n")); d != "" {
			t.Errorf("%s: tcpdump -nn -S -t reads other lines than the run printed (-run +tcpdump):\n%s", link, d)
		}
	}
}

// TestSetupErrors: a host whose setup fails stops the run before it
// starts, naming the host, the command (with its line) and its error.
func TestSetupErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r1.sh"), []byte("#!/bin/bash\niptables -A INPUT -j ACCEPT\n# a typo:\niptables -A INPUT -p tcp --dport 22 -j ACCEPTT\niptables -A INPUT -j DROP\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.rules"), []byte("*filter\n-A INPUT -j NOPE\nCOMMIT\n"), 0o644)
	for _, c := range []struct {
		name, yaml string
		script     bool
		want       []string
	}{
		{"script", "hosts:\n  r1:\n    script: r1.sh\n", true,
			[]string{"host r1: ", "r1.sh:4: iptables -A INPUT -p tcp --dport 22 -j ACCEPTT (exit 2)", "ACCEPTT"}},
		{"command", "hosts:\n  r1:\n    commands:\n      - iptables -P INPUT DROP\n      - iptables -A FOO -j ACCEPT\n", false,
			[]string{"host r1: ", "net.yaml:5: iptables -A FOO -j ACCEPT (exit 1)", "iptables: No chain/target/match by that name."}},
		{"route", "hosts:\n  r1:\n    interfaces: {eth0: 10.0.0.1/24}\n    routes: [default via 192.168.9.1]\n", false,
			[]string{"host r1: ", "net.yaml:4: ip route add default via 192.168.9.1 (exit 2)", "Nexthop has invalid gateway"}},
		{"rules", "hosts:\n  r1:\n    rules: bad.rules\n", false,
			[]string{"host r1: ", "iptables-restore < bad.rules (exit", "NOPE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			topo, err := parse(t, dir, c.yaml)
			if err != nil {
				t.Fatal(err)
			}
			_, err = sim.Run(topo, options(t, c.script))
			var se *sim.SetupError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a setup error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestParseErrors: mistakes in a topology name the file, line, column
// and field.
func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ yaml, want string }{
		{"hosts:\n  r1:\n    interfaces:\n      eth0: {mtu: abc}\n", `net.yaml:4:19: hosts.r1.interfaces.eth0.mtu: "abc" is not a number`},
		{"hosts:\n  r1:\n    interfaces:\n      eth0: {mtu: 20}\n", `net.yaml:4:19: hosts.r1.interfaces.eth0.mtu: 20 is out of range (68 to 65535)`},
		{"hosts:\n  r1:\n    interface: {}\n", `net.yaml:3:5: hosts.r1.interface: unknown field`},
		{"hosts:\n  r1:\n    interfaces:\n      eth0: 10.0.0.1\n", `net.yaml:4:13: hosts.r1.interfaces.eth0: "10.0.0.1": write the address with its prefix length`},
		{"hosts:\n  r1:\n    interfaces:\n      eth0: {mac: 01:00:5e:00:00:01}\n", `hosts.r1.interfaces.eth0.mac: 01:00:5e:00:00:01 is a multicast address`},
		{"hosts:\n  r1: {}\nlinks:\n  l: [r1.eth0]\n", `net.yaml:4:7: links.l[0]: "r1.eth0": host r1 has no interface "eth0"`},
		{"hosts:\n  r1: {interfaces: {eth0: }}\nlinks:\n  l: [r1.eth0]\n  m: [r1.eth0]\n", `links.m[0]: r1.eth0 is already on link l`},
		{"hosts:\n  r1: {}\nsteps:\n  - r2: ping 10.0.0.1\n", `net.yaml:4:5: steps[0].r2: no host "r2"`},
		{"hosts:\n  r1: {}\nsteps:\n  - r1: tcpdump -i eth0\n", `net.yaml:4:9: steps[0].r1: tcpdump: unknown command`},
		{"hosts:\n  r1: {}\nsteps:\n  - r1: raw tcp 10.0.0.1 > 10.0.0.2\n", `steps[0].r1: pktspec:`},
		{"hosts:\n  r1: {}\nsteps:\n  - wait: soon\n", `net.yaml:4:11: steps[0].wait: "soon" is not a duration`},
		{"hosts:\n  r1: {}\nsteps:\n  - r1: ping 10.0.0.1\n    wait: 1s\n", `net.yaml:4:5: steps[0]: a step does one thing`},
		{"hosts:\n  r1: {}\nsteps:\n  - r1: ping 10.0.0.1\n    expect:\n      - counter: {table: nat, chain: X, packets: 1}\n", `steps[0].expect[0].counter: a counter needs its host`},
		{"hosts:\n  r1: {}\nsteps:\n  - r1: ping 10.0.0.1\n    expect:\n      - log: x\n        link: l\n", `steps[0].expect[0].link: no link "l"`},
		{"hosts:\n  r1:\n    sysctl: {net.ipv4.ip_forward: 1}\n  wait: {}\n", `net.yaml:4:3: hosts.wait: "wait" is reserved for steps`},
		{"hosts: [a, b]\n", `net.yaml:1:8: hosts: want a mapping`},
		{"hosts:\n  r1: {}\n  r1: {}\n", `hosts.r1: given twice`},
		{"hosts:\n\tr1: {}\n", `net.yaml:2: found character that cannot start any token`},
		{"seed: 1\n", `net.yaml:1:1: no hosts`},
	} {
		_, err := parse(t, dir, c.yaml)
		if err == nil {
			t.Errorf("%q: no error, want %q", c.yaml, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.yaml, err, c.want)
		}
	}
	// A setup mistake found before anything runs: an unknown sysctl.
	topo, err := parse(t, dir, "hosts:\n  r1:\n    sysctl:\n      net.ipv4.ip_forwarding: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sim.Run(topo, options(t, false))
	if err == nil || !strings.Contains(err.Error(), "net.yaml:4:31: hosts.r1.sysctl.net.ipv4.ip_forwarding: sysctl: cannot stat /proc/sys/net/ipv4/ip_forwarding: No such file or directory") {
		t.Errorf("unknown sysctl: %v", err)
	}
}

// TestCommandLine: iptwin sim with --check against a golden file, and
// the exit status of a failed assertion.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	golden := filepath.Join(dir, "golden.txt")
	var out, errb bytes.Buffer
	if rc := cli.Main([]string{"iptwin", "sim", "--check", golden, "--update", "testdata/basic.yaml"}, nil, &out, &errb); rc != 0 {
		t.Fatalf("--update: exit %d: %s", rc, errb.String())
	}
	out.Reset()
	if rc := cli.Main([]string{"iptwin", "sim", "--check", golden, "testdata/basic.yaml"}, nil, &out, &errb); rc != 0 {
		t.Fatalf("--check: exit %d: %s%s", rc, out.String(), errb.String())
	}
	data, _ := os.ReadFile(golden)
	os.WriteFile(golden, bytes.Replace(data, []byte("ttl=63"), []byte("ttl=64"), 1), 0o644)
	out.Reset()
	if rc := cli.Main([]string{"iptwin", "sim", "--check", golden, "testdata/basic.yaml"}, nil, &out, &errb); rc != 1 ||
		!strings.Contains(out.String(), "-64 bytes from 10.0.2.2: icmp_seq=1 ttl=64") || !strings.Contains(out.String(), "+64 bytes from 10.0.2.2: icmp_seq=1 ttl=63") {
		t.Errorf("--check of a changed golden: exit %d:\n%s", rc, out.String())
	}
	os.WriteFile(filepath.Join(dir, "f.yaml"), []byte("hosts:\n  a: {interfaces: {eth0: 10.0.0.1/24}}\nsteps:\n  - a: ping -c 1 10.0.0.1\n    expect: lost\n"), 0o644)
	out.Reset()
	if rc := cli.Main([]string{"iptwin", "sim", filepath.Join(dir, "f.yaml")}, nil, &out, &errb); rc != 1 ||
		!strings.Contains(out.String(), "FAIL outcome lost: outcome is ok") {
		t.Errorf("a failed assertion: exit %d:\n%s", rc, out.String())
	}
	errb.Reset()
	if rc := cli.Main([]string{"iptwin", "sim", filepath.Join(dir, "missing.yaml")}, nil, &out, &errb); rc != 2 {
		t.Errorf("a missing file: exit %d: %s", rc, errb.String())
	}
}

// TestDocExample runs the complete example of docs/sim.md (with the
// files it names) and requires every assertion in it to hold.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/sim.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	yaml, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/sim.md has no yaml block")
	}
	dir := t.TempDir()
	files := map[string]string{
		"r.rules":     "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -p icmp -j ACCEPT\nCOMMIT\n",
		"extra.rules": "*filter\n-A FORWARD -p udp --dport 9 -j DROP\nCOMMIT\n",
		"r.sh":        "#!/bin/bash\nsysctl -w net.ipv4.conf.all.send_redirects=0 > /dev/null\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	topo, err := parse(t, dir, yaml)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(topo, options(t, true))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(res); len(f) > 0 {
		t.Fatalf("%s\n%s", strings.Join(f, "\n"), text(t, res))
	}
}

// TestApps: the applications' lines for the ICMP errors they meet (TTL
// exceeded, fragmentation needed, REJECT's kinds), fragmentation on the
// way, names from the hosts file, UDP both ways, raw and trace, an MTU
// mismatch on a link, a conntrack command.
func TestApps(t *testing.T) {
	r := runFile(t, "testdata/apps.yaml", options(t, false))
	if f := failed(r); len(f) > 0 {
		t.Fatalf("failed assertions:\n%s\n%s", strings.Join(f, "\n"), text(t, r))
	}
}

// TestRunners: the commands of a run give the same output whether they
// run in process or as the iptwin binary.
func TestRunners(t *testing.T) {
	in := runFile(t, "testdata/basic.yaml", options(t, false))
	o := sim.Options{Exec: iptwinBinary(t)}
	ex := runFile(t, "testdata/basic.yaml", o)
	if a, b := text(t, in), text(t, ex); a != b {
		t.Errorf("in process and with the binary differ:\n%s", sim.Diff(a, b))
	}
}
