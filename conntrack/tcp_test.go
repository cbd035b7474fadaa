package conntrack

import (
	"github.com/iptwin/iptwin/xtables"
	"testing"
)

// A handshake and close seen by a router, with the listing after each
// segment (timeouts in seconds as conntrack -L shows them).
func TestTCPHandshakeAndClose(t *testing.T) {
	h := newHost(t, DefaultConfig())
	steps := []struct {
		spec, info string
		reply      bool
		list       string
	}{
		{"tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 1000 win 64240 mss 1460 sackok wscale 7", "NEW", false,
			"tcp      6 120 SYN_SENT src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 mark=0 use=1"},
		{"tcp 10.0.1.2:80 > 10.0.0.2:40000 syn ack 1001 seq 5000 win 65160 mss 1460 sackok wscale 7", "ESTABLISHED", true,
			"tcp      6 60 SYN_RECV src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 mark=0 use=1"},
		{"tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5001 seq 1001 win 502", "ESTABLISHED", false,
			"tcp      6 432000 ESTABLISHED src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
		{"tcp 10.0.0.2:40000 > 10.0.1.2:80 psh ack 5001 seq 1001 win 502 payload 100", "ESTABLISHED", false,
			// data not yet acknowledged: the unacknowledged timeout
			"tcp      6 300 ESTABLISHED src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
		{"tcp 10.0.1.2:80 > 10.0.0.2:40000 ack 1101 seq 5001 win 509", "ESTABLISHED", true,
			"tcp      6 432000 ESTABLISHED src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
		{"tcp 10.0.0.2:40000 > 10.0.1.2:80 fin ack 5001 seq 1101 win 502", "ESTABLISHED", false,
			"tcp      6 120 FIN_WAIT src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
		{"tcp 10.0.1.2:80 > 10.0.0.2:40000 ack 1102 seq 5001 win 509", "ESTABLISHED", true,
			"tcp      6 60 CLOSE_WAIT src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
		{"tcp 10.0.1.2:80 > 10.0.0.2:40000 fin ack 1102 seq 5001 win 509", "ESTABLISHED", true,
			"tcp      6 30 LAST_ACK src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
		{"tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5002 seq 1102 win 502", "ESTABLISHED", false,
			"tcp      6 120 TIME_WAIT src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"},
	}
	for _, s := range steps {
		h.expect(s.spec, s.info, s.reply, s.list)
		h.now += sec / 10
	}
	// TIME_WAIT runs out after 120 s.
	h.now += 120 * sec
	if l := h.list(); l != "" {
		t.Errorf("expired entry still listed: %s", l)
	}
	h.tbl.Expire(h.now)
	if h.tbl.Count() != 0 {
		t.Errorf("count %d after expiry", h.tbl.Count())
	}
}

// Transitions of the state table driven by segments, one scenario each.
func TestTCPTransitions(t *testing.T) {
	const (
		c2s = "tcp 10.0.0.2:40000 > 10.0.1.2:80 "
		s2c = "tcp 10.0.1.2:80 > 10.0.0.2:40000 "
	)
	type step struct {
		spec, info string
		state      uint8
	}
	handshake := []step{
		{c2s + "syn seq 1000", "NEW", TCPSynSent},
		{s2c + "syn ack 1001 seq 5000", "ESTABLISHED", TCPSynRecv},
		{c2s + "ack 5001 seq 1001", "ESTABLISHED", TCPEstablished},
	}
	cases := []struct {
		name  string
		loose bool
		steps []step
	}{
		{"retransmitted SYN stays SYN_SENT", true, []step{
			{c2s + "syn seq 1000", "NEW", TCPSynSent},
			{c2s + "syn seq 1000", "NEW", TCPSynSent},
		}},
		{"SYN/ACK first is invalid", true, []step{{s2c + "syn ack 1001 seq 5000", "INVALID", TCPNone}}},
		{"FIN first is invalid", true, []step{{c2s + "fin ack 1 seq 1000", "INVALID", TCPNone}}},
		{"SYN+FIN is an invalid flag combination", true, []step{{c2s + "syn fin seq 1000", "INVALID", TCPNone}}},
		{"no flags is invalid", true, []step{{c2s + "flags none seq 1000", "INVALID", TCPNone}}},
		{"ACK first is picked up with nf_conntrack_tcp_loose", true, []step{
			{c2s + "ack 5001 seq 1001", "NEW", TCPEstablished},
			{s2c + "ack 1001 seq 5001", "ESTABLISHED", TCPEstablished},
		}},
		{"ACK first is invalid without nf_conntrack_tcp_loose", false, []step{
			{c2s + "ack 5001 seq 1001", "INVALID", TCPNone},
		}},
		{"ACK in SYN_SENT from the client is invalid", true, []step{
			{c2s + "syn seq 1000", "NEW", TCPSynSent},
			{c2s + "ack 5001 seq 1001", "INVALID", TCPSynSent},
		}},
		{"ACK in SYN_SENT from the server is ignored (half-open)", true, []step{
			{c2s + "syn seq 1000", "NEW", TCPSynSent},
			{s2c + "ack 7 seq 5000", "ESTABLISHED", TCPSynSent},
		}},
		{"simultaneous open goes through SYN_SENT2", true, []step{
			{c2s + "syn seq 1000", "NEW", TCPSynSent},
			{s2c + "syn seq 5000", "ESTABLISHED", TCPSynSent2},
			{c2s + "syn ack 5001 seq 1000", "ESTABLISHED", TCPSynRecv},
			{s2c + "ack 1001 seq 5001", "ESTABLISHED", TCPEstablished},
		}},
		{"SYN in ESTABLISHED is ignored", true, append(handshake[:3:3],
			step{c2s + "syn seq 9000", "ESTABLISHED", TCPEstablished})},
		{"RST in ESTABLISHED closes", true, append(handshake[:3:3],
			step{s2c + "rst seq 5001", "ESTABLISHED", TCPClose})},
		{"RST below the peer's maximal ACK is invalid", true, append(handshake[:3:3],
			step{s2c + "rst seq 4000", "INVALID", TCPEstablished})},
		{"RST in window but not exact keeps ESTABLISHED (challenge ACK)", true, append(handshake[:3:3],
			step{s2c + "rst seq 5100", "ESTABLISHED", TCPEstablished})},
		{"data beyond the window is invalid", true, append(handshake[:3:3],
			step{c2s + "ack 5001 seq 900000 payload 10", "INVALID", TCPEstablished})},
		{"ACK of data not seen is invalid", true, append(handshake[:3:3],
			step{s2c + "ack 900000 seq 5001", "INVALID", TCPEstablished})},
		{"a SYN/ACK answering an ignored SYN resynchronises", true, append(handshake[:3:3],
			step{c2s + "syn seq 9000", "ESTABLISHED", TCPEstablished},
			step{s2c + "syn ack 9001 seq 20000", "ESTABLISHED", TCPSynRecv},
			step{c2s + "ack 20001 seq 9001", "ESTABLISHED", TCPEstablished})},
		{"a RST answering an ignored SYN closes", true, append(handshake[:3:3],
			step{c2s + "syn seq 9000", "ESTABLISHED", TCPEstablished},
			step{s2c + "rst ack 9001 seq 0", "ESTABLISHED", TCPClose})},
		{"a SYN after an abort reopens (new entry)", true, append(handshake[:3:3],
			step{c2s + "rst seq 1001", "ESTABLISHED", TCPClose},
			step{c2s + "syn seq 7000", "NEW", TCPSynSent})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.TCPLoose = tc.loose
			h := newHost(t, cfg)
			var last *Conn
			for _, s := range tc.steps {
				c, info := h.send(s.spec)
				if ctName(info) != s.info {
					t.Fatalf("%s: %s, want %s (%s)", s.spec, ctName(info), s.info, h.tbl.InvalidReason())
				}
				if c != nil {
					last = c
				}
				got := TCPNone
				if last != nil {
					got = last.TCPState()
				}
				if got != s.state {
					t.Fatalf("%s: state %s, want %s", s.spec, TCPStateName(got), TCPStateName(s.state))
				}
				h.now += sec / 100
			}
		})
	}
}

// A RST answering the SYN (a closed port) deletes the entry at once.
func TestTCPRefusedDeletesEntry(t *testing.T) {
	h := newHost(t, DefaultConfig())
	h.expect("tcp 10.0.0.2:40000 > 10.0.1.2:81 syn seq 1000", "NEW", false, "")
	c := h.expect("tcp 10.0.1.2:81 > 10.0.0.2:40000 rst ack 1001 seq 0", "ESTABLISHED", true, "")
	if h.list() != "" || h.tbl.Count() != 0 {
		t.Errorf("entry kept after RST: %q count %d", h.list(), h.tbl.Count())
	}
	if c.Status()&xtables.IPSDying == 0 {
		t.Error("the packet's entry is not marked dying")
	}
}

// A reopened connection replaces the old entry with a new one.
func TestTCPReopenFromTimeWait(t *testing.T) {
	h := newHost(t, DefaultConfig())
	old := h.expect("tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 1000", "NEW", false, "")
	for _, s := range []string{
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 syn ack 1001 seq 5000",
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5001 seq 1001",
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 fin ack 5001 seq 1001",
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 fin ack 1002 seq 5001",
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5002 seq 1002",
	} {
		h.send(s)
	}
	if old.TCPState() != TCPTimeWait {
		t.Fatalf("state %s", TCPStateName(old.TCPState()))
	}
	c := h.expect("tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 90000", "NEW", false,
		"tcp      6 120 SYN_SENT src=10.0.0.2 dst=10.0.1.2 sport=40000 dport=80 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 sport=80 dport=40000 mark=0 use=1")
	if c == old || c.ID() == old.ID() {
		t.Error("the reopened connection kept the old entry")
	}
}

// Identical ACK retransmissions (nf_conntrack_tcp_max_retrans of them)
// shorten the timeout to nf_conntrack_tcp_timeout_max_retrans.
func TestTCPRetransmissions(t *testing.T) {
	h := newHost(t, DefaultConfig())
	for _, s := range []string{
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 1000",
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 syn ack 1001 seq 5000",
		"tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5001 seq 1001",
		"tcp 10.0.1.2:80 > 10.0.0.2:40000 ack 1001 seq 5001",
	} {
		h.send(s)
	}
	var c *Conn
	for i := 0; i < 4; i++ {
		c, _ = h.send("tcp 10.0.0.2:40000 > 10.0.1.2:80 ack 5001 seq 1001")
	}
	if c.Expires() != 300 {
		t.Errorf("expires %d after retransmissions, want 300", c.Expires())
	}
}

func TestTCPChecksum(t *testing.T) {
	h := newHost(t, DefaultConfig())
	p := pkt(t, "tcp 10.0.0.2:40000 > 10.0.1.2:80 syn seq 1000")
	p.Data[len(p.Net)+16] ^= 0xff // damage the checksum
	if c, info, _ := h.tbl.In(p, 0, h.now); c != nil || ctName(info) != "INVALID" || h.tbl.InvalidReason() != "bad checksum" {
		t.Errorf("bad checksum in PREROUTING: %v %s %q", c, ctName(info), h.tbl.InvalidReason())
	}
	// Locally generated packets are not checked (OUTPUT).
	if c, info, _ := h.tbl.InHook(p, 3, 0, h.now); c == nil || ctName(info) != "NEW" {
		t.Errorf("bad checksum in OUTPUT: %v %s", c, ctName(info))
	}
}
