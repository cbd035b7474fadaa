package sim

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iptwin/iptwin/packet"
)

// app is what a step runs on a host: it starts at the step's time, is
// done when it would exit, and then finishes (prints its summary).
type app interface {
	start()
	done() bool
	finish()
	outcome() string
}

// The applications a step may run, beside iptwin's own tools.
var appNames = map[string]bool{
	"ping": true, "ping6": true, "ssh": true, "nc": true, "netcat": true, "connect": true,
	"udp": true, "raw": true, "trace": true, "listen": true,
}

// appSpec is a step's command, split.
type appSpec struct {
	name  string
	args  []string // after the name
	rest  string   // the text after the name (raw, trace)
	stdin string   // "< FILE" of a tool command
}

// parseApp checks a step's command and splits it (at parse time, so a
// mistake is reported before anything runs).
func parseApp(cmd string) (*appSpec, error) {
	words, err := splitWords(cmd)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(cmd)
	// sudo runs the command as it is (the twin has no users to switch).
	for len(words) > 0 && words[0] == "sudo" {
		words = words[1:]
		text = strings.TrimSpace(strings.TrimPrefix(text, "sudo"))
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	s := &appSpec{name: words[0], args: words[1:]}
	s.rest = strings.TrimSpace(strings.TrimPrefix(text, words[0]))
	switch {
	case appNames[s.name]:
		if s.name == "raw" || s.name == "trace" {
			if s.rest == "" {
				return nil, fmt.Errorf("%s: give a packet, e.g. \"%s tcp 10.0.0.1:1234 > 10.0.0.2:22 syn in eth0\"", s.name, s.name)
			}
			if _, err := parseRawSpec(s.rest); err != nil {
				return nil, err
			}
		}
		if s.name == "listen" {
			if _, err := parseListen(s.args); err != nil {
				return nil, err
			}
		}
		return s, nil
	case programs[s.name] != nil:
		return s, nil
	case s.name == "bash" || s.name == "sh":
		if len(s.args) != 1 {
			return nil, fmt.Errorf("%s: give one script of the topology's directory (%s FILE)", s.name, s.name)
		}
		return s, nil
	case isTool(s.name):
		rest, in, err := redirect(s.args)
		if err != nil {
			return nil, err
		}
		s.args, s.stdin = rest, in
		return s, nil
	}
	return nil, fmt.Errorf("%s: unknown command (a step runs ping, ssh, nc, connect, udp, raw, trace, listen, bash FILE, or one of %s)",
		s.name, strings.Join(DefaultTools, ", "))
}

func isTool(name string) bool {
	for _, t := range DefaultTools {
		if t == name {
			return true
		}
	}
	return false
}

// newApp makes the application of a step.
func (n *Network) newApp(sh *simHost, s *appSpec) app {
	switch s.name {
	case "ping":
		return n.newPing(sh, s.args, false)
	case "ping6":
		return n.newPing(sh, s.args, true)
	case "ssh":
		return n.newSSH(sh, s.args)
	case "nc", "netcat":
		return n.newNC(sh, s.args, false)
	case "connect":
		return n.newNC(sh, s.args, true)
	case "udp":
		return n.newUDP(sh, s.args)
	case "raw":
		return n.newRaw(sh, s.rest, false)
	case "trace":
		return n.newRaw(sh, s.rest, true)
	case "listen":
		return n.newListen(sh, s.args)
	case "bash", "sh":
		return n.newScriptApp(sh, s)
	}
	if fn := programs[s.name]; fn != nil {
		p, err := fn(sh.env(), s.args)
		if err != nil {
			return n.failApp(err.Error(), 1)
		}
		return programApp{p}
	}
	return n.newToolApp(sh, s)
}

// doneApp is an application that ran at once (or failed to start).
type doneApp struct {
	res string
}

func (a *doneApp) start()          {}
func (a *doneApp) done() bool      { return true }
func (a *doneApp) finish()         {}
func (a *doneApp) outcome() string { return a.res }

// failApp prints an error and ends the step with outcome "error".
func (n *Network) failApp(msg string, rc int) app {
	n.out(msg)
	return &doneApp{res: "error"}
}

// deliver is a host's Deliver callback: packets its applications read.
// It reports whether an application socket took the packet, so that the
// stack does not answer it as well.
func (n *Network) deliver(sh *simHost, in string, p *packet.Packet) bool {
	switch {
	case p.Layers&packet.LayerICMPv6 != 0 && (p.ICMP.Type == 135 || p.ICMP.Type == 136):
		n.ndInput(sh, in, p)
	case p.Layers&(packet.LayerICMPv4|packet.LayerICMPv6) != 0:
		v6 := p.IsIPv6()
		if p.ICMP.IsError(v6) {
			n.deliverError(sh, p)
			return false
		}
		if p.ICMP.Type == packet.ICMPEchoReply && !v6 || p.ICMP.Type == packet.ICMPv6EchoReply && v6 {
			if a := sh.pings[p.ICMP.ID()]; a != nil {
				a.reply(p)
			}
		}
	case p.Layers&packet.LayerTCP != 0:
		k := flowKey{p.Dst(), p.Src(), p.TCP.DstPort, p.TCP.SrcPort}
		if c := sh.tcps[k]; c != nil {
			c.segment(p)
			// The connection is the application's: the stack must not
			// answer it with a reset.
			return true
		}
	case p.Layers&packet.LayerUDP != 0:
		if a := sh.udps[flowKey{p.Dst(), p.Src(), p.UDP.DstPort, p.UDP.SrcPort}]; a != nil {
			a.datagram(p)
			return true
		}
		if fn := sh.udpHandlers[p.UDP.DstPort]; fn != nil {
			fn(p)
			return true
		}
		if sk := sh.listening(packet.ProtoUDP, p.Dst(), p.UDP.DstPort); sk {
			n.out(fmt.Sprintf("[%s] %d bytes from %s to %s on udp port %d", sh.name, int(p.UDP.Length)-8,
				netip.AddrPortFrom(p.Src(), p.UDP.SrcPort), p.Dst(), p.UDP.DstPort))
		}
	}
	return false
}

// deliverError gives an ICMP error to the application whose packet it
// quotes.
func (n *Network) deliverError(sh *simHost, p *packet.Packet) {
	if p.Layers&packet.LayerInner == 0 {
		return
	}
	in := &p.Inner
	switch {
	case in.Layers&(packet.LayerICMPv4|packet.LayerICMPv6) != 0:
		if in.ICMP.Type == packet.ICMPEcho || in.ICMP.Type == packet.ICMPv6EchoRequest {
			if a := sh.pings[in.ICMP.ID()]; a != nil {
				sh.h.LearnPMTU(p)
				a.reply(p)
			}
		}
	case in.Layers&packet.LayerTCP != 0:
		if c := sh.tcps[flowKey{in.Src(), in.Dst(), in.TCP.SrcPort, in.TCP.DstPort}]; c != nil {
			sh.h.LearnPMTU(p)
			c.icmpError(p)
		}
	case in.Layers&packet.LayerUDP != 0:
		if a := sh.udps[flowKey{in.Src(), in.Dst(), in.UDP.SrcPort, in.UDP.DstPort}]; a != nil {
			sh.h.LearnPMTU(p)
			a.icmpError(p)
		} else if sh.udpHandlers[in.UDP.SrcPort] != nil {
			// a daemon's socket (charon's): the kernel's udp_err updates
			// its path MTU all the same
			sh.h.LearnPMTU(p)
		}
	}
}

// listening: a socket of the host takes proto/addr/port.
func (sh *simHost) listening(proto uint8, addr netip.Addr, port uint16) bool {
	for _, sk := range sh.h.Sockets {
		if sk.Proto != proto || sk.Port != port {
			continue
		}
		if !sk.Addr.IsValid() || sk.Addr.IsUnspecified() && sk.Addr.Is4() == addr.Is4() || sk.Addr == addr {
			return true
		}
	}
	return false
}

var errNoName = errors.New("Name or service not known")

// resolve is getaddrinfo on the host: an address, or a name of its hosts
// file.
func (sh *simHost) resolve(name string, v6 bool) (netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a.Unmap(), nil
	}
	if a, ok := sh.hostsFile[name]; ok {
		return a, nil
	}
	return netip.Addr{}, errNoName
}

// parseHostsFile reads hosts(5) text: the first address of a name wins.
func parseHostsFile(text string) map[string]netip.Addr {
	m := map[string]netip.Addr{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, name := range f[1:] {
			if _, ok := m[name]; !ok {
				m[name] = a
			}
		}
	}
	return m
}

// routeMTU is the MTU of the device the route to dst leaves by.
func (sh *simHost) routeMTU(dst netip.Addr, oif string) int {
	r, _, err := sh.h.Net.Lookup(dst, netip.Addr{}, "", oif, 0)
	if err != nil {
		return 1500
	}
	if l := sh.h.Net.LinkByIndex(r.Dev); l != nil {
		return l.MTU
	}
	return 1500
}

// pathMTU is the MTU a socket sending ip to dst sees: the route's, or
// the IPsec bundle's when a policy applies (stack.Host.RouteMTU).
func (sh *simHost) pathMTU(ip []byte, dst netip.Addr, oif string) int {
	if m := sh.h.RouteMTU(ip, oif, nil); m > 0 {
		return m
	}
	return sh.routeMTU(dst, oif)
}

// defaultTTL is the TTL (IPv4: ip_default_ttl) or hop limit (IPv6: the
// output device's hop_limit, ip6_dst_hoplimit) of a packet the host
// sends to dst.
func (sh *simHost) defaultTTL(dst netip.Addr, oif string) uint8 {
	sc := sh.h.Net.Sysctl
	v := sc["net.ipv4.ip_default_ttl"]
	if !dst.Is4() {
		v = sc["net.ipv6.conf.all.hop_limit"]
		if r, _, err := sh.h.Net.Lookup(dst, netip.Addr{}, "", oif, 0); err == nil {
			if l := sh.h.Net.LinkByIndex(r.Dev); l != nil {
				if d, ok := sc["net.ipv6.conf."+l.Name+".hop_limit"]; ok {
					v = d
				}
			}
		}
	}
	if t, ok := atoi(v); ok && t > 0 && t < 256 {
		return uint8(t)
	}
	return 64
}

// ephemeralPort picks a free local port in ip_local_port_range as
// connect() does, from the host's seeded randomness.
func (sh *simHost) ephemeralPort() uint16 {
	lo, hi := 32768, 60999
	if f := strings.Fields(sh.h.Net.Sysctl["net.ipv4.ip_local_port_range"]); len(f) == 2 {
		if a, err := strconv.Atoi(f[0]); err == nil {
			if b, err := strconv.Atoi(f[1]); err == nil && a > 0 && b >= a && b < 65536 {
				lo, hi = a, b
			}
		}
	}
	span := hi - lo + 1
	start := int(sh.rnd.u32() % uint32(span))
	for i := 0; i < span; i++ {
		p := uint16(lo + (start+i)%span)
		if !sh.ports[p] {
			sh.ports[p] = true
			return p
		}
	}
	return 0
}
