package sim

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
)

// ping is iputils ping (20221126, Debian 12) on the virtual clock: the
// same options, the same lines, the same exit rules (ping_common.c
// main_loop, __schedule_exit, finish).

// defaultPingCount is how many probes a ping without -c or -w sends (the
// real one runs until interrupted).
const defaultPingCount = 4

type pingOpts struct {
	target   string
	count    int
	size     int
	iface    string // -I device
	src      netip.Addr
	interval int64
	linger   int64 // -W
	deadline int64 // -w
	ttl      int
	pmtu     string // -M do|dont|want
	quiet    bool
	v6       bool
}

func parsePing(args []string, v6 bool) (*pingOpts, error) {
	o := &pingOpts{size: 56, interval: int64(time.Second), linger: 10 * int64(time.Second), v6: v6, pmtu: "want"}
	withArg := "cIiMpQsStWw"
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			args = append(args[:i], args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		args = append(args[:i], args[i+1:]...)
		i--
		for j := 1; j < len(a); j++ {
			c := a[j]
			var val string
			if strings.IndexByte(withArg, c) >= 0 {
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i+1 < len(args) {
					val = args[i+1]
					args = append(args[:i+1], args[i+2:]...)
				} else {
					return nil, fmt.Errorf("ping: option requires an argument -- '%c'", c)
				}
				j = len(a)
			}
			if err := o.set(c, val); err != nil {
				return nil, err
			}
		}
	}
	if len(args) != 1 {
		if len(args) == 0 {
			return nil, fmt.Errorf("ping: usage error: Destination address required")
		}
		return nil, fmt.Errorf("ping: %s: more than one destination", strings.Join(args, " "))
	}
	o.target = args[0]
	if o.count == 0 && o.deadline == 0 {
		o.count = defaultPingCount
	}
	return o, nil
}

func (o *pingOpts) set(c byte, val string) error {
	num := func(min, max int) (int, error) {
		v, err := strconv.Atoi(val)
		if err != nil || v < min || v > max {
			return 0, fmt.Errorf("ping: invalid argument: '%s': out of range: %d <= value <= %d", val, min, max)
		}
		return v, nil
	}
	secs := func() (int64, error) {
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || v < 0 || v > 2147483 {
			return 0, fmt.Errorf("ping: bad timing interval: %s", val)
		}
		return int64(v * float64(time.Second)), nil
	}
	var err error
	switch c {
	case 'c':
		o.count, err = num(1, math.MaxInt32)
	case 's':
		o.size, err = num(0, 65507)
	case 't':
		o.ttl, err = num(1, 255)
	case 'i':
		o.interval, err = secs()
	case 'W':
		o.linger, err = secs()
	case 'w':
		o.deadline, err = secs()
	case 'I':
		if a, e := netip.ParseAddr(val); e == nil {
			o.src = a
		} else {
			o.iface = val
		}
	case 'M':
		switch val {
		case "do", "dont", "want", "probe":
			o.pmtu = val
		default:
			return fmt.Errorf("ping: invalid -M argument: %s", val)
		}
	case 'q':
		o.quiet = true
	case '4':
		o.v6 = false
	case '6':
		o.v6 = true
	case 'n', 'v', 'D', 'O', 'A', 'U', 'a', 'd', 'R', 'r', 'L', 'B':
	case 'p', 'Q', 'S':
		// pattern, TOS, sndbuf: accepted, not modelled
	default:
		return fmt.Errorf("ping: invalid option -- '%c'", c)
	}
	return err
}

type pingApp struct {
	n    *Network
	sh   *simHost
	o    *pingOpts
	dst  netip.Addr
	src  netip.Addr
	id   uint16
	tm   *timer
	over bool
	rc   int

	began, lastSend    int64
	sent, recv, errors int
	dups               int
	sentAt             map[uint16]int64
	got                map[uint16]bool
	tsum, tmin, tmax   int64
	tsum2              float64
	exitScheduled      bool
}

func (n *Network) newPing(sh *simHost, args []string, v6 bool) app {
	o, err := parsePing(args, v6)
	if err != nil {
		return n.failApp(err.Error(), 2)
	}
	dst, err := sh.resolve(o.target, o.v6)
	if err != nil {
		return n.failApp(fmt.Sprintf("ping: %s: %v", o.target, err), 2)
	}
	return &pingApp{n: n, sh: sh, o: o, dst: dst, tm: &timer{}, sentAt: map[uint16]int64{}, got: map[uint16]bool{}, tmin: math.MaxInt64}
}

func (a *pingApp) start() {
	n, sh, o := a.n, a.sh, a.o
	switch {
	case o.src.IsValid():
		if sh.h.AddrType(o.src) != 2 { // RTN_LOCAL
			a.fail("ping: bind: Cannot assign requested address", 2)
			return
		}
		a.src = o.src
	default:
		if o.iface != "" && sh.h.Net.LinkByName(o.iface) == nil {
			a.fail(fmt.Sprintf("ping: SO_BINDTODEVICE %s: No such device", o.iface), 2)
			return
		}
		_, src, err := sh.h.Net.Lookup(a.dst, netip.Addr{}, "", o.iface, 0)
		if err != nil {
			a.fail("ping: connect: Network is unreachable", 2)
			return
		}
		a.src = src
	}
	a.id = sh.rnd.u16()
	sh.pings[a.id] = a
	var b strings.Builder
	if a.dst.Is4() {
		fmt.Fprintf(&b, "PING %s (%s) ", o.target, a.dst)
		if o.iface != "" || o.src.IsValid() {
			fmt.Fprintf(&b, "from %s %s: ", a.src, o.iface)
		}
		fmt.Fprintf(&b, "%d(%d) bytes of data.", o.size, o.size+8+20)
	} else {
		fmt.Fprintf(&b, "PING %s(%s) ", o.target, a.dst)
		if o.iface != "" || o.src.IsValid() {
			fmt.Fprintf(&b, "from %s %s: ", a.src, o.iface)
		}
		fmt.Fprintf(&b, "%d data bytes", o.size)
	}
	n.out(b.String())
	a.began = n.now
	if o.deadline > 0 {
		n.after(o.deadline, a.tm, a.exit)
	}
	a.send()
}

func (a *pingApp) fail(msg string, rc int) {
	a.n.out(msg)
	a.rc = rc
	a.over = true
}

// send is pinger: one echo request, and the next one scheduled.
func (a *pingApp) send() {
	n, sh, o := a.n, a.sh, a.o
	if a.over {
		return
	}
	a.sent++
	seq := uint16(a.sent)
	a.lastSend = n.now
	a.sentAt[seq] = n.now
	var h packet.Headers
	payload := make([]byte, o.size)
	for i := 16; i < o.size; i++ {
		payload[i] = byte(i)
	}
	if o.size >= 16 {
		// struct timeval of the send time, as ping writes it
		t := n.start.Add(time.Duration(n.now))
		putLE64(payload[0:], uint64(t.Unix()))
		putLE64(payload[8:], uint64(t.Nanosecond()/1000))
	}
	h.Payload = payload
	ttl := o.ttl
	if a.dst.Is4() {
		if ttl == 0 {
			ttl = int(sh.defaultTTL(a.dst, o.iface))
		}
		h.Layers = packet.LayerIPv4 | packet.LayerICMPv4
		h.Proto = packet.ProtoICMP
		h.IPv4 = packet.IPv4{IHL: 5, TTL: uint8(ttl), ID: sh.rnd.u16(), Src: a.src, Dst: a.dst}
		h.ICMP = packet.ICMP{Type: packet.ICMPEcho}
	} else {
		if ttl == 0 {
			ttl = int(sh.defaultTTL(a.dst, o.iface))
		}
		h.Layers = packet.LayerIPv6 | packet.LayerICMPv6
		h.Proto = packet.ProtoICMPv6
		h.IPv6 = packet.IPv6{HopLimit: uint8(ttl), Src: a.src, Dst: a.dst}
		if sh.h.Net.Sysctl["net.ipv6.auto_flowlabels"] != "0" {
			h.IPv6.FlowLabel = sh.rnd.u32() & 0xfffff
		}
		h.ICMP = packet.ICMP{Type: packet.ICMPv6EchoRequest}
	}
	h.ICMP.SetEcho(a.id, seq)
	ip, err := h.Append(nil, packet.FixAll)
	sh.h.Now = n.now
	mtu := sh.pathMTU(ip, a.dst, o.iface)
	// __ip_make_skb: DF when the datagram fits the route's MTU (an IPsec
	// bundle's when a policy applies; IP_PMTUDISC_WANT), always with -M
	// do, never with -M dont.
	if err == nil && a.dst.Is4() && (o.pmtu == "do" || o.pmtu == "probe" || o.pmtu == "want" && o.size+28 <= mtu) {
		h.IPv4.Flags = packet.IPv4DF
		ip, err = h.Append(ip[:0], packet.FixAll)
	}
	if err == nil && !a.dst.Is4() && o.pmtu == "do" && len(ip) > mtu {
		// IPV6_DONTFRAG: ip6_append_data refuses what exceeds the path
		// MTU (EMSGSIZE, with iputils' IPv6 wording).
		a.errors++
		if !o.quiet {
			n.out(fmt.Sprintf("ping: local error: message too long, mtu: %d", mtu))
		}
	} else if err == nil {
		res, err := sh.h.Send(ip, &stack.Socket{})
		switch {
		case err == nil && res.SendErr == "message too long":
			// EMSGSIZE from the IPsec bundle's MTU (xfrm4_tunnel_check_size)
			a.errors++
			if !o.quiet {
				n.out(fmt.Sprintf("ping: local error: message too long, mtu=%d", mtu))
			}
		case err != nil, res.SendErr != "":
			// sendto's EPERM (an OUTPUT rule dropped the probe): ping
			// 20221126 counts the probe as sent and prints nothing (its
			// receive_error_msg finds no queued error and returns -1,
			// so pinger's "sendmsg" message is skipped; measured with
			// Linux 6.18).
		case res.Fate == stack.FateDropped && res.Reason == "packet too big":
			// IP_RECVERR's local EMSGSIZE (ping4_receive_error_msg): an
			// error, with the route's MTU.
			a.errors++
			if !o.quiet {
				n.out(fmt.Sprintf("ping: local error: message too long, mtu=%d", mtu))
			}
		}
	}
	if o.count > 0 && a.recv+a.errors >= o.count {
		a.exit() // main_loop's first exit check
		return
	}
	if o.count > 0 && a.sent >= o.count {
		a.scheduleExit()
		return
	}
	n.after(o.interval, a.tm, a.send)
}

// scheduleExit is __schedule_exit after the last probe: wait twice the
// longest round trip (at least the interval) when something came back,
// else the linger time (-W, 10 s).
func (a *pingApp) scheduleExit() {
	if a.exitScheduled {
		return
	}
	a.exitScheduled = true
	wait := a.o.linger
	if a.recv > 0 {
		wait = max(2*a.tmax, a.o.interval)
	}
	a.n.after(wait, a.tm, a.exit)
}

func (a *pingApp) exit() {
	if !a.over {
		a.over = true
		a.summary()
	}
}

// reply handles an echo reply or an ICMP error about one of our probes.
func (a *pingApp) reply(p *packet.Packet) {
	n, o := a.n, a.o
	if a.over {
		return
	}
	if p.ICMP.IsEcho() {
		seq := p.ICMP.Seq()
		at, ok := a.sentAt[seq]
		if !ok {
			return
		}
		rtt := (n.now - at) / 1000 // µs, as ping measures
		a.tsum += rtt
		a.tsum2 += float64(rtt * rtt)
		a.tmin = min(a.tmin, rtt)
		a.tmax = max(a.tmax, rtt)
		dup := a.got[seq]
		if dup {
			a.dups++
		} else {
			a.got[seq] = true
			a.recv++
		}
		if !o.quiet {
			ttl := p.IPv4.TTL
			if p.IsIPv6() {
				ttl = p.IPv6.HopLimit
			}
			line := fmt.Sprintf("%d bytes from %s: icmp_seq=%d ttl=%d time=%s ms", len(p.Transport)+len(p.Payload), p.Src(), seq, ttl, pingTime(rtt))
			if dup {
				line += " (DUP!)"
			}
			n.out(line)
		}
	} else {
		seq := p.Inner.ICMP.Seq()
		if _, ok := a.sentAt[seq]; !ok {
			return
		}
		a.errors++
		if !o.quiet {
			n.out(fmt.Sprintf("From %s icmp_seq=%d %s", p.Src(), seq, icmpText(p)))
		}
	}
	if o.count > 0 && a.recv+a.errors >= o.count {
		a.exit()
	}
}

// pingTime prints a round trip in µs as ping does.
func pingTime(t int64) string {
	switch {
	case t >= 100000-50:
		return strconv.FormatInt((t+500)/1000, 10)
	case t >= 10000-5:
		return fmt.Sprintf("%d.%01d", (t+50)/1000, ((t+50)%1000)/100)
	case t >= 1000:
		return fmt.Sprintf("%d.%02d", (t+5)/1000, ((t+5)%1000)/10)
	}
	return fmt.Sprintf("%d.%03d", t/1000, t%1000)
}

// summary is finish().
func (a *pingApp) summary() {
	n, o := a.n, a.o
	delete(a.sh.pings, a.id)
	a.tm.dead = true
	n.out("")
	n.out(fmt.Sprintf("--- %s ping statistics ---", o.target))
	var b strings.Builder
	fmt.Fprintf(&b, "%d packets transmitted, %d received", a.sent, a.recv)
	if a.dups > 0 {
		fmt.Fprintf(&b, ", +%d duplicates", a.dups)
	}
	if a.errors > 0 {
		fmt.Fprintf(&b, ", +%d errors", a.errors)
	}
	if a.sent > 0 {
		loss := float32(float64(a.sent-a.recv) * 100.0 / float64(a.sent))
		fmt.Fprintf(&b, ", %s%% packet loss", strconv.FormatFloat(float64(loss), 'g', 6, 32))
		ms := (a.lastSend - a.began + 500000) / 1000000
		fmt.Fprintf(&b, ", time %dms", ms)
	}
	n.out(b.String())
	// finish(): the rtt summary goes on a line of its own, and the
	// putchar('\n') after it ends an empty one when there is none
	// (nothing received, or no time stamps in probes under 16 bytes).
	if a.recv == 0 || o.size < 16 {
		n.out("")
	}
	if a.recv > 0 && o.size >= 16 {
		total := int64(a.recv + a.dups)
		avg := a.tsum / total
		var v int64
		if a.tsum < math.MaxInt32 {
			v = int64((a.tsum2 - float64(a.tsum*a.tsum/total)) / float64(total))
		} else {
			v = int64(a.tsum2/float64(total)) - avg*avg
		}
		dev := llsqrt(v)
		n.out(fmt.Sprintf("rtt min/avg/max/mdev = %d.%03d/%d.%03d/%d.%03d/%d.%03d ms",
			a.tmin/1000, a.tmin%1000, avg/1000, avg%1000, a.tmax/1000, a.tmax%1000, dev/1000, dev%1000))
	}
	if a.recv == 0 {
		a.rc = 1
	}
}

func llsqrt(a int64) int64 {
	prev, x := int64(math.MaxInt64), a
	if x > 0 {
		for x < prev {
			prev = x
			x = (x + a/x) / 2
		}
	}
	return x
}

func (a *pingApp) done() bool { return a.over }

func (a *pingApp) finish() {
	if !a.over {
		a.exit()
	}
}

func (a *pingApp) outcome() string {
	switch {
	case a.sent == 0:
		return "error"
	case a.recv == a.sent:
		return "ok"
	case a.recv > 0:
		return "partial"
	case a.errors > 0:
		return "unreachable"
	}
	return "lost"
}

// icmpText is ping's pr_icmph for an error.
func icmpText(p *packet.Packet) string {
	t, c, info := p.ICMP.Type, p.ICMP.Code, p.ICMP.Rest
	if p.IsIPv6() {
		switch t {
		case 1:
			names := []string{"No route", "Administratively prohibited", "Beyond scope of source address", "Address unreachable", "Port unreachable"}
			if int(c) < len(names) {
				return "Destination unreachable: " + names[c]
			}
			return fmt.Sprintf("Destination unreachable: Unknown code %d", c)
		case 2:
			return fmt.Sprintf("Packet too big: mtu=%d", info)
		case 3:
			if c == 0 {
				return "Time exceeded: Hop limit"
			}
			return "Time exceeded: Defragmentation failure"
		case 4:
			return fmt.Sprintf("Parameter problem: at %d", info)
		}
		return fmt.Sprintf("unknown icmp type: %d", t)
	}
	switch t {
	case 3:
		names := []string{"Destination Net Unreachable", "Destination Host Unreachable", "Destination Protocol Unreachable",
			"Destination Port Unreachable", "", "Source Route Failed", "Destination Net Unknown", "Destination Host Unknown",
			"Source Host Isolated", "Destination Net Prohibited", "Destination Host Prohibited",
			"Destination Net Unreachable for Type of Service", "Destination Host Unreachable for Type of Service",
			"Packet filtered", "Precedence Violation", "Precedence Cutoff"}
		if c == 4 {
			return fmt.Sprintf("Frag needed and DF set (mtu = %d)", info&0xffff)
		}
		if int(c) < len(names) {
			return names[c]
		}
		return fmt.Sprintf("Dest Unreachable, Bad Code: %d", c)
	case 11:
		if c == 0 {
			return "Time to live exceeded"
		}
		return "Frag reassembly time exceeded"
	case 12:
		return fmt.Sprintf("Parameter problem: pointer = %d", info>>24)
	}
	return fmt.Sprintf("Bad ICMP type: %d", t)
}

func putLE64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
