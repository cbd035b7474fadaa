package stack_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptwin/iptwin/internal/cli"
	"github.com/iptwin/iptwin/packet"
	"github.com/iptwin/iptwin/stack"
	"github.com/iptwin/iptwin/state"
)

// newHost runs setup command lines (ip, sysctl, iptables …) against a
// fresh state directory and loads the host from it.
func newHost(t testing.TB, lines ...string) *stack.Host {
	t.Helper()
	dir := t.TempDir()
	for _, l := range lines {
		var out, errb bytes.Buffer
		argv := append([]string{"iptwin", "--state", dir}, strings.Fields(l)...)
		if rc := cli.Main(argv, strings.NewReader(""), &out, &errb); rc != 0 {
			t.Fatalf("%s: exit %d: %s", l, rc, errb.String())
		}
	}
	d, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := stack.Load(d, "twin", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Every neighbour answers ARP with the peer's address.
	h.Neigh = func(string, netip.Addr) ([6]byte, bool) { return [6]byte{2, 0, 0, 0, 0, 2}, true }
	return h
}

var basic = []string{
	"ip link add eth0 type dummy",
	"ip link set eth0 address 02:00:00:00:00:01",
	"ip link set eth0 up",
	"ip addr add 10.0.0.1/24 dev eth0",
}

// frame builds an Ethernet frame to eth0 from headers.
func frame(t testing.TB, h *packet.Headers) []byte {
	t.Helper()
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0}
	b, err := h.Append(b, packet.FixAll)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func syn(src, dst string, sport, dport uint16) *packet.Headers {
	h := &packet.Headers{Layers: packet.LayerIPv4 | packet.LayerTCP, Proto: packet.ProtoTCP}
	h.IPv4 = packet.IPv4{IHL: 5, TTL: 64, Src: mustAddr(src), Dst: mustAddr(dst)}
	h.TCP = packet.TCP{SrcPort: sport, DstPort: dport, Seq: 1000, Flags: packet.TCPSyn, Window: 64240, DataOff: 5}
	return h
}

type capture struct{ lines []string }

func (c *capture) emit(dev string, f []byte) {
	var p packet.Packet
	if err := p.DecodeEthernet(f); err != nil {
		c.lines = append(c.lines, dev+" undecodable: "+err.Error())
		return
	}
	c.lines = append(c.lines, dev+" "+p.String())
}

func TestClosedPortAndDrop(t *testing.T) {
	h := newHost(t, append(basic, "iptables -A INPUT -p tcp -s 10.0.0.3 -j DROP")...)
	var c capture
	h.Emit = c.emit
	res, err := h.Receive("eth0", frame(t, syn("10.0.0.2", "10.0.0.1", 1234, 22)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Fate != stack.FateDelivered || len(c.lines) != 1 || !strings.Contains(c.lines[0], "Flags [R.]") {
		t.Fatalf("closed port: fate %v, emitted %q", res.Fate, c.lines)
	}
	c.lines = nil
	res, _ = h.Receive("eth0", frame(t, syn("10.0.0.3", "10.0.0.1", 1234, 23)))
	if res.Fate != stack.FateDropped || res.Decision.Num != 1 || res.Table != "filter" || len(c.lines) != 0 {
		t.Fatalf("dropped port: %+v, emitted %q", res, c.lines)
	}
	if got := h.Rules[0].Table("filter").Chain("INPUT").Rules[0].Counters.Packets; got != 1 {
		t.Fatalf("rule counter %d, want 1", got)
	}
}

// TestChains walks jumps, gotos, RETURN and the policy with header-only
// rules and checks which rule decides and the counters.
func TestChains(t *testing.T) {
	h := newHost(t, append(basic,
		"iptables -N A", "iptables -N B", "iptables -N C",
		"iptables -A INPUT -s 10.0.0.2 -j A",
		"iptables -A INPUT -s 10.0.0.3 -g B",
		"iptables -A INPUT -s 10.0.0.4 -j DROP",
		"iptables -A A -j RETURN",
		"iptables -A A -j DROP",
		"iptables -A B -j C",
		"iptables -A C -s 10.0.0.3 -j RETURN",
		"iptables -P INPUT DROP",
		"iptables -A INPUT -s 10.0.0.2 -j ACCEPT",
	)...)
	for _, c := range []struct {
		src   string
		fate  stack.Fate
		chain string
		num   int
	}{
		{"10.0.0.2", stack.FateDelivered, "", 0},    // A returns, rule 4 accepts
		{"10.0.0.3", stack.FateDropped, "INPUT", 0}, // goto B, C returns to B, B ends: INPUT's policy
		{"10.0.0.4", stack.FateDropped, "INPUT", 3},
		{"10.0.0.5", stack.FateDropped, "INPUT", 0},
	} {
		res, err := h.Receive("eth0", frame(t, syn(c.src, "10.0.0.1", 1, 22)))
		if err != nil {
			t.Fatal(err)
		}
		name := ""
		if res.Decision.Chain != nil {
			name = res.Decision.Chain.Name
		}
		if res.Fate != c.fate || name != c.chain || res.Decision.Num != c.num {
			t.Errorf("%s: fate %v decided by %s/%d, want %v by %s/%d", c.src, res.Fate, name, res.Decision.Num, c.fate, c.chain, c.num)
		}
	}
	in := h.Rules[0].Table("filter").Chain("INPUT")
	if in.Counters.Packets != 2 || in.Counters.Bytes != 80 {
		t.Errorf("policy counters %+v, want 2 packets 80 bytes", in.Counters)
	}
	if got := in.Rules[0].Counters.Packets; got != 1 {
		t.Errorf("rule 1 counted %d", got)
	}
}

func udp6(src, dst string, sport, dport uint16, payload int) *packet.Headers {
	h := &packet.Headers{Layers: packet.LayerIPv6 | packet.LayerUDP, Proto: packet.ProtoUDP}
	h.IPv6 = packet.IPv6{HopLimit: 64, Src: mustAddr(src), Dst: mustAddr(dst)}
	h.UDP = packet.UDP{SrcPort: sport, DstPort: dport}
	h.Payload = make([]byte, payload)
	return h
}

func frame6(t testing.TB, h *packet.Headers) []byte {
	t.Helper()
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd}
	b, err := h.Append(b, packet.FixAll)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIPv6Closed: a closed UDP port answers with ICMPv6 port unreachable
// from the address the datagram was sent to, to the sender's MAC.
func TestIPv6Closed(t *testing.T) {
	h := newHost(t, append(basic, "ip addr add 2001:db8::1/64 dev eth0")...)
	var c capture
	h.Emit = c.emit
	res, err := h.Receive("eth0", frame6(t, udp6("2001:db8::2", "2001:db8::1", 500, 500, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Fate != stack.FateDelivered || len(c.lines) != 1 ||
		!strings.Contains(c.lines[0], "IP6 2001:db8::1 > 2001:db8::2: ICMP6, destination unreachable, unreachable port") {
		t.Fatalf("fate %v, emitted %q", res.Fate, c.lines)
	}
}

// TestIPv6SourceFragmentation: a local IPv6 datagram larger than the
// link's MTU leaves in fragments (ip6_fragment), each within the MTU.
func TestIPv6SourceFragmentation(t *testing.T) {
	h := newHost(t, append(basic, "ip addr add 2001:db8::1/64 dev eth0")...)
	var c capture
	var sizes []int
	h.Emit = func(dev string, f []byte) { c.emit(dev, f); sizes = append(sizes, len(f)-14) }
	ip, err := udp6("2001:db8::1", "2001:db8::2", 4500, 4500, 1596).Append(nil, packet.FixAll)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Send(ip, &stack.Socket{})
	if err != nil || res.Fate != stack.FateSent {
		t.Fatalf("fate %+v, %v", res, err)
	}
	if len(sizes) != 2 || sizes[0] > 1500 || sizes[1] > 1500 || !strings.Contains(c.lines[0], "frag (0|") {
		t.Fatalf("fragments %v: %q", sizes, c.lines)
	}
}
