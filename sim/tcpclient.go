package sim

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// A TCP client's connect() as Linux makes it: a SYN with Linux's options
// (MSS, SACK permitted, timestamps, window scale 10: the shift for the
// default tcp_rmem maximum of 32 MiB), retransmitted after
// 1, 2, 4 … s (net.ipv4.tcp_syn_retries, 6: given up after 127 s), the
// ACK that completes the handshake, and the errors connect() returns: a
// RST is "Connection refused"; an ICMP error about the SYN ends it at
// once with its errno (tcp_v4_err / tcp_v6_err in SYN_SENT, errnos from
// icmp_err_convert and icmpv6_err_convert). The connection then stays
// open (nothing is sent on it).

// tcpWScale is the window scale Linux 6.x offers with the default
// net.ipv4.tcp_rmem (4096 131072 33554432): tcp_select_initial_window
// shifts 32 MiB until it fits 16 bits.
const tcpWScale = 10

type tcpClient struct {
	n      *Network
	sh     *simHost
	name   string // the host as given
	dst    netip.Addr
	port   uint16
	src    netip.Addr
	sport  uint16
	oif    string
	limit  int64 // connect timeout (0: the kernel's)
	style  string
	verb   bool // nc -v
	tm     *timer
	isn    uint32
	ipid   uint16
	tsOff  uint32
	mss    int
	tries  int
	result string // "", connected, refused, timeout, unreachable, error
	errno  string
}

// connect errors as strerror spells them.
const (
	eRefused  = "Connection refused"
	eTimedOut = "Connection timed out"
)

func (n *Network) newSSH(sh *simHost, args []string) app {
	c := &tcpClient{n: n, sh: sh, port: 22, style: "ssh", tm: &timer{}}
	withArg := "BbcDEeFIiJLlmOopQRSWw"
	var dest string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if dest != "" {
			break // the remote command
		}
		if len(a) < 2 || a[0] != '-' {
			dest = a
			continue
		}
		opt := a[1]
		val := ""
		if strings.IndexByte(withArg, opt) >= 0 {
			if len(a) > 2 {
				val = a[2:]
			} else if i+1 < len(args) {
				i++
				val = args[i]
			} else {
				return n.failApp(fmt.Sprintf("option requires an argument -- %c", opt), 255)
			}
		}
		switch opt {
		case 'p':
			p, err := strconv.ParseUint(val, 10, 16)
			if err != nil || p == 0 {
				return n.failApp(fmt.Sprintf("Bad port '%s'", val), 255)
			}
			c.port = uint16(p)
		case 'o':
			k, v, _ := strings.Cut(val, "=")
			if strings.EqualFold(k, "ConnectTimeout") {
				s, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || s < 0 {
					return n.failApp("command-line line 0: invalid time value.", 255)
				}
				c.limit = int64(s) * int64(time.Second)
			} else if strings.EqualFold(k, "Port") {
				p, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
				c.port = uint16(p)
			}
		case 'b':
			a, err := netip.ParseAddr(val)
			if err != nil {
				return n.failApp(fmt.Sprintf("ssh: bind: %s: Name or service not known", val), 255)
			}
			c.src = a
		}
	}
	if dest == "" {
		return n.failApp("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] destination [command [argument ...]]", 255)
	}
	if _, h, ok := strings.Cut(dest, "@"); ok {
		dest = h
	}
	c.name = dest
	dst, err := sh.resolve(dest, false)
	if err != nil {
		return n.failApp(fmt.Sprintf("ssh: Could not resolve hostname %s: %v", dest, err), 255)
	}
	c.dst = dst
	return c
}

// newNC is OpenBSD netcat's TCP connect (nc [-v] [-z] [-p PORT] [-s
// ADDR] [-w SECS] HOST PORT); connect is "nc -vz".
func (n *Network) newNC(sh *simHost, args []string, connect bool) app {
	c := &tcpClient{n: n, sh: sh, style: "nc", verb: connect, tm: &timer{}}
	udp := false
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			opt := a[j]
			val := ""
			if strings.IndexByte("psw", opt) >= 0 {
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i+1 < len(args) {
					i++
					val = args[i]
				} else {
					return n.failApp(fmt.Sprintf("nc: option requires an argument -- '%c'", opt), 1)
				}
				j = len(a)
			}
			switch opt {
			case 'v':
				c.verb = true
			case 'z', 'n', '4', '6', 'N', 'q':
			case 'u':
				udp = true
			case 'p':
				p, err := strconv.ParseUint(val, 10, 16)
				if err != nil || p == 0 {
					return n.failApp(fmt.Sprintf("nc: port number invalid: %s", val), 1)
				}
				c.sport = uint16(p)
			case 's':
				a, err := netip.ParseAddr(val)
				if err != nil {
					return n.failApp(fmt.Sprintf("nc: getaddrinfo: %s", errNoName), 1)
				}
				c.src = a
			case 'w':
				s, err := strconv.Atoi(val)
				if err != nil || s < 0 {
					return n.failApp(fmt.Sprintf("nc: timeout invalid: %s", val), 1)
				}
				c.limit = int64(s) * int64(time.Second)
			default:
				return n.failApp(fmt.Sprintf("nc: invalid option -- '%c'", opt), 1)
			}
		}
	}
	if len(pos) != 2 {
		return n.failApp("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]", 1)
	}
	p, err := strconv.ParseUint(pos[1], 10, 16)
	if err != nil || p == 0 {
		return n.failApp(fmt.Sprintf("nc: port number invalid: %s", pos[1]), 1)
	}
	c.name, c.port = pos[0], uint16(p)
	dst, err := sh.resolve(pos[0], false)
	if err != nil {
		return n.failApp(fmt.Sprintf("nc: getaddrinfo for host \"%s\" port %s: %v", pos[0], pos[1], err), 1)
	}
	c.dst = dst
	if udp {
		u := &udpApp{n: n, sh: sh, target: pos[0], dst: dst, port: c.port, src: c.src, sport: c.sport, size: 1, name: "nc"}
		return u
	}
	return c
}

func (c *tcpClient) start() {
	n, sh := c.n, c.sh
	if c.src.IsValid() {
		if sh.h.AddrType(c.src) != 2 {
			c.fail("error", "Cannot assign requested address")
			return
		}
	} else {
		_, src, err := sh.h.Net.Lookup(c.dst, netip.Addr{}, "", c.oif, 0)
		if err != nil {
			c.fail("unreachable", "Network is unreachable")
			return
		}
		c.src = src
	}
	if c.sport == 0 {
		c.sport = sh.ephemeralPort()
	} else {
		sh.ports[c.sport] = true
	}
	k := flowKey{c.src, c.dst, c.sport, c.dport()}
	if sh.tcps[k] != nil {
		c.fail("error", "Address already in use")
		return
	}
	sh.tcps[k] = c
	c.isn = sh.rnd.u32()
	c.ipid = sh.rnd.u16()
	c.tsOff = sh.rnd.u32()
	c.mss = sh.routeMTU(c.dst, c.oif) - 40
	if c.dst.Is6() {
		c.mss -= 20
	}
	if c.limit > 0 {
		// The application's own limit (ssh -o ConnectTimeout, nc -w):
		// ssh reports ETIMEDOUT; Debian's netcat-openbsd says the
		// connect is still in progress.
		errno := eTimedOut
		if c.style == "nc" {
			errno = "Operation now in progress"
		}
		n.after(c.limit, c.tm, func() { c.fail("timeout", errno) })
	}
	c.sendSyn()
}

func (c *tcpClient) dport() uint16 { return c.port }

// sendSyn sends the SYN (again), and schedules the retransmission or
// the end: RTO 1 s doubling (TCP_TIMEOUT_INIT, tcp_retransmit_timer).
func (c *tcpClient) sendSyn() {
	n, sh := c.n, c.sh
	if c.result != "" {
		return
	}
	rto := int64(time.Second) << c.tries
	c.tries++
	var opts [20]byte
	o := opts[:0]
	o = append(o, 2, 4, byte(c.mss>>8), byte(c.mss)) // MSS
	o = append(o, 4, 2)                              // SACK permitted
	ts := c.tsVal()
	o = append(o, 8, 10, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts), 0, 0, 0, 0)
	o = append(o, 1, 3, 3, tcpWScale) // NOP, window scale
	win := 65535 / c.mss * c.mss
	c.send(packet.TCP{SrcPort: c.sport, DstPort: c.port, Seq: c.isn, Flags: packet.TCPSyn, Window: uint16(min(win, 65535)), Options: o})
	retries, ok := atoi(sh.h.Net.Sysctl["net.ipv4.tcp_syn_retries"])
	if !ok {
		retries = 6
	}
	if c.tries > retries {
		n.after(rto, c.tm, func() { c.fail("timeout", eTimedOut) })
		return
	}
	n.after(rto, c.tm, c.sendSyn)
}

// tsVal is the TCP timestamp clock: milliseconds plus a random offset
// per connection (tcp_ns_to_ts, the tsoffset of secure_tcp_ts_off).
func (c *tcpClient) tsVal() uint32 { return uint32(c.n.now/int64(time.Millisecond)) + c.tsOff }

// send builds a segment of the connection and hands it to the host.
func (c *tcpClient) send(t packet.TCP) {
	sh := c.sh
	var h packet.Headers
	h.TCP = t
	h.Proto = packet.ProtoTCP
	if c.dst.Is4() {
		h.Layers = packet.LayerIPv4 | packet.LayerTCP
		// inet_id: random at connect, then one more per packet.
		h.IPv4 = packet.IPv4{IHL: 5, TTL: sh.defaultTTL(c.dst, ""), ID: c.ipid, Flags: packet.IPv4DF, Src: c.src, Dst: c.dst}
		c.ipid++
	} else {
		h.Layers = packet.LayerIPv6 | packet.LayerTCP
		h.IPv6 = packet.IPv6{HopLimit: sh.defaultTTL(c.dst, ""), Src: c.src, Dst: c.dst}
		if sh.h.Net.Sysctl["net.ipv6.auto_flowlabels"] != "0" {
			h.IPv6.FlowLabel = uint32(c.isn) & 0xfffff
		}
	}
	ip, err := h.Append(nil, packet.FixAll)
	if err != nil {
		return
	}
	sh.h.Now = c.n.now
	// A SYN an OUTPUT rule drops (EPERM from ip_local_out) does not
	// fail connect(): tcp_connect ignores the error and the SYN is
	// retransmitted until the connect times out (measured with nc on
	// Linux 6.18, which then retries about every second at first; here
	// the retransmissions back off as for a lost SYN).
	sh.h.Send(ip, &stack.Socket{Proto: packet.ProtoTCP, Addr: c.src, Port: c.sport})
}

// segment handles a segment of the connection (delivered after INPUT).
func (c *tcpClient) segment(p *packet.Packet) {
	t := &p.TCP
	if c.result != "" {
		return
	}
	switch {
	case t.Flags&packet.TCPRst != 0:
		if t.Flags&packet.TCPAck != 0 && t.Ack == c.isn+1 {
			c.fail("refused", eRefused)
		}
	case t.Flags&(packet.TCPSyn|packet.TCPAck) == packet.TCPSyn|packet.TCPAck:
		if t.Ack != c.isn+1 {
			// tcp_rcv_synsent_state_process: a bad ACK is answered by a
			// reset.
			rst := packet.TCP{SrcPort: c.sport, DstPort: c.port, Seq: t.Ack, Flags: packet.TCPRst}
			c.n.schedule(c.n.now, func() { c.send(rst) })
			return
		}
		ack := packet.TCP{SrcPort: c.sport, DstPort: c.port, Seq: c.isn + 1, Ack: t.Seq + 1, Flags: packet.TCPAck}
		// The window after the handshake: 64 KiB rounded to segments,
		// scaled by our shift and rounded up (__tcp_select_window's
		// ALIGN), unscaled when the peer offered no scaling. Measured on
		// Linux 6.18: "win 63" for a 1460-byte MSS.
		win := 65535 / c.mss * c.mss
		if t.Opts&packet.OptWScale != 0 {
			win = (win + 1<<tcpWScale - 1) >> tcpWScale
		}
		ack.Window = uint16(min(win, 65535))
		if t.Opts&packet.OptTimestamp != 0 {
			ts := c.tsVal()
			ack.Options = []byte{1, 1, 8, 10, byte(ts >> 24), byte(ts >> 16), byte(ts >> 8), byte(ts),
				byte(t.TSVal >> 24), byte(t.TSVal >> 16), byte(t.TSVal >> 8), byte(t.TSVal)}
		}
		c.result = "connected"
		c.tm.dead = true
		c.n.schedule(c.n.now, func() { c.send(ack) })
		c.report()
	}
}

// icmpError is tcp_v4_err / tcp_v6_err for a connection in SYN_SENT.
func (c *tcpClient) icmpError(p *packet.Packet) {
	if c.result != "" || p.Inner.TCP.Seq != c.isn {
		return
	}
	errno, fatal := icmpErrno(p)
	if !fatal {
		return
	}
	res := "unreachable"
	if errno == eRefused {
		res = "refused"
	}
	c.fail(res, errno)
}

// icmpErrno is the errno an ICMP error gives a socket, and whether it
// ends a connect (every error but fragmentation needed / packet too big).
func icmpErrno(p *packet.Packet) (string, bool) {
	t, code := p.ICMP.Type, p.ICMP.Code
	if p.IsIPv6() {
		switch t {
		case 1:
			switch code {
			case 0:
				return "Network is unreachable", true
			case 1, 5, 6:
				return "Permission denied", true
			case 4:
				return eRefused, true
			}
			return "No route to host", true
		case 2:
			return "Message too long", false
		case 3:
			return "No route to host", true
		case 4:
			return "Protocol error", true
		}
		return "", false
	}
	switch t {
	case 3:
		switch code {
		case 0, 6, 9, 11:
			return "Network is unreachable", true
		case 2:
			return "Protocol not available", true
		case 3:
			return eRefused, true
		case 4:
			return "Message too long", false
		case 5:
			return "Operation not supported", true
		case 7:
			return "Host is down", true
		case 8:
			return "Machine is not on the network", true
		}
		return "No route to host", true
	case 11:
		return "No route to host", true
	case 12:
		return "Protocol error", true
	}
	return "", false
}

// fail ends the connect with an error.
func (c *tcpClient) fail(result, errno string) {
	if c.result != "" {
		return
	}
	c.result, c.errno = result, errno
	c.tm.dead = true
	delete(c.sh.tcps, flowKey{c.src, c.dst, c.sport, c.port})
	c.report()
}

// report prints what the client prints.
func (c *tcpClient) report() {
	n := c.n
	switch c.style {
	case "ssh":
		if c.result != "connected" {
			n.out(fmt.Sprintf("ssh: connect to host %s port %d: %s", c.name, c.port, c.errno))
		}
	case "nc":
		if c.result == "connected" {
			if c.verb {
				n.out(fmt.Sprintf("Connection to %s %d port [tcp/%s] succeeded!", c.name, c.port, serviceName(c.port, "tcp")))
			}
		} else if c.errno == "Operation now in progress" {
			n.out(fmt.Sprintf("nc: connect to %s port %d (tcp) timed out: %s", c.name, c.port, c.errno))
		} else {
			n.out(fmt.Sprintf("nc: connect to %s port %d (tcp) failed: %s", c.name, c.port, c.errno))
		}
	}
}

func (c *tcpClient) done() bool      { return c.result != "" }
func (c *tcpClient) finish()         {}
func (c *tcpClient) outcome() string { return c.result }

// serviceName is the /etc/services name nc -v prints ("*" if none).
func serviceName(port uint16, proto string) string {
	if s, ok := wellKnown[port]; ok {
		return s
	}
	return "*"
}

var wellKnown = map[uint16]string{
	21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http", 110: "pop3", 123: "ntp",
	143: "imap2", 443: "https", 500: "isakmp", 993: "imaps", 995: "pop3s", 3306: "mysql", 4500: "ipsec-nat-t",
	5432: "postgresql", 8080: "http-alt",
}
