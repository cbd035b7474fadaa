//go:build linux

package kernelref

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/iptwin/iptwin/pktspec"
)

// KernelAvailable says why the kernel runner cannot run here, or "".
func KernelAvailable() string {
	if os.Geteuid() != 0 {
		return "not root: cannot create network namespaces"
	}
	if sysSetns < 0 {
		return "setns syscall number unknown on this architecture"
	}
	for _, tool := range []string{"ip", "iptables", "ip6tables", "conntrack"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "no " + tool + " command"
		}
	}
	out, err := exec.Command("iptables", "-V").Output()
	if err != nil || !bytes.HasPrefix(out, []byte("iptables v1.8.9 (nf_tables)")) {
		return fmt.Sprintf("iptables is %q, not v1.8.9 (nf_tables)", bytes.TrimSpace(out))
	}
	ns := fmt.Sprintf("iptw-ref-%d-probe", os.Getpid())
	if err := ipRun("netns", "add", ns); err != nil {
		return "cannot create a network namespace: " + err.Error()
	}
	ipRun("netns", "del", ns)
	if _, err := os.Stat("/dev/kmsg"); err != nil {
		return "no /dev/kmsg"
	}
	return ""
}

// Kernel runs scenarios against the real kernel, in network namespaces.
type Kernel struct {
	// Idle ends a packet's capture: no frame for this long (default 80 ms).
	Idle time.Duration
	// Prefix names the namespaces (default iptw-ref-PID): PREFIX-h is the
	// host, PREFIX-pN the peer of its N-th interface.
	Prefix string
}

const (
	defaultIdle = 80 * time.Millisecond
	maxSettle   = 3 * time.Second
)

// Sysctls set in the host before its interfaces exist, so that an IPv6
// interface is quiet and usable at once: no duplicate address detection
// (addresses would be tentative, and unusable, for a second or two), no
// router solicitations, and multicast listener reports sent at once
// rather than over the next seconds (the counters are zeroed after
// set-up, so these reports do not show).
var hostSysctls = []string{
	"net.ipv6.conf.all.accept_dad=0",
	"net.ipv6.conf.default.accept_dad=0",
	"net.ipv6.conf.all.router_solicitations=0",
	"net.ipv6.conf.default.router_solicitations=0",
	"net.ipv6.conf.default.mldv2_unsolicited_report_interval=1",
	"net.ipv6.conf.default.mldv1_unsolicited_report_interval=1",
}

// The peers only carry frames: without IPv6 they send nothing on their own.
var peerSysctls = []string{
	"net.ipv6.conf.all.disable_ipv6=1",
	"net.ipv6.conf.default.disable_ipv6=1",
}

type kernelRun struct {
	k      *Kernel
	s      *Scenario
	host   string
	peers  []string
	links  []*link
	frames chan Frame
	stop   chan struct{}
	fds    []int
	raw4   int
	raw6   int
}

// Run builds the scenario's host in namespaces, sends its packets and
// records what the kernel did.
func (k *Kernel) Run(s *Scenario) (*Result, error) {
	unlock, err := lockKmsg()
	if err != nil {
		return nil, fmt.Errorf("kmsg lock: %v", err)
	}
	defer unlock()
	prefix := k.Prefix
	if prefix == "" {
		prefix = fmt.Sprintf("iptw-ref-%d", os.Getpid())
	}
	r := &kernelRun{k: k, s: s, host: prefix + "-h", frames: make(chan Frame, 4096), stop: make(chan struct{}), raw4: -1, raw6: -1}
	for i := range s.Ifaces {
		r.peers = append(r.peers, fmt.Sprintf("%s-p%d", prefix, i))
	}
	r.removeNamespaces() // left by a run that was killed
	defer r.cleanup()
	if err := r.setup(); err != nil {
		return nil, err
	}
	return r.run()
}

func (r *kernelRun) cleanup() {
	if r.stop != nil {
		select {
		case <-r.stop:
		default:
			close(r.stop)
		}
	}
	for _, l := range r.links {
		syscall.Close(l.fd)
	}
	r.links = nil
	for _, fd := range append(r.fds, r.raw4, r.raw6) {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
	r.fds, r.raw4, r.raw6 = nil, -1, -1
	r.removeNamespaces()
}

func (r *kernelRun) removeNamespaces() {
	for _, ns := range append([]string{r.host}, r.peers...) {
		if _, err := os.Stat("/var/run/netns/" + ns); err == nil {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}

func sysctlArgs(kv []string) []string { return append([]string{"sysctl", "-q", "-w"}, kv...) }

// setup makes the host and its peers, runs the set-up commands, opens the
// sockets and neighbour entries, waits for the host's own chatter to end
// and zeroes the counters and the conntrack table.
func (r *kernelRun) setup() error {
	if err := os.WriteFile("/proc/sys/net/netfilter/nf_log_all_netns", []byte("1\n"), 0); err != nil {
		return fmt.Errorf("nf_log_all_netns: %v", err)
	}
	for _, ns := range append([]string{r.host}, r.peers...) {
		if err := ipRun("netns", "add", ns); err != nil {
			return err
		}
	}
	if _, err := nsRun(r.host, "", sysctlArgs(hostSysctls)...); err != nil {
		return err
	}
	for i, ifc := range r.s.Ifaces {
		if _, err := nsRun(r.peers[i], "", sysctlArgs(peerSysctls)...); err != nil {
			return err
		}
		if err := ipRun("-n", r.host, "link", "add", ifc.Name, "address", mac(ifc.MAC), "type", "veth",
			"peer", "name", "peer", "address", mac(ifc.PeerMAC), "netns", r.peers[i]); err != nil {
			return err
		}
		if err := ipRun("-n", r.peers[i], "link", "set", "peer", "up"); err != nil {
			return err
		}
		if err := txChecksumOff(r.host, ifc.Name); err != nil {
			return err
		}
		l, err := openLink(r.peers[i], "peer", ifc)
		if err != nil {
			return err
		}
		r.links = append(r.links, l)
		go l.read(r.frames, r.stop)
		if err := ipRun("-n", r.host, "link", "set", ifc.Name, "up"); err != nil {
			return err
		}
	}
	if err := ipRun("-n", r.host, "link", "set", "lo", "up"); err != nil {
		return err
	}
	for _, c := range r.s.Setup {
		if _, err := nsRun(r.host, c.Stdin, c.Args...); err != nil {
			return fmt.Errorf("%s:%d: %v", r.s.Name, c.Line, err)
		}
	}
	for _, l := range r.s.Listen {
		fds, err := listen(r.host, l)
		r.fds = append(r.fds, fds...)
		if err != nil {
			return err
		}
	}
	var err error
	if r.raw4, err = socketIn(r.host, syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW); err != nil {
		return err
	}
	if r.raw6, err = socketIn(r.host, syscall.AF_INET6, syscall.SOCK_RAW, syscall.IPPROTO_RAW); err != nil {
		return err
	}
	if err := r.neighbours(); err != nil {
		return err
	}
	r.settle(100 * time.Millisecond)
	return r.zero()
}

// neighbours adds a permanent neighbour entry, to the peer's MAC, for the
// next hop of every address the packets carry (the route the host would
// take to it: the gateway or the address itself), and for the scenario's
// neigh lines. Without them the host would ask ARP/NDP and wait.
func (r *kernelRun) neighbours() error {
	type entry struct {
		dev  string
		addr netip.Addr
	}
	seen := map[entry]bool{}
	var list []entry
	add := func(e entry) {
		if !seen[e] && r.s.iface(e.dev) >= 0 {
			seen[e] = true
			list = append(list, e)
		}
	}
	for _, n := range r.s.Neigh {
		add(entry{n.Iface, n.Addr})
	}
	for _, a := range r.s.Addresses() {
		out, err := nsRun(r.host, "", "ip", "-o", "route", "get", a.String())
		if err != nil {
			continue // no route: nothing to resolve
		}
		f := strings.Fields(out)
		if len(f) == 0 || routeTypes[f[0]] {
			continue // the host's own address, or no unicast next hop
		}
		next, dev := a, ""
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "via":
				if g, err := netip.ParseAddr(f[i+1]); err == nil {
					next = g
				}
			case "dev":
				dev = f[i+1]
			}
		}
		add(entry{dev, next})
	}
	for _, e := range list {
		peer := r.s.Ifaces[r.s.iface(e.dev)].PeerMAC
		if err := ipRun("-n", r.host, "neigh", "replace", e.addr.String(), "lladdr", mac(peer), "dev", e.dev, "nud", "permanent"); err != nil {
			return err
		}
	}
	return nil
}

var routeTypes = map[string]bool{"local": true, "broadcast": true, "multicast": true, "unreachable": true,
	"prohibit": true, "blackhole": true, "throw": true, "anycast": true}

// zero clears the counters of every table and the conntrack table, so
// that what the set-up itself sent (IPv6 listener reports) does not count.
func (r *kernelRun) zero() error {
	for _, fam := range []string{"iptables", "ip6tables"} {
		save, err := nsRun(r.host, "", fam+"-save")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(save, "\n") {
			if strings.HasPrefix(l, "*") {
				if _, err := nsRun(r.host, "", fam, "-w", "-t", l[1:], "-Z"); err != nil {
					return err
				}
			}
		}
	}
	nsRun(r.host, "", "conntrack", "-F") // "0 flow entries" is no error
	return nil
}

// settle collects the frames until none came for idle (at most maxSettle).
func (r *kernelRun) settle(idle time.Duration) []Frame {
	var out []Frame
	deadline := time.Now().Add(maxSettle)
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case f := <-r.frames:
			out = append(out, f)
			if time.Now().After(deadline) {
				return out
			}
			if !t.Stop() {
				<-t.C
			}
			t.Reset(idle)
		case <-t.C:
			return out
		}
	}
}

func (r *kernelRun) run() (*Result, error) {
	km, err := openKmsg()
	if err != nil {
		return nil, err
	}
	defer km.close()
	idle := r.k.Idle
	if idle == 0 {
		idle = defaultIdle
	}
	res := &Result{}
	for _, p := range r.s.Packets {
		for _, c := range p.Run {
			if _, err := nsRun(r.host, c.Stdin, c.Args...); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", r.s.Name, c.Line, err)
			}
		}
		sp, ok := res.Resolve(p.Spec)
		if !ok {
			return nil, fmt.Errorf("%s:%d: ack peer+N: the host sent no SYN on this connection", r.s.Name, p.Line)
		}
		ip, err := sp.Append(nil)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", r.s.Name, p.Line, err)
		}
		st := Step{Text: p.Text, Packet: ip}
		if err := r.send(sp, ip); err != nil {
			if sp.Dir != pktspec.DirOut {
				return nil, fmt.Errorf("%s:%d: send: %v", r.s.Name, p.Line, err)
			}
			st.Err = err.Error()
		}
		st.Frames = r.settle(idle)
		st.Logs = km.logLines()
		res.Steps = append(res.Steps, st)
	}
	if res.Save4, err = nsRun(r.host, "", "iptables-save", "-c"); err != nil {
		return nil, err
	}
	if res.Save6, err = nsRun(r.host, "", "ip6tables-save", "-c"); err != nil {
		return nil, err
	}
	for _, fam := range []string{"ipv4", "ipv6"} {
		out, err := nsRun(r.host, "", "conntrack", "-L", "-f", fam)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.TrimSpace(l) != "" {
				res.Conntrack = append(res.Conntrack, l)
			}
		}
	}
	return res, nil
}

// send injects a packet from the peer of its interface, or sends it from
// a raw socket of the host.
func (r *kernelRun) send(sp pktspec.Spec, ip []byte) error {
	if sp.Dir == pktspec.DirOut {
		return sendLocal(r.raw4, r.raw6, ip)
	}
	i := r.s.iface(sp.Iface)
	l := r.links[i]
	src, dst := l.iface.PeerMAC, l.iface.MAC
	if sp.HasMAC {
		src, dst = sp.SrcMAC, sp.DstMAC
	}
	return l.inject(ip, src, dst)
}
