package conntrack

import (
	"testing"

	"github.com/iptwin/iptwin/xtables"
)

// UDP: 30 s until a reply, still 30 s for a reply within two seconds, a
// stream (ASSURED, 120 s) for traffic both ways after that.
func TestUDPTimeoutsAndStream(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.expect("udp 10.0.0.2:41000 > 10.0.1.2:53", "NEW", false,
		"udp      17 30 src=10.0.0.2 dst=10.0.1.2 sport=41000 dport=53 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 sport=53 dport=41000 mark=0 use=1")
	h.now += sec
	h.expect("udp 10.0.1.2:53 > 10.0.0.2:41000", "ESTABLISHED", true,
		"udp      17 30 src=10.0.0.2 dst=10.0.1.2 sport=41000 dport=53 src=10.0.1.2 dst=10.0.0.2 sport=53 dport=41000 mark=0 use=1")
	h.now += 2 * sec
	h.expect("udp 10.0.0.2:41000 > 10.0.1.2:53", "ESTABLISHED", false,
		"udp      17 120 src=10.0.0.2 dst=10.0.1.2 sport=41000 dport=53 src=10.0.1.2 dst=10.0.0.2 sport=53 dport=41000 [ASSURED] mark=0 use=1")
}

func TestUDPMalformed(t *testing.T) {
	h := newHost(t, DefaultConfig())
	p := pkt(t, "udp 10.0.0.2:41000 > 10.0.1.2:53 payload 4")
	p.Data[len(p.Net)+4] = 0xff // UDP length beyond the packet
	if c, info, _ := h.tbl.In(p, 0, h.now); c != nil || info != xtables.CtInvalid {
		t.Errorf("UDP length beyond the packet: %v %v", c, ctName(info))
	}
}

func TestICMPEcho(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.expect("icmp 10.0.0.2 > 10.0.1.2 echo-request id 4660 seq 1", "NEW", false,
		"icmp     1 30 src=10.0.0.2 dst=10.0.1.2 type=8 code=0 id=4660 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 type=0 code=0 id=4660 mark=0 use=1")
	h.expect("icmp 10.0.1.2 > 10.0.0.2 echo-reply id 4660 seq 1", "ESTABLISHED", true,
		"icmp     1 30 src=10.0.0.2 dst=10.0.1.2 type=8 code=0 id=4660 src=10.0.1.2 dst=10.0.0.2 type=0 code=0 id=4660 mark=0 use=1")
	// A reply without a request starts nothing; nor does a type without
	// a reply, or one above 18.
	h.expect("icmp 10.0.1.2 > 10.0.0.2 echo-reply id 99 seq 1", "INVALID", false, "")
	h.expect("icmp 10.0.1.2 > 10.0.0.2 type 9", "INVALID", false, "")
	h.expect("icmp 10.0.1.2 > 10.0.0.2 type 40", "INVALID", false, "")
	h.expect("icmp 10.0.1.2 > 10.0.0.2 type 13", "NEW", false, "")
}

// An ICMP error is RELATED to the connection it quotes, in the direction
// of the quoted packet's reply; INVALID when there is none or the outer
// destination is not the connection's.
func TestICMPErrorRelated(t *testing.T) {
	h := newHost(t, DefaultConfig())
	c := h.expect("udp 10.0.0.2:41000 > 10.0.1.2:9", "NEW", false, "")
	list := h.list()
	r := h.expect("icmp 10.0.1.2 > 10.0.0.2 port-unreachable quoting udp 10.0.0.2:41000 > 10.0.1.2:9", "RELATED", true, "")
	if r != c {
		t.Error("RELATED to another entry")
	}
	if h.list() != list {
		t.Errorf("a RELATED error changed the entry:\n%s%s", list, h.list())
	}
	// From a router on the way: the outer source does not matter.
	h.expect("icmp 10.9.9.9 > 10.0.0.2 ttl-exceeded quoting udp 10.0.0.2:41000 > 10.0.1.2:9", "RELATED", true, "")
	// An error the other way (original direction).
	h.expect("icmp 10.0.0.2 > 10.0.1.2 port-unreachable quoting udp 10.0.1.2:9 > 10.0.0.2:41000", "RELATED", false, "")
	// To someone else than the connection's end.
	h.expect("icmp 10.0.1.2 > 10.0.0.7 port-unreachable quoting udp 10.0.0.2:41000 > 10.0.1.2:9", "INVALID", false, "")
	// Quoting no known connection.
	h.expect("icmp 10.0.1.2 > 10.0.0.2 port-unreachable quoting udp 10.0.0.2:41001 > 10.0.1.2:9", "INVALID", false, "")
	// Errors about an echo request.
	h.expect("icmp 10.0.0.2 > 10.0.1.3 echo-request id 7", "NEW", false, "")
	h.expect("icmp 10.0.1.1 > 10.0.0.2 host-unreachable quoting icmp 10.0.0.2 > 10.0.1.3 echo-request id 7", "RELATED", true, "")
}

func TestICMPv6(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.expect("icmp6 fd00::2 > fd00:1::2 echo-request id 4660", "NEW", false,
		"icmpv6   58 30 src=fd00::2 dst=fd00:1::2 type=128 code=0 id=4660 [UNREPLIED] src=fd00:1::2 dst=fd00::2 type=129 code=0 id=4660 mark=0 use=1")
	h.expect("icmp6 fd00:1::2 > fd00::2 echo-reply id 4660", "ESTABLISHED", true, "")
	// Neighbour discovery and MLD are not tracked.
	for _, typ := range []string{"neighbour-solicitation", "neighbour-advertisement", "router-solicitation", "type 143"} {
		if c, info, _ := h.tbl.In(pkt(t, "icmp6 fe80::1 > ff02::1 "+typ+" hlim 255"), 0, h.now); c != nil || info != xtables.CtUntracked {
			t.Errorf("%s: %v %s", typ, c, ctName(info))
		}
	}
	h.expect("udp [fd00::2]:5000 > [fd00:1::2]:9", "NEW", false, "")
	h.expect("icmp6 fd00:1::2 > fd00::2 port-unreachable quoting udp [fd00::2]:5000 > [fd00:1::2]:9", "RELATED", true, "")
}

// ESP has no tracker in Linux 6.x: it is generic, by addresses.
func TestGenericESP(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.expect("esp 10.0.0.2 > 10.0.1.2 spi 0x100", "NEW", false,
		"unknown  50 600 src=10.0.0.2 dst=10.0.1.2 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 mark=0 use=1")
	h.expect("esp 10.0.0.2 > 10.0.1.2 spi 0x200", "NEW", false, "")
	h.expect("esp 10.0.1.2 > 10.0.0.2 spi 0x300", "ESTABLISHED", true,
		"unknown  50 600 src=10.0.0.2 dst=10.0.1.2 src=10.0.1.2 dst=10.0.0.2 mark=0 use=1")
}

// Conntrack reassembles: a later fragment reaching it is not trackable.
func TestFragmentInvalid(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.expect("udp 10.0.0.2:41000 > 10.0.1.2:53 payload 2000 off 1480", "INVALID", false, "")
	h.expect("udp [fd00::2]:41000 > [fd00::3]:53 payload 2000 off 1232", "INVALID", false, "")
}
