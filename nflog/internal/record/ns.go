package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
)

// The two namespaces: A plays the wire (it injects frames into B and
// captures what B sends), B is the host whose LOG rules write the lines.
// a0 <-> B's eth0 carries the incoming traffic, a1 <-> B's eth1 is where
// B forwards to.
const (
	nsA = "iptw-log-a"
	nsB = "iptw-log-b"
)

// Link-layer addresses of the four ends (B's eth0 changes per case when
// a case reproduces a seed's MAC= field).
var (
	macA0 = mac("02:00:5e:10:00:a0")
	macA1 = mac("02:00:5e:10:00:a1")
	macB0 = mac("02:00:5e:10:00:b0")
	macB1 = mac("02:00:5e:10:00:b1")
)

func run(name string, args ...string) error {
	return runIn(nil, name, args...)
}

func runIn(stdin []byte, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func nsRun(ns string, args ...string) error {
	return run("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// setup builds the namespaces, links, addresses, routes and static
// neighbours. Addresses are those of the seeds, so that their lines can
// be reproduced as they were logged.
func setup() error {
	teardown()
	steps := [][]string{
		{"ip", "netns", "add", nsA},
		{"ip", "netns", "add", nsB},
		{"ip", "-n", nsA, "link", "add", "a0", "address", hexMAC(macA0), "type", "veth", "peer", "name", "eth0", "netns", nsB, "address", hexMAC(macB0)},
		{"ip", "-n", nsA, "link", "add", "a1", "address", hexMAC(macA1), "type", "veth", "peer", "name", "eth1", "netns", nsB, "address", hexMAC(macB1)},
		// A is a wire: no addresses, no IPv6, so it says nothing itself.
		{"ip", "netns", "exec", nsA, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.a0.disable_ipv6=1", "net.ipv6.conf.a1.disable_ipv6=1"},
		{"ip", "-n", nsA, "link", "set", "a0", "up"},
		{"ip", "-n", nsA, "link", "set", "a1", "up"},
		{"ip", "netns", "exec", nsB, "sysctl", "-qw",
			"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
			"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
			"net.ipv6.conf.eth0.accept_dad=0", "net.ipv6.conf.eth1.accept_dad=0",
			"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.eth0.send_redirects=0",
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
			"net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"},
		{"ip", "-n", nsB, "link", "set", "lo", "up"},
		{"ip", "-n", nsB, "link", "set", "eth0", "up"},
		{"ip", "-n", nsB, "link", "set", "eth1", "up", "mtu", "1280"},
	}
	addrs := []struct{ dev, addr string }{
		{"eth0", "10.0.0.201/24"},
		{"eth0", "10.1.51.165/24"},
		{"eth0", "2001:db8:f:608::2/64"},
		{"eth0", "2001:db8:1::1/64"},
		{"eth1", "192.168.201.1/24"},
		{"eth1", "2001:db8:2::1/64"},
	}
	for _, a := range addrs {
		args := []string{"ip", "-n", nsB, "addr", "add", a.addr, "dev", a.dev}
		if strings.Contains(a.addr, ":") {
			args = append(args, "nodad")
		}
		steps = append(steps, args)
	}
	routes := [][]string{
		{"10.1.77.0/24", "eth0"},
		{"192.168.200.0/24", "eth0"},
		{"2001:db8::/64", "eth0"},
	}
	for _, r := range routes {
		steps = append(steps, []string{"ip", "-n", nsB, "route", "add", r[0], "dev", r[1]})
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	return neighbours()
}

// neighbours installs static neighbour entries: B never asks who its
// peers are. A change of eth0's address flushes them (neigh_changeaddr),
// so they are installed again after one.
func neighbours() error {
	neigh := []struct{ addr, dev string }{
		{"10.0.0.200", "eth0"}, {"10.1.77.146", "eth0"}, {"192.168.200.2", "eth0"},
		{"2001:db8::be6b:d879", "eth0"}, {"2001:db8:1::2", "eth0"},
		{"192.168.201.2", "eth1"}, {"2001:db8:2::2", "eth1"},
	}
	for _, n := range neigh {
		lladdr := macA0
		if n.dev == "eth1" {
			lladdr = macA1
		}
		if err := run("ip", "-n", nsB, "neigh", "replace", n.addr, "lladdr", hexMAC(lladdr), "dev", n.dev, "nud", "permanent"); err != nil {
			return err
		}
	}
	return nil
}

func teardown() {
	for _, ns := range []string{nsA, nsB} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			_ = run("ip", "netns", "del", ns)
		}
	}
}

func hexMAC(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// setnsSyscall is the setns(2) number, which package syscall does not name.
func setnsSyscall() uintptr {
	switch runtime.GOARCH {
	case "amd64":
		return 308
	case "arm64", "riscv64", "loong64":
		return 268
	case "386":
		return 346
	}
	panic("setns: unknown architecture " + runtime.GOARCH)
}

// inNS runs fn on an OS thread that has joined the network namespace ns.
// Sockets fn opens belong to ns for good. The thread is thrown away
// afterwards (the goroutine exits locked), so its namespace and
// credentials never leak into other goroutines.
func inNS(ns string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if _, _, e := syscall.RawSyscall(setnsSyscall(), f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			done <- fmt.Errorf("setns %s: %v", ns, e)
			return
		}
		done <- fn()
	}()
	return <-done
}
