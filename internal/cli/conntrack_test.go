package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
)

// twin runs iptwin commands on one state directory.
type twin struct {
	t   *testing.T
	dir string
}

func newTwin(t *testing.T, setup ...string) *twin {
	tw := &twin{t: t, dir: t.TempDir()}
	for _, s := range setup {
		tw.ok(strings.Fields(s)...)
	}
	return tw
}

// run returns stdout, stderr and the exit status of one command.
func (tw *twin) run(argv ...string) (string, string, int) {
	tw.t.Helper()
	var out, errb bytes.Buffer
	argv = append([]string{"iptwin", "--state", tw.dir}, argv...)
	rc := cli.Main(argv, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), rc
}

func (tw *twin) ok(argv ...string) string {
	tw.t.Helper()
	out, errs, rc := tw.run(argv...)
	if rc != 0 {
		tw.t.Fatalf("%v: exit %d\n%s%s", argv, rc, out, errs)
	}
	return out
}

// A host with conntrack in use (a state rule), a UDP and a TCP socket.
var hostSetup = []string{
	"ip link add eth0 type dummy",
	"ip link set eth0 up",
	"ip addr add 10.0.0.1/24 dev eth0",
	"iptables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT",
	"socket add udp 53",
	"socket add tcp 22",
}

const (
	udpRequest = "udp 10.0.0.2:5353 > 10.0.0.1:53 in eth0"
	udpReply   = "udp 10.0.0.1:53 > 10.0.0.2:5353 out"
	tcpSYN     = "tcp 10.0.0.2:40000 > 10.0.0.1:22 syn in eth0"
)

// The sequence across invocations: a request, then its reply in
// another run of iptwin trace, then the next request: the state persists
// in the state directory, and iptwin conntrack lists it.
func TestTraceConntrackPersists(t *testing.T) {
	tw := newTwin(t, hostSetup...)
	out := tw.ok("trace", udpRequest)
	if !strings.Contains(out, "conntrack: NEW: udp") || !strings.Contains(out, "ctstate ESTABLISHED -j ACCEPT  : no match") {
		t.Fatalf("first request:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(tw.dir, "conntrack")); err != nil {
		t.Fatalf("no conntrack file: %v", err)
	}
	list, errs, rc := tw.run("conntrack", "-L")
	want := "udp      17 30 src=10.0.0.2 dst=10.0.0.1 sport=5353 dport=53 [UNREPLIED] src=10.0.0.1 dst=10.0.0.2 sport=53 dport=5353 mark=0 use=1\n"
	if list != want || errs != "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n" || rc != 0 {
		t.Fatalf("conntrack -L after the request: %q %q %d", list, errs, rc)
	}
	out = tw.ok("trace", udpReply)
	if !strings.Contains(out, "conntrack: ESTABLISHED, reply direction: udp") {
		t.Fatalf("reply in a second invocation:\n%s", out)
	}
	// The host's clock moves on: three seconds later the flow is a
	// stream (assured, 120 s).
	out = tw.ok("trace", "--wait", "3s", udpRequest)
	if !strings.Contains(out, "conntrack: ESTABLISHED: udp") || !strings.Contains(out, "ctstate ESTABLISHED -j ACCEPT  : match") {
		t.Fatalf("request after the reply:\n%s", out)
	}
	list = tw.ok("conntrack", "-L", "-p", "udp")
	if list != "udp      17 120 src=10.0.0.2 dst=10.0.0.1 sport=5353 dport=53 src=10.0.0.1 dst=10.0.0.2 sport=53 dport=5353 [ASSURED] mark=0 use=1\n" {
		t.Fatalf("assured stream: %q", list)
	}
	// A SYN, then its retransmission in the next run: the same entry,
	// in the state the host's SYN-ACK left it (SYN_RECV), ESTABLISHED.
	out = tw.ok("trace", tcpSYN)
	if !strings.Contains(out, "conntrack: NEW: tcp      6 120 SYN_SENT") {
		t.Fatalf("SYN:\n%s", out)
	}
	out = tw.ok("trace", tcpSYN)
	if !strings.Contains(out, "conntrack: ESTABLISHED: tcp      6 60 SYN_RECV") {
		t.Fatalf("retransmitted SYN:\n%s", out)
	}
	if out := tw.ok("conntrack", "-C"); out != "2\n" {
		t.Errorf("conntrack -C: %q", out)
	}
	// Time passes for the table too: after the SYN_RECV timeout only
	// the UDP stream is left.
	tw.ok("trace", "--wait", "61s", "udp 10.0.0.9:1 > 10.0.0.1:53 in eth0")
	if out := tw.ok("conntrack", "-L", "-p", "tcp"); out != "" {
		t.Errorf("the SYN_RECV entry outlived its timeout: %q", out)
	}
}

// Two packets in one run and the same packets in two runs leave the same
// state, and the second packet meets the same table.
func TestTraceOneRunOrTwo(t *testing.T) {
	one := newTwin(t, hostSetup...)
	two := newTwin(t, hostSetup...)
	both := one.ok("trace", udpRequest+" ; "+udpReply)
	two.ok("trace", udpRequest)
	second := two.ok("trace", udpReply)
	if i := strings.Index(both, "\n\n"); i < 0 || both[i+2:] != second {
		t.Errorf("the reply in the same run:\n%s\nin a second run:\n%s", both, second)
	}
	for _, f := range []string{"conntrack", "runtime.json"} {
		a, _ := os.ReadFile(filepath.Join(one.dir, f))
		b, _ := os.ReadFile(filepath.Join(two.dir, f))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs:\n%s\n%s", f, a, b)
		}
	}
}

// --no-save leaves the table as it was.
func TestTraceNoSaveKeepsTable(t *testing.T) {
	tw := newTwin(t, hostSetup...)
	tw.ok("trace", udpRequest)
	before, _ := os.ReadFile(filepath.Join(tw.dir, "conntrack"))
	tw.ok("trace", "--no-save", udpReply)
	after, _ := os.ReadFile(filepath.Join(tw.dir, "conntrack"))
	if !bytes.Equal(before, after) {
		t.Errorf("--no-save changed the table")
	}
}

// A damaged table is reported, not ignored.
func TestDamagedConntrackFile(t *testing.T) {
	tw := newTwin(t, hostSetup...)
	tw.ok("trace", udpRequest)
	os.WriteFile(filepath.Join(tw.dir, "conntrack"), []byte("iptwin-conntrack 1\ntable seed=1 next-id=1\n"), 0o644)
	for _, argv := range [][]string{{"trace", udpReply}, {"conntrack", "-L"}} {
		_, errs, rc := tw.run(argv...)
		if rc != 1 || !strings.Contains(errs, "conntrack is damaged: conntrack state: line 2: field last-gc is missing") {
			t.Errorf("%v: %d %q", argv, rc, errs)
		}
	}
}

// A table of several flows for the filters: NATed and not, IPv4 and
// IPv6, TCP, UDP and ICMP, marked and not.
func filterTwin(t *testing.T) *twin {
	tw := newTwin(t, append(hostSetup,
		"ip -6 addr add 2001:db8::1/64 dev eth0 nodad",
		"ip6tables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT",
		"ip link add eth1 type dummy",
		"ip link set eth1 up",
		"ip addr add 192.0.2.1/24 dev eth1",
		"sysctl -w net.ipv4.ip_forward=1",
		"iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE",
		"iptables -t nat -A PREROUTING -i eth1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.5:80",
		"iptables -t mangle -A PREROUTING -p udp --dport 54 -j CONNMARK --set-mark 0x15",
	)...)
	tw.ok("trace", udpRequest+" ; "+udpReply+" ; "+
		"udp 10.0.0.2:5354 > 10.0.0.1:54 in eth0 ; "+
		"tcp 10.0.0.3:41000 > 192.0.2.9:443 syn in eth0 ; "+
		"tcp 198.51.100.7:1234 > 192.0.2.1:8080 syn in eth1 ; "+
		"icmp 10.0.0.2 > 10.0.0.1 echo-request id 7 in eth0 ; "+
		"udp [2001:db8::2]:1000 > [2001:db8::1]:53 in eth0")
	return tw
}

func TestConntrackFilters(t *testing.T) {
	tw := filterTwin(t)
	all := tw.ok("conntrack", "-L")
	if n := strings.Count(all, "\n"); n != 6 {
		t.Fatalf("%d entries:\n%s", n, all)
	}
	for _, tc := range []struct {
		args string
		want []string // a distinctive part of each line, in order
	}{
		{"-L -p udp", []string{"sport=5353", "sport=5354", "2001:db8::2"}},
		{"-L -p 17 -f ipv4", []string{"sport=5353", "sport=5354"}},
		{"-L -f ipv6", []string{"2001:db8::2"}},
		{"-L -s 10.0.0.2", []string{"sport=5353", "sport=5354", "icmp"}},
		{"-L --orig-src 10.0.0.0/24 -p tcp", []string{"sport=41000"}},
		{"-L -d 10.0.0.1 -p udp --dport 54", []string{"sport=5354"}},
		{"-L -p udp --sport 5353 --dport 53", []string{"sport=5353"}},
		{"-L -p tcp --state SYN_SENT", []string{"sport=41000", "sport=1234"}},
		{"-L -p tcp --state ESTABLISHED", nil},
		{"-L -m 21", []string{"mark=21"}},
		{"-L -m 0x1/0x1", []string{"mark=21"}},
		{"-L -m 0", []string{"sport=5353", "sport=41000", "sport=1234", "icmp", "2001:db8::2"}},
		{"-L -r 192.0.2.9", []string{"sport=41000"}},
		{"-L -q 192.0.2.1", []string{"sport=41000"}},
		// An ICMP entry has its NAT done (null bindings) and, compared
		// as ports, an id that is not its type and code: conntrack
		// lists it as NATed both ways (measured, conntrack-tools 1.4.7).
		{"-L --src-nat", []string{"sport=41000", "icmp"}},
		{"-L --dst-nat", []string{"sport=1234", "icmp"}},
		{"-L --dst-nat 10.0.0.5", []string{"sport=1234"}},
		{"-L --dst-nat 10.0.0.6", nil},
		{"-L -j", []string{"sport=41000", "sport=1234", "icmp"}},
		{"-L --src-nat 192.0.2.1", []string{"sport=41000"}},
		// A port given must have been mapped (filter_nat: IS_SPAT).
		{"-L --src-nat 192.0.2.1:41000", nil},
		{"-L -u ASSURED", nil},
		{"-L -u SEEN_REPLY", []string{"sport=5353", "icmp"}},
		{"-L -u UNREPLIED -p udp", []string{"sport=5354", "2001:db8::2"}},
		{"-L -p icmp --icmp-type 8 --icmp-id 7", []string{"type=8 code=0 id=7"}},
		{"-L -p icmp --icmp-id 8", nil},
		{"-L -w 0 -p icmp", []string{"icmp"}},
		{"-L -w 1", nil},
		{"-L -o extended -f ipv6", []string{"ipv6     10 udp      17 30 src=2001:db8::2"}},
		{"-L conntrack -p icmp", []string{"icmp"}},
		{"--dump -p icmp", []string{"icmp"}},
		{"-L dying", nil},
	} {
		out, errs, rc := tw.run(append([]string{"conntrack"}, strings.Fields(tc.args)...)...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			lines = nil
		}
		ok := rc == 0 && len(lines) == len(tc.want)
		for i := 0; ok && i < len(lines); i++ {
			ok = strings.Contains(lines[i], tc.want[i])
		}
		if !ok || !strings.HasSuffix(errs, " "+strconv.Itoa(len(tc.want))+" flow entries have been shown.\n") {
			t.Errorf("conntrack %s: exit %d\n%s%s\nwant lines with %q", tc.args, rc, out, errs, tc.want)
		}
	}
	// -G: the entry of a tuple, in either direction, with the dump's
	// second reference.
	out, errs, rc := tw.run("conntrack", "-G", "-p", "udp", "-s", "10.0.0.1", "-d", "10.0.0.2", "--sport", "53", "--dport", "5353")
	if rc != 0 || !strings.HasSuffix(out, "mark=0 use=2\n") || !strings.Contains(out, "sport=5353") || !strings.Contains(errs, "1 flow entries have been shown") {
		t.Errorf("-G: %d %q %q", rc, out, errs)
	}
	_, errs, rc = tw.run("conntrack", "-G", "-p", "udp", "-s", "10.0.0.1", "-d", "10.0.0.2", "--sport", "53", "--dport", "1")
	if rc != 1 || errs != "conntrack v1.4.7 (conntrack-tools): Operation failed: such conntrack doesn't exist\n" {
		t.Errorf("-G of nothing: %d %q", rc, errs)
	}
}

func TestConntrackDeleteFlush(t *testing.T) {
	tw := filterTwin(t)
	out, errs, rc := tw.run("conntrack", "-D", "-p", "udp", "-f", "ipv4")
	if rc != 0 || strings.Count(out, "\n") != 2 || !strings.HasSuffix(errs, " 2 flow entries have been deleted.\n") {
		t.Fatalf("-D: %d\n%s%s", rc, out, errs)
	}
	// Deleted for good: saved in the state directory.
	if out := tw.ok("conntrack", "-L", "-p", "udp"); strings.Count(out, "\n") != 1 {
		t.Errorf("after -D:\n%s", out)
	}
	out, errs, rc = tw.run("conntrack", "-D", "-p", "udp", "-f", "ipv4")
	if rc != 1 || out != "" || errs != "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n" {
		t.Errorf("-D of nothing: %d %q %q", rc, out, errs)
	}
	// The next packet of a deleted flow starts a new entry.
	if out := tw.ok("trace", udpReply); !strings.Contains(out, "conntrack: NEW: udp") {
		t.Errorf("a reply after -D:\n%s", out)
	}
	// -F empties the table, whatever family -f names.
	out, errs, rc = tw.run("conntrack", "-F", "-f", "ipv6")
	if rc != 0 || out != "" || errs != "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n" {
		t.Errorf("-F: %d %q %q", rc, out, errs)
	}
	if out := tw.ok("conntrack", "-C"); out != "0\n" {
		t.Errorf("-C after -F: %q", out)
	}
	if data, _ := os.ReadFile(filepath.Join(tw.dir, "conntrack")); regexp.MustCompile(`(?m)^conn `).Match(data) {
		t.Errorf("entries left in the file:\n%s", data)
	}
}

// Listing does not write the state directory.
func TestConntrackListReadsOnly(t *testing.T) {
	tw := filterTwin(t)
	path := filepath.Join(tw.dir, "conntrack")
	before, _ := os.Stat(path)
	tw.ok("conntrack", "-L")
	tw.ok("conntrack", "-C")
	after, _ := os.Stat(path)
	if !before.ModTime().Equal(after.ModTime()) {
		t.Errorf("listing rewrote the table")
	}
}

// FuzzConntrackArgs runs iptwin conntrack with arbitrary arguments over a
// table (or a damaged one): never a panic, and a failure says something.
func FuzzConntrackArgs(f *testing.F) {
	for _, s := range []string{
		"-L -p tcp --sport 1 --dport 2 --state ESTABLISHED", "-D -s 10.0.0.0/8 -m 1/3",
		"-G -p icmp -s 1.2.3.4 -d 1.2.3.5 --icmp-type 8 --icmp-code 0", "-L --src-nat [::1]:80",
		"-L -u UNREPLIED,!ASSURED -o extended", "-F expect", "-Lp tcp", "--dump=expect", "-h -p 17",
		"-L -s 10.0.0.1 --mask-src 255.0.0.0", "-n 1.2.3.4:5 -L",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	good := "iptwin-conntrack 1\ntable seed=0x2a next-id=3 last-gc=-\n" +
		"conn id=1 zone=0 proto=17 orig=ipv4,10.0.0.2,5353,192.0.2.9,53 reply=ipv4,192.0.2.9,53,192.0.2.1,5353 status=0x1b8 mark=0 labels=0x0,0x0 expires=7500 dir=orig acct=- masq-dev=0 nat-src=0 udp-stream=500\n"
	f.Fuzz(func(t *testing.T, args string, damaged bool) {
		dir := t.TempDir()
		file := good
		if damaged {
			file = good[:len(good)/2]
		}
		os.WriteFile(filepath.Join(dir, "conntrack"), []byte(file), 0o600)
		var out, errb bytes.Buffer
		argv := append([]string{"conntrack", "--state", dir}, strings.Split(args, " ")...)
		rc := cli.Main(argv, strings.NewReader(""), &out, &errb)
		if rc != 0 && errb.Len() == 0 {
			t.Fatalf("conntrack %s: exit %d without a word", args, rc)
		}
	})
}
