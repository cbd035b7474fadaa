package stack

import (
	"net/netip"

	"github.com/iptwin/iptwin/packet"
)

// The host's TCP endpoints, as far as a peer can tell them apart from the
// outside: a listener answers a SYN with a SYN-ACK and completes the
// handshake; an established connection acknowledges data and FIN at once
// (Linux's quick-ack mode at the start of a connection) with the window
// shrunk by what the application has not read (it reads nothing); a
// segment no connection or listener takes is answered by a RST
// (tcp_v4_rcv → tcp_v4_send_reset), and so is an ACK to a listener
// (tcp_rcv_state_process, TCP_LISTEN: th->ack returns 1).

type tcpState uint8

const (
	tcpSynRecv tcpState = iota + 1
	tcpEstablished
	tcpCloseWait
)

type tcpKey struct {
	local, remote         netip.Addr
	localPort, remotePort uint16
}

type tcpConn struct {
	state  tcpState
	window uint32 // the initial receive window
	iss    uint32 // our initial sequence number
	sndNxt uint32
	rcvNxt uint32
	queued uint32 // bytes received and not read
	owner  *Socket
}

// tcpInput handles a segment for a local address (after INPUT).
func (h *Host) tcpInput(s *skb) Result {
	p := &s.pkt
	t := &p.TCP
	k := tcpKey{p.Dst(), p.Src(), t.DstPort, t.SrcPort}
	if c := h.tcp[k]; c != nil {
		h.tcpSegment(s, k, c)
		return Result{Fate: FateDelivered}
	}
	sk := h.socket(packet.ProtoTCP, p.Dst(), t.DstPort)
	if sk == nil {
		// No socket: tcp_v4_send_reset / tcp_v6_send_reset.
		if t.Flags&packet.TCPRst == 0 {
			h.sendReset(s)
		}
		return Result{Fate: FateDelivered, Reason: "no socket: TCP reset"}
	}
	switch {
	case t.Flags&packet.TCPRst != 0:
		return Result{Fate: FateDelivered, Reason: "RST to a listener: ignored"}
	case t.Flags&packet.TCPAck != 0:
		h.sendReset(s)
		return Result{Fate: FateDelivered, Reason: "ACK to a listener: reset"}
	case t.Flags&packet.TCPSyn == 0 || t.Flags&packet.TCPFin != 0:
		return Result{Fate: FateDelivered, Reason: "discarded by the listener"}
	}
	if h.tcp == nil {
		h.tcp = map[tcpKey]*tcpConn{}
	}
	c := &tcpConn{state: tcpSynRecv, iss: h.random(), rcvNxt: t.Seq + 1, window: tcpInitialWindow(h.tcpMSS(s), t.Opts&packet.OptTimestamp != 0)}
	c.sndNxt = c.iss + 1
	c.owner = sk
	h.tcp[k] = c
	h.sendSynAck(s, sk, c.iss)
	return Result{Fate: FateDelivered}
}

// tcpSegment is tcp_rcv_state_process / tcp_rcv_established for a
// segment of a known connection.
func (h *Host) tcpSegment(s *skb, k tcpKey, c *tcpConn) {
	t := &s.pkt.TCP
	if t.Flags&packet.TCPRst != 0 {
		delete(h.tcp, k)
		return
	}
	if t.Flags&packet.TCPSyn != 0 {
		if c.state == tcpSynRecv && t.Seq+1 == c.rcvNxt {
			// A retransmitted SYN: the SYN-ACK again.
			h.sendSynAck(s, c.owner, c.iss)
		}
		return
	}
	if t.Flags&packet.TCPAck == 0 {
		return
	}
	if c.state == tcpSynRecv {
		if t.Ack != c.iss+1 {
			h.sendReset(s)
			return
		}
		c.state = tcpEstablished
	}
	n := uint32(len(s.pkt.Payload))
	fin := t.Flags&packet.TCPFin != 0
	if n == 0 && !fin {
		return
	}
	if t.Seq != c.rcvNxt {
		// Out of window or out of order: a duplicate ACK.
		h.sendAck(s, c)
		return
	}
	c.rcvNxt += n
	c.queued += n
	if fin {
		// The FIN takes a byte of sequence space and, as measured, of
		// the advertised window too.
		c.rcvNxt++
		c.queued++
		c.state = tcpCloseWait
	}
	h.sendAck(s, c)
}

// sendAck acknowledges what the connection received.
func (h *Host) sendAck(s *skb, c *tcpConn) {
	p := &s.pkt
	var rh packet.Headers
	h.replyIP(&rh, s, packet.ProtoTCP, packet.LayerTCP)
	if !s.v6() {
		rh.IPv4.Flags = packet.IPv4DF
		rh.IPv4.ID = uint16(h.random())
	}
	win := c.window
	if c.queued < win {
		win -= c.queued
	} else {
		win = 0
	}
	rh.TCP = packet.TCP{SrcPort: p.TCP.DstPort, DstPort: p.TCP.SrcPort, Seq: c.sndNxt,
		Ack: c.rcvNxt, Flags: packet.TCPAck, Window: uint16(win)}
	h.queueBuilt(&rh, s.fam, "ack", sockFull, c.owner)
}
