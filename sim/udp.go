package sim

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// udp sends one datagram from a connected UDP socket (as nc -u does):
//
//	udp [-s SRC] [-p SPORT] [-n BYTES] HOST PORT
//
// An ICMP error about it reaches the socket (a connected socket's
// ECONNREFUSED, EHOSTUNREACH …); a datagram back is read and counted.
type udpApp struct {
	n       *Network
	sh      *simHost
	name    string // the program ("udp", "nc")
	target  string
	dst     netip.Addr
	port    uint16
	src     netip.Addr
	sport   uint16
	size    int
	result  string
	replies int
	sock    stack.Socket
	open    bool
}

func (n *Network) newUDP(sh *simHost, args []string) app {
	a := &udpApp{n: n, sh: sh, name: "udp", size: 32}
	var pos []string
	for i := 0; i < len(args); i++ {
		w := args[i]
		if len(w) != 2 || w[0] != '-' || w[1] == '-' {
			pos = append(pos, w)
			continue
		}
		if i+1 >= len(args) {
			return n.failApp(fmt.Sprintf("udp: option %s needs a value", w), 2)
		}
		i++
		v := args[i]
		switch w[1] {
		case 's':
			ad, err := netip.ParseAddr(v)
			if err != nil {
				return n.failApp(fmt.Sprintf("udp: %s: not an address", v), 2)
			}
			a.src = ad
		case 'p':
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil || p == 0 {
				return n.failApp(fmt.Sprintf("udp: %s: not a port", v), 2)
			}
			a.sport = uint16(p)
		case 'n':
			s, err := strconv.Atoi(v)
			if err != nil || s < 0 || s > 65507 {
				return n.failApp(fmt.Sprintf("udp: %s: not a size (0 to 65507)", v), 2)
			}
			a.size = s
		default:
			return n.failApp(fmt.Sprintf("udp: unknown option %s (want -s SRC, -p SPORT, -n BYTES)", w), 2)
		}
	}
	if len(pos) != 2 {
		return n.failApp("usage: udp [-s SRC] [-p SPORT] [-n BYTES] HOST PORT", 2)
	}
	p, err := strconv.ParseUint(pos[1], 10, 16)
	if err != nil || p == 0 {
		return n.failApp(fmt.Sprintf("udp: %s: not a port", pos[1]), 2)
	}
	a.target, a.port = pos[0], uint16(p)
	dst, err := sh.resolve(pos[0], false)
	if err != nil {
		return n.failApp(fmt.Sprintf("udp: %s: %v", pos[0], err), 2)
	}
	a.dst = dst
	return a
}

func (a *udpApp) start() {
	n, sh := a.n, a.sh
	if a.target == "" {
		a.target = a.dst.String()
	}
	if a.src.IsValid() {
		if sh.h.AddrType(a.src) != 2 {
			a.fail("error", "Cannot assign requested address")
			return
		}
	} else {
		_, src, err := sh.h.Net.Lookup(a.dst, netip.Addr{}, "", "", 0)
		if err != nil {
			a.fail("unreachable", "Network is unreachable")
			return
		}
		a.src = src
	}
	if a.sport == 0 {
		a.sport = sh.ephemeralPort()
	}
	k := flowKey{a.src, a.dst, a.sport, a.port}
	if sh.udps[k] != nil {
		a.fail("error", "Address already in use")
		return
	}
	sh.udps[k] = a
	a.sock = stack.Socket{Proto: packet.ProtoUDP, Addr: a.src, Port: a.sport}
	sh.appSockets = append(sh.appSockets, a.sock)
	sh.syncSockets()
	a.open = true

	var h packet.Headers
	h.Proto = packet.ProtoUDP
	h.UDP = packet.UDP{SrcPort: a.sport, DstPort: a.port}
	h.Payload = make([]byte, a.size)
	if a.dst.Is4() {
		h.Layers = packet.LayerIPv4 | packet.LayerUDP
		h.IPv4 = packet.IPv4{IHL: 5, TTL: sh.defaultTTL(a.dst, ""), ID: sh.rnd.u16(), Src: a.src, Dst: a.dst}
	} else {
		h.Layers = packet.LayerIPv6 | packet.LayerUDP
		h.IPv6 = packet.IPv6{HopLimit: sh.defaultTTL(a.dst, ""), Src: a.src, Dst: a.dst}
		if sh.h.Net.Sysctl["net.ipv6.auto_flowlabels"] != "0" {
			h.IPv6.FlowLabel = sh.rnd.u32() & 0xfffff
		}
	}
	ip, err := h.Append(nil, packet.FixAll)
	sh.h.Now = n.now
	// DF when the datagram fits the route's (or IPsec bundle's) MTU
	if err == nil && a.dst.Is4() && a.size+28 <= sh.pathMTU(ip, a.dst, "") {
		h.IPv4.Flags = packet.IPv4DF
		ip, err = h.Append(ip[:0], packet.FixAll)
	}
	if err != nil {
		a.fail("error", err.Error())
		return
	}
	res, err := sh.h.Send(ip, &a.sock)
	if err != nil {
		a.fail("error", err.Error())
		return
	}
	if res.SendErr != "" && a.name == "udp" {
		// send() on the connected socket returns the error (EPERM when
		// an OUTPUT rule dropped it); nc -u says nothing (measured).
		a.result = "error"
		n.out(fmt.Sprintf("udp: send: %s", capitalize(res.SendErr)))
		return
	}
	a.result = "sent"
	if a.name == "udp" {
		n.out(fmt.Sprintf("udp: %d bytes to %s port %d", a.size, a.target, a.port))
	}
}

// datagram is a datagram back on the socket.
func (a *udpApp) datagram(p *packet.Packet) {
	a.replies++
	if a.result == "sent" {
		a.result = "answered"
	}
	a.n.out(fmt.Sprintf("%s: %d bytes from %s port %d", a.name, len(p.Payload), p.Src(), p.UDP.SrcPort))
}

// icmpError: the connected socket's error (__udp4_lib_err).
func (a *udpApp) icmpError(p *packet.Packet) {
	errno, fatal := icmpErrno(p)
	if !fatal || a.result != "sent" {
		return
	}
	res := "unreachable"
	if errno == eRefused {
		res = "refused"
	}
	a.fail(res, errno)
}

func (a *udpApp) fail(result, errno string) {
	a.result = result
	a.n.out(fmt.Sprintf("%s: %s port %d: %s", a.name, a.target, a.port, errno))
}

func (a *udpApp) done() bool { return true }

// finish closes the socket.
func (a *udpApp) finish() {
	if !a.open {
		return
	}
	a.open = false
	sh := a.sh
	delete(sh.udps, flowKey{a.src, a.dst, a.sport, a.port})
	for i, sk := range sh.appSockets {
		if sk == a.sock {
			sh.appSockets = append(sh.appSockets[:i], sh.appSockets[i+1:]...)
			break
		}
	}
	sh.syncSockets()
	delete(sh.ports, a.sport)
}

func (a *udpApp) outcome() string { return a.result }
