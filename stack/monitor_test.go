package stack_test

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"

	"bytes"
	"flag"
	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/pktspec"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/state"
	"github.com/iptwin/iptwin/xtables"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iptwin/iptwin/internal/kernelref"
)

// monitorPrefix names the kernel runner's namespaces while recording:
// iptw-mon-k-h is the host, iptw-mon-k-pN its peers.
const monitorPrefix = "iptw-mon-k"

// recordMonitor runs a scenario in the real kernel (internal/kernelref's
// runner) with xtables-monitor --trace listening in the host namespace,
// and returns what it printed.
func recordMonitor(t *testing.T, s *kernelref.Scenario) string {
	t.Helper()
	ns := monitorPrefix + "-h"
	dropNamespaces := func() {
		for _, n := range []string{ns, monitorPrefix + "-p0", monitorPrefix + "-p1", monitorPrefix + "-p2"} {
			exec.Command("ip", "netns", "del", n).Run()
		}
	}
	dropNamespaces()
	defer dropNamespaces()

	// The runner makes the host namespace, sets it up (at least 100 ms
	// until it is quiet) and only then sends the packets: the monitor is
	// started as soon as the namespace exists.
	var (
		mu   sync.Mutex
		cmd  *exec.Cmd
		out  bytes.Buffer
		errb bytes.Buffer
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := os.Stat("/run/netns/" + ns); err == nil {
				c := exec.Command("ip", "netns", "exec", ns, "xtables-monitor", "--trace")
				c.Stdout, c.Stderr = &out, &errb
				if c.Start() == nil {
					time.Sleep(20 * time.Millisecond)
					if c.ProcessState == nil && processAlive(c.Process.Pid) {
						mu.Lock()
						cmd = c
						mu.Unlock()
						return
					}
					c.Wait()
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	k := &kernelref.Kernel{Prefix: monitorPrefix}
	_, err := k.Run(s)
	close(stop)
	<-done
	mu.Lock()
	c := cmd
	mu.Unlock()
	if c == nil {
		t.Fatalf("%s: xtables-monitor did not start (run error: %v)", s.Name, err)
	}
	time.Sleep(200 * time.Millisecond)
	exited := !processAlive(c.Process.Pid)
	c.Process.Kill()
	c.Wait()
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	// A monitor that stopped by itself (it exits on a rule it cannot
	// read) has its error output and status recorded, as the transcript
	// goldens do.
	got := out.String()
	if errb.Len() > 0 || exited {
		if got != "" && !strings.HasSuffix(got, "\n") {
			got += "\n"
		}
		for _, l := range strings.SplitAfter(errb.String(), "\n") {
			if l != "" {
				got += "! " + l
			}
		}
		if exited {
			got += "[exit " + strconv.Itoa(c.ProcessState.ExitCode()) + "]\n"
		}
	}
	return got
}

func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

var recordMonitorFlag = flag.Bool("record-monitor", false, "record testdata/monitor/*.golden from the real xtables-monitor (root; see testdata/monitor/record.sh)")

func monitorScenarios(t *testing.T) []*kernelref.Scenario {
	t.Helper()
	files, err := filepath.Glob("testdata/monitor/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata/monitor: %v", err)
	}
	var out []*kernelref.Scenario
	for _, f := range files {
		s, err := kernelref.LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestMonitorRecord(t *testing.T) {
	if !*recordMonitorFlag {
		t.Skip("records only with -record-monitor")
	}
	if why := kernelref.KernelAvailable(); why != "" {
		t.Skip(why)
	}
	if _, err := exec.LookPath("xtables-monitor"); err != nil {
		t.Skip("no xtables-monitor")
	}
	for _, s := range monitorScenarios(t) {
		got := recordMonitor(t, s)
		if err := os.WriteFile(filepath.Join("testdata/monitor", s.Name+".golden"), []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// twinMonitor runs a scenario through a twin host built as
// internal/kernelref's twin runner builds it, with a Monitor attached, and
// returns what the Monitor writes, in the golden form.
func twinMonitor(t *testing.T, s *kernelref.Scenario) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args []string, stdin string) {
		t.Helper()
		var out, errb bytes.Buffer
		argv := append([]string{"iptwin", "--state", dir}, args...)
		if rc := cli.Main(argv, strings.NewReader(stdin), &out, &errb); rc != 0 {
			t.Fatalf("%s: %s: exit %d: %s", s.Name, strings.Join(args, " "), rc, errb.String())
		}
	}
	run([]string{"ip", "link", "set", "lo", "up"}, "")
	peers := map[string][6]byte{}
	macs := map[string][6]byte{}
	for _, ifc := range s.Ifaces {
		peers[ifc.Name], macs[ifc.Name] = ifc.PeerMAC, ifc.MAC
		m := ifc.MAC
		run([]string{"ip", "link", "add", ifc.Name, "type", "dummy"}, "")
		run([]string{"ip", "link", "set", ifc.Name, "address", fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])}, "")
		run([]string{"ip", "link", "set", ifc.Name, "up"}, "")
	}
	for _, c := range s.Setup {
		run(c.Args, c.Stdin)
	}
	d, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := stack.Load(d, "twin", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Every next hop on an interface is its peer (the kernel runner has
	// permanent neighbour entries for the scenario's addresses).
	h.Neigh = func(dev string, _ netip.Addr) ([6]byte, bool) {
		m, ok := peers[dev]
		return m, ok
	}
	for _, l := range s.Listen {
		h.Sockets = append(h.Sockets, stack.Socket{Proto: l.Proto, Addr: l.Addr, Port: l.Port})
	}
	m := stack.NewMonitor(d.Names())
	var out bytes.Buffer
	for _, p := range s.Packets {
		if len(p.Run) > 0 {
			t.Fatalf("%s:%d: run lines between packets are not supported here", s.Name, p.Line)
		}
		ip, err := p.Spec.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := stack.NewTrace(d.Names())
		h.Obs = m.Attach(h, tr)
		if p.Spec.Dir == pktspec.DirOut {
			tr.Start("output", "", ip)
			res, err := h.Send(ip, &stack.Socket{})
			if err != nil {
				t.Fatal(err)
			}
			tr.Finish(res)
		} else {
			dst, src := macs[p.Spec.Iface], peers[p.Spec.Iface]
			if p.Spec.HasMAC {
				dst, src = p.Spec.DstMAC, p.Spec.SrcMAC
			}
			frame := append(append(append([]byte{}, dst[:]...), src[:]...), 0x08, 0x00)
			if p.Spec.IsIPv6() {
				frame[12], frame[13] = 0x86, 0xdd
			}
			frame = append(frame, ip...)
			tr.Start("input", p.Spec.Iface, ip)
			res, err := h.Receive(p.Spec.Iface, frame)
			if err != nil {
				t.Fatal(err)
			}
			tr.Finish(res)
		}
		h.Obs = nil
		err = m.WriteTrace(&out, tr)
		var exit *stack.MonitorExit
		if errors.As(err, &exit) {
			if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
				out.WriteByte('\n')
			}
			for _, l := range strings.SplitAfter(exit.Stderr, "\n") {
				if l != "" {
					out.WriteString("! " + l)
				}
			}
			fmt.Fprintf(&out, "[exit %d]\n", exit.Code)
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

var (
	traceIDRe = regexp.MustCompile(`^(PACKET: \d+ | TRACE: \d+ )([0-9a-f]{8})`)
	ipIDRe    = regexp.MustCompile(` ID=(\d+) `)
)

// normalizeMonitor replaces the trace ids, which the kernel draws from
// the skb's address, by their order of appearance, and the IPv4 ids the
// kernel chose (ip_select_ident) for packets it generated by "*": those
// neither 0 nor one of the scenario's packets.
func normalizeMonitor(s *kernelref.Scenario, text string) string {
	ids := map[string]string{}
	injected := map[string]bool{"0": true}
	for _, p := range s.Packets {
		injected[fmt.Sprint(p.Spec.IPID)] = true
	}
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if m := traceIDRe.FindStringSubmatch(l); m != nil {
			n, ok := ids[m[2]]
			if !ok {
				n = fmt.Sprintf("id%06d", len(ids)+1)
				ids[m[2]] = n
			}
			l = m[1] + n + l[len(m[0]):]
		}
		l = ipIDRe.ReplaceAllStringFunc(l, func(f string) string {
			if injected[strings.TrimSpace(f)[3:]] {
				return f
			}
			return " ID=* "
		})
		lines[i] = l
	}
	return strings.Join(lines, "")
}

// knownTwinGaps are scenarios where the twin's packet path (not the
// Monitor) still differs from the kernel.
var knownTwinGaps = map[string]string{}

// TestMonitorGolden renders each scenario of testdata/monitor through the
// twin with a Monitor attached and compares with what the real
// xtables-monitor --trace printed (testdata/monitor/*.golden, recorded by
// testdata/monitor/record.sh).
func TestMonitorGolden(t *testing.T) {
	for _, s := range monitorScenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata/monitor", s.Name+".golden"))
			if err != nil {
				t.Fatalf("%v (record it as root: stack/testdata/monitor/record.sh)", err)
			}
			got := normalizeMonitor(s, twinMonitor(t, s))
			if w := normalizeMonitor(s, string(want)); got != w {
				if why, ok := knownTwinGaps[s.Name]; ok {
					t.Skipf("known gap of the twin's path, not of the Monitor: %s\n%s", why, lineDiff(w, got))
				}
				t.Errorf("%s differs from the real xtables-monitor:\n%s", s.Name, lineDiff(w, got))
			}
		})
	}
}

// lineDiff shows the first differing lines of want and got.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n  kernel: %q\n  twin:   %q\n", i+1, w, g)
			if shown++; shown == 8 {
				b.WriteString("  ...\n")
				break
			}
		}
	}
	return b.String()
}

// TestMonitorIPv6RuleText: how xtables-monitor 1.8.9 reads IPv6 rules
// back with IPv4's extensions (measured with the real tool: ranges vanish,
// each port or flags compare fails, REJECT prints IPv4 names, IPv6-only
// extensions are not found).
func TestMonitorIPv6RuleText(t *testing.T) {
	const fail = "xtables-monitor v1.8.9 (nf_tables): Parsing nftables rule failed\nPerhaps xtables-monitor or your kernel needs to be upgraded."
	l4 := "Error: unsupported layer 4 protocol value\n"
	cases := []struct{ rule, text, errs string }{
		{"-p tcp --dport 1000:2000 -j ACCEPT", "-A INPUT -p tcp -j ACCEPT", ""},
		{"-p tcp --dport :2000 -j ACCEPT", "", l4},
		{"-p tcp --dport 22 -j ACCEPT", "", l4},
		{"-p udp --sport 1 --dport 1500 -j ACCEPT", "", l4},
		{"-p tcp ! --sport 2 --dport 1500 -j ACCEPT", "", l4 + l4},
		{"-p tcp --syn -j ACCEPT", "", l4},
		{"-p tcp ! --tcp-option 2 -j ACCEPT", "-A INPUT -p tcp -m tcp ! --tcp-option 2 -j ACCEPT", ""},
		{"-p tcp -m tcp -j ACCEPT", "-A INPUT -p tcp -m tcp -j ACCEPT", ""},
		{"-j REJECT --reject-with icmp6-no-route", "-A INPUT -j REJECT --reject-with icmp-net-unreachable", ""},
		{"-j REJECT", "-A INPUT -j REJECT --reject-with (null)", ""},
		{"-p ipv6-icmp --icmpv6-type 128 -j ACCEPT", "", "Error: match extension not found\n"},
		{"-m hl --hl-eq 64 -j ACCEPT", "", "Error: match extension not found\n"},
		{"-m comment --comment hi -j ACCEPT", "-A INPUT -m comment --comment hi -j ACCEPT", ""},
	}
	var lines []string
	for _, c := range cases {
		lines = append(lines, "ip6tables -A INPUT "+c.rule)
	}
	h := newHost(t, append(basic, lines...)...)
	m := stack.NewMonitor(nil)
	in := h.Rules[1].Table("filter").Chain("INPUT")
	for i, c := range cases {
		text, errs := m.RuleText(xtables.IPv6, "filter", in, in.Rules[i])
		want := c.errs
		if want != "" {
			want += fail
		}
		if text != c.text || strings.Join(errs, "\n") != want {
			t.Errorf("%s: got %q %q, want %q %q", c.rule, text, errs, c.text, want)
		}
	}
	// IPv4 rules are read with their own extensions.
	h4 := newHost(t, append(basic, "iptables -A INPUT -p tcp --dport 22 -j REJECT")...)
	in4 := h4.Rules[0].Table("filter").Chain("INPUT")
	if text, errs := m.RuleText(xtables.IPv4, "filter", in4, in4.Rules[0]); text != "-A INPUT -p tcp -m tcp --dport 22 -j REJECT --reject-with icmp-port-unreachable" || errs != nil {
		t.Errorf("IPv4: %q %q", text, errs)
	}
}

// TestRestoreHandle checks the numbering of a fresh iptables-restore
// against the handles the kernel gave basic.scn's rules (its golden):
// chains in save order first, then the rules chain after chain.
func TestRestoreHandle(t *testing.T) {
	h := newHost(t, append(basic,
		// Created in another order than iptables-save lists them.
		"iptables -N ck", "iptables -A ck -p tcp --dport 22 -j RETURN",
		"iptables -A FORWARD -p udp -j ACCEPT",
		"iptables -A INPUT -p tcp -j ck",
		"iptables -A ck -p tcp --dport 23 -j REJECT --reject-with tcp-reset",
		"iptables -A INPUT -p icmp -j LOG --log-prefix x",
		"iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE",
	)...)
	filter, nat := h.Rules[0].Table("filter"), h.Rules[0].Table("nat")
	for _, c := range []struct {
		t     *xtables.Table
		chain string
		num   int
		want  uint64
	}{
		{filter, "INPUT", 1, 5}, {filter, "INPUT", 2, 6}, {filter, "FORWARD", 1, 7},
		{filter, "ck", 1, 8}, {filter, "ck", 2, 9}, {nat, "POSTROUTING", 1, 5},
	} {
		if got := stack.RestoreHandle(c.t, c.t.Chain(c.chain), c.num); got != c.want {
			t.Errorf("%s %s #%d: handle %d, want %d", c.t.Name, c.chain, c.num, got, c.want)
		}
	}
}

// TestMonitorPacketLine renders constructed events: what the kernel and
// xtables-monitor do with headers the scenarios do not reach.
func TestMonitorPacketLine(t *testing.T) {
	ip := func(spec string) []byte {
		b, err := pktspec.MustParse(spec).Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mac := []byte{0x02, 0, 0, 0, 0, 0x01, 0x8a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x08, 0x00}
	long := ip("udp 10.0.0.2:1 > 10.0.0.1:2 ipopts 01010101010101010101010101010101010101019404000001010100")
	frag6 := ip("udp [2001:db8::2]:1 > [2001:db8::1]:2 payload 40 fragid 7 off 16")
	cases := []struct {
		name string
		ev   stack.MonitorEvent
		want string
	}{
		{"no in device: LL= in hex, signed", stack.MonitorEvent{Family: xtables.IPv4, Packet: stack.MonitorPacket{Out: "eth1", LL: mac, IP: ip("icmp 10.0.0.2 > 10.0.0.1")}},
			"PACKET: 2 00000001 OUT=eth1 LL=0x0 020000000001ffffff8affffffbcffffffdefffffff012340800 SRC=10.0.0.2 DST=10.0.0.1 LEN=28 TOS=0x0 TTL=64 ID=0 \n"},
		{"options cut at the 40-byte network header", stack.MonitorEvent{Family: xtables.IPv4, Packet: stack.MonitorPacket{In: "lo", InType: 772, LL: make([]byte, 14), IP: long, Mark: 0x10}},
			"PACKET: 2 00000001 IN=lo LOOPBACK SRC=10.0.0.2 DST=10.0.0.1 LEN=56 TOS=0x0 TTL=64 ID=0 OPT (0101010101010101010101010101010101010101) SPORT=1 DPORT=2 MARK=0x10 \n"},
		{"IPv6 later fragment: no network header", stack.MonitorEvent{Family: xtables.IPv6, Packet: stack.MonitorPacket{In: "eth0", InType: 1, LL: mac, IP: frag6}},
			"PACKET: 10 00000001 IN=eth0 MACSRC=8a:bc:de:f0:12:34 MACDST=2:0:0:0:0:1 MACPROTO=0800 \n"},
		{"IPv6 address with an IPv4 tail, UDP-Lite", stack.MonitorEvent{Family: xtables.IPv6, Packet: stack.MonitorPacket{Out: "eth0", IP: ip("ip6 ::1.2.3.4 > 2001:db8::1 proto 136 data 0007000900000000")}},
			"PACKET: 10 00000001 OUT=eth0 SRC=::1.2.3.4 DST=2001:db8::1 LEN=28 TC=0 HOPLIMIT=64 FLOWLBL=0 SPORT=7 DPORT=9 \n"},
	}
	for _, c := range cases {
		m := stack.NewMonitor(nil)
		m.ID = func(n int) uint32 { return uint32(n + 1) }
		tr := stack.NewTrace(nil)
		tr.Start("input", "eth0", c.ev.Packet.IP)
		c.ev.Kind, c.ev.Packet.Trace, c.ev.Verdict = stack.MonitorEnd, true, 0xffffffff
		m.Record(tr.Packets[0], c.ev)
		var b bytes.Buffer
		if err := m.WriteTrace(&b, tr); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, b.String(), c.want)
		}
	}
}

// TestMonitorNotAttached: a traced run without recorded events is an
// error, not an empty output.
func TestMonitorNotAttached(t *testing.T) {
	h := newHost(t, append(basic, "iptables -t raw -A PREROUTING -j TRACE")...)
	tr := stack.NewTrace(nil)
	h.Obs = tr
	f := frame(t, syn("10.0.0.2", "10.0.0.1", 1, 22))
	tr.Start("input", "eth0", f[14:])
	if _, err := h.Receive("eth0", f); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := stack.NewMonitor(nil).WriteTrace(&b, tr); err == nil || b.Len() != 0 {
		t.Errorf("WriteTrace without Attach: %v, %q", err, b.String())
	}
}
