package conntrack

import (
	"encoding/binary"
	"github.com/iptwin/iptwin/xtables"

	"github.com/iptwin/iptwin/ext/ctmatch/kern"
)

// The TCP tracker of nf_conntrack_proto_tcp.c: the state table, window
// tracking (tcp_in_window) as far as it decides validity and states, and
// the timeouts.

// Flags of one direction (IP_CT_TCP_FLAG_*) and of last_flags.
const (
	tcpFlagWindowScale   = 0x01
	tcpFlagSACKPerm      = 0x02
	tcpFlagCloseInit     = 0x04
	tcpFlagBeLiberal     = 0x08
	tcpFlagDataUnacked   = 0x10
	tcpFlagMaxAckSet     = 0x20
	tcpExpChallengeAck   = 0x40
	tcpSimultaneousOpen  = 0x80
	tcpMaxWScale         = 14 // TCP_MAX_WSCALE
	tcpMaxAckWindowConst = 66000
)

// Which of RST/SYN/FIN/ACK a segment has (enum tcp_bit_set).
const (
	tcpSynSet = iota
	tcpSynAckSet
	tcpFinSet
	tcpAckSet
	tcpRstSet
	tcpNoneSet
)

// TCP header flag bits.
const (
	thFin = 0x01
	thSyn = 0x02
	thRst = 0x04
	thPsh = 0x08
	thAck = 0x10
	thUrg = 0x20
	thEce = 0x40
	thCwr = 0x80
)

// tcpDir is struct ip_ct_tcp_state: what is known of one direction.
type tcpDir struct {
	end, maxEnd, maxWin, maxAck uint32
	scale, flags                uint8
}

// tcpConn is struct ip_ct_tcp.
type tcpConn struct {
	seen       [2]tcpDir
	state      uint8
	lastDir    uint8
	retrans    uint8
	lastIndex  uint8
	lastSeq    uint32
	lastAck    uint32
	lastEnd    uint32
	lastWin    uint16
	lastWscale uint8
	lastFlags  uint8
}

// Short names of the state table, as in the kernel source.
const (
	sNO = TCPNone
	sSS = TCPSynSent
	sSR = TCPSynRecv
	sES = TCPEstablished
	sFW = TCPFinWait
	sCW = TCPCloseWait
	sLA = TCPLastAck
	sTW = TCPTimeWait
	sCL = TCPClose
	sS2 = TCPSynSent2
	sIV = tcpStates
	sIG = tcpIgnore
)

// tcpConntracks is tcp_conntracks[dir][index][state]: the state a
// segment moves the connection to. sIV: invalid; sIG: ignored (let
// through without changing the state; the real endpoints may be in sync
// when conntrack is not). See the kernel's comments on each transition.
var tcpConntracks = [2][6][tcpStates]uint8{
	{ // ORIGINAL
		/*         sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
		/*syn*/ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
		// sNO->sSS new connection; sSS->sSS retransmitted SYN; sS2->sS2
		// late retransmitted SYN; sTW, sCL->sSS reopened (RFC 1122);
		// others: a SYN in window outside SYN_SENT is ignored.
		/*synack*/ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
		// sS2->sSR SYN/ACK to SYN2 in simultaneous open; sSR->sSR late
		// retransmitted SYN/ACK in simultaneous open; others invalid.
		/*fin*/ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		// sSR, sES->sFW close started; sFW, sCW->sLA FIN both ways.
		/*ack*/ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
		// sNO->sES assumed (mid-stream pickup); sSS->sIV no SYN/ACK yet;
		// sSR->sES established; sFW->sCW; sLA->sTW last ACK.
		/*rst*/ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		/*none*/ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
	{ // REPLY
		/*         sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
		/*syn*/ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
		// sSS->sS2 simultaneous open; sTW->sSS reopened, roles switched.
		/*synack*/ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
		// sSS->sSR standard open; sS2->sSR simultaneous open; later
		// SYN/ACKs are ignored (retransmitted, or answering an ignored SYN).
		/*fin*/ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		/*ack*/ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
		// sSS->sIG might be a half-open connection; sSR->sSR might answer
		// a late resent SYN.
		/*rst*/ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		/*none*/ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
}

// tcpValidFlags is tcp_valid_flags: the combinations of FIN, SYN, RST,
// ACK and URG a segment may have (PSH, ECE and CWR are always valid).
var tcpValidFlags = [thFin | thSyn | thRst | thAck | thUrg + 1]bool{
	thSyn: true, thSyn | thUrg: true, thSyn | thAck: true,
	thRst: true, thRst | thAck: true,
	thFin | thAck: true, thFin | thAck | thUrg: true,
	thAck: true, thAck | thUrg: true,
}

// tcpSeg is what the tracker reads of a segment.
type tcpSeg struct {
	seq, ack uint32
	win      uint16
	flags    uint8
	doff     int    // header length in bytes
	opts     []byte // the option bytes
	dataLen  int    // skb->len - dataoff - doff*4
}

func (s *tcpSeg) index() int {
	switch {
	case s.flags&thRst != 0:
		return tcpRstSet
	case s.flags&thSyn != 0:
		if s.flags&thAck != 0 {
			return tcpSynAckSet
		}
		return tcpSynSet
	case s.flags&thFin != 0:
		return tcpFinSet
	case s.flags&thAck != 0:
		return tcpAckSet
	}
	return tcpNoneSet
}

// end is segment_seq_plus_len.
func (s *tcpSeg) end() uint32 {
	e := s.seq + uint32(s.dataLen)
	if s.flags&thSyn != 0 {
		e++
	}
	if s.flags&thFin != 0 {
		e++
	}
	return e
}

// Sequence comparisons modulo 2^32 (before/after of net/tcp.h).
func before(a, b uint32) bool { return int32(a-b) < 0 }
func after(a, b uint32) bool  { return before(b, a) }

// tcpOptions is tcp_options: window scale and SACK permission of a SYN.
func tcpOptions(o []byte, st *tcpDir) {
	if len(o) == 0 {
		return
	}
	st.scale = 0
	st.flags &= tcpFlagBeLiberal
	for len(o) > 0 {
		switch o[0] {
		case 0: // EOL
			return
		case 1: // NOP
			o = o[1:]
			continue
		}
		if len(o) < 2 {
			return
		}
		size := int(o[1])
		if size < 2 || size > len(o) {
			return
		}
		switch {
		case o[0] == 4 && size == 2:
			st.flags |= tcpFlagSACKPerm
		case o[0] == 3 && size == 3:
			st.scale = o[2]
			if st.scale > tcpMaxWScale {
				st.scale = tcpMaxWScale
			}
			st.flags |= tcpFlagWindowScale
		}
		o = o[size:]
	}
}

// tcpSack is tcp_sack: the highest right edge of the SACK blocks.
func tcpSack(o []byte, sack *uint32) {
	if len(o) == 0 {
		return
	}
	// Fast path for the timestamp-only option (NOP NOP TS 10).
	if len(o) == 12 && o[0] == 1 && o[1] == 1 && o[2] == 8 && o[3] == 10 {
		return
	}
	for len(o) > 0 {
		switch o[0] {
		case 0:
			return
		case 1:
			o = o[1:]
			continue
		}
		if len(o) < 2 {
			return
		}
		size := int(o[1])
		if size < 2 || size > len(o) {
			return
		}
		if o[0] == 5 && size >= 2+8 && (size-2)%8 == 0 {
			for i := 2; i < size; i += 8 {
				if r := binary.BigEndian.Uint32(o[i+4:]); after(r, *sack) {
					*sack = r
				}
			}
			return
		}
		o = o[size:]
	}
}

// tcpInitSender is tcp_init_sender: a SYN or SYN/ACK sets up its side.
func tcpInitSender(sender, receiver *tcpDir, s *tcpSeg, end, win uint32, reply bool) {
	sender.end, sender.maxEnd = end, end
	sender.maxWin = win
	if win == 0 {
		sender.maxWin = 1
	}
	tcpOptions(s.opts, sender)
	// RFC 1323: both sides must send the window scale option to enable
	// scaling in either direction.
	if reply && !(sender.flags&tcpFlagWindowScale != 0 && receiver.flags&tcpFlagWindowScale != 0) {
		sender.scale, receiver.scale = 0, 0
	}
}

// Results of tcp_in_window (enum nf_ct_tcp_action).
const (
	tcpIgnoreAction = iota
	tcpInvalidAction
	tcpAcceptAction
)

func maxAckWindow(sender *tcpDir) uint32 {
	if sender.maxWin > tcpMaxAckWindowConst {
		return sender.maxWin
	}
	return tcpMaxAckWindowConst
}

// logInvalid is nf_tcp_log_invalid: be_liberal turns the verdict into an
// accept.
func (t *Table) logInvalid(sender *tcpDir, ret int, why string) int {
	if sender.flags&tcpFlagBeLiberal != 0 || t.cfg.TCPBeLiberal {
		return tcpAcceptAction
	}
	if ret == tcpInvalidAction {
		t.invalid = why
	}
	return ret
}

// tcpInWindow is tcp_in_window.
func (t *Table) tcpInWindow(c *Conn, dir int, index int, s *tcpSeg) int {
	st := &c.tcp
	sender, receiver := &st.seen[dir], &st.seen[1-dir]
	seq, ack := s.seq, s.ack
	sack := ack
	win := uint32(s.win)
	end := s.end()
	if receiver.flags&tcpFlagSACKPerm != 0 {
		tcpSack(s.opts, &sack)
	}
	// No NAT sequence adjustment (seqadj): no helpers are modelled.

	if sender.maxWin == 0 {
		// Initialize sender data.
		if s.flags&thSyn != 0 {
			tcpInitSender(sender, receiver, s, end, win, dir == Reply)
			if s.flags&thAck == 0 {
				// Simultaneous open.
				return tcpAcceptAction
			}
		} else {
			// In the middle of a connection: use the packet's data.
			sender.end = end
			swin := win << sender.scale
			sender.maxWin = swin
			if swin == 0 {
				sender.maxWin = 1
			}
			sender.maxEnd = end + sender.maxWin
			if receiver.maxWin == 0 {
				// Nothing seen the other way yet: let III and IV pass.
				receiver.end, receiver.maxEnd = sack, sack
			} else if sack == receiver.end+1 {
				// Likely a reply to a keepalive.
				receiver.end++
			}
		}
	} else if s.flags&thSyn != 0 && after(end, sender.end) &&
		(st.state == TCPSynSent || st.state == TCPSynRecv) {
		// RFC 793: a reinitialized TCP uses larger sequence numbers;
		// set up this direction again as for the first SYN(/ACK).
		tcpInitSender(sender, receiver, s, end, win, dir == Reply)
		if dir == Reply && s.flags&thAck == 0 {
			return tcpAcceptAction
		}
	}

	if s.flags&thAck == 0 {
		// No ACK: pretend it was set and right.
		ack, sack = receiver.end, receiver.end
	} else if s.flags&(thAck|thRst) == thAck|thRst && ack == 0 {
		// Broken stacks send RST+ACK with a zero ack.
		ack, sack = receiver.end, receiver.end
	}
	if s.flags&thRst != 0 && seq == 0 && st.state == TCPSynSent {
		// RST answering a SYN.
		seq = sender.end
		end = sender.end
	}

	if !before(seq, sender.maxEnd+1) {
		overshot := end - sender.maxEnd + 1
		ackOK := after(sack, receiver.end-maxAckWindow(sender)-1)
		inRecvWin := receiver.maxWin != 0 && after(end, sender.end-receiver.maxWin-1)
		if inRecvWin && ackOK && overshot <= receiver.maxWin && before(sack, receiver.end+1) {
			// A TCP sending more than the receive window allows: keep
			// td_end so that an ACK for this data is accepted later.
			sender.end = end
			sender.flags |= tcpFlagDataUnacked
			return t.logInvalid(sender, tcpIgnoreAction, "bytes more than expected")
		}
		return t.logInvalid(sender, tcpInvalidAction, "SEQ is over upper bound (over the window of the receiver)")
	}
	if !before(sack, receiver.end+1) {
		return t.logInvalid(sender, tcpInvalidAction, "ACK is over upper bound (ACKed data not seen yet)")
	}
	inRecvWin := receiver.maxWin == 0 || after(end, sender.end-receiver.maxWin-1)
	if !inRecvWin {
		return t.logInvalid(sender, tcpIgnoreAction, "SEQ is under lower bound (already ACKed data retransmitted)")
	}
	if !after(sack, receiver.end-maxAckWindow(sender)-1) {
		return t.logInvalid(sender, tcpIgnoreAction, "ignored ACK under lower bound (possible overly delayed)")
	}

	// Window scaling (RFC 1323).
	if s.flags&thSyn == 0 {
		win <<= sender.scale
	}
	// Update sender data.
	swin := win + (sack - ack)
	if sender.maxWin < swin {
		sender.maxWin = swin
	}
	if after(end, sender.end) {
		sender.end = end
		sender.flags |= tcpFlagDataUnacked
	}
	if s.flags&thAck != 0 {
		if sender.flags&tcpFlagMaxAckSet == 0 {
			sender.maxAck = ack
			sender.flags |= tcpFlagMaxAckSet
		} else if after(ack, sender.maxAck) {
			sender.maxAck = ack
		}
	}
	// Update receiver data.
	if receiver.maxWin != 0 && after(end, sender.maxEnd) {
		receiver.maxWin += end - sender.maxEnd
	}
	if after(sack+win, receiver.maxEnd-1) {
		receiver.maxEnd = sack + win
		if win == 0 {
			receiver.maxEnd++
		}
	}
	if ack == receiver.end {
		receiver.flags &^= tcpFlagDataUnacked
	}
	// Check retransmissions.
	if index == tcpAckSet {
		if int(st.lastDir) == dir && st.lastSeq == seq && st.lastAck == ack &&
			st.lastEnd == end && st.lastWin == s.win {
			st.retrans++
		} else {
			st.lastDir = uint8(dir)
			st.lastSeq, st.lastAck, st.lastEnd, st.lastWin = seq, ack, end, s.win
			st.retrans = 0
		}
	}
	return tcpAcceptAction
}

// tcpHandleInvalid is nf_tcp_handle_invalid: an out-of-window FIN or RST
// answering one from the other side shortens an assured entry's timeout.
func (t *Table) tcpHandleInvalid(c *Conn, dir, index int, now int64) {
	if c.status&xtables.IPSAssured == 0 || c.status&xtables.IPSFixedTimeout != 0 {
		return
	}
	if index != tcpRstSet && index != tcpFinSet {
		return
	}
	st := &c.tcp
	if int(st.lastDir) != dir && (st.lastIndex == tcpFinSet || st.lastIndex == tcpRstSet) {
		expires := c.timeout - jiffies(now)
		if expires < 120*kern.HZ {
			return
		}
		timeout := int64(t.cfg.TCPTimeoutUnack) * kern.HZ
		if expires > timeout {
			c.setTimeout(timeout + jiffies(now))
		}
	} else {
		st.lastIndex = uint8(index)
		st.lastDir = uint8(dir)
	}
}

// parseTCP reads the segment at b (the transport bytes of an skb of
// tcplen bytes) and runs tcp_error. ok is false for an INVALID packet.
func (t *Table) parseTCP(b []byte, l *l4, checkSum bool) (s tcpSeg, ok bool) {
	if len(b) < 20 {
		t.invalid = "truncated packet"
		return s, false
	}
	doff := int(b[12]>>4) * 4
	if doff < 20 || len(b) < doff {
		t.invalid = "truncated packet"
		return s, false
	}
	if checkSum && !l.checksumOK() {
		t.invalid = "bad checksum"
		return s, false
	}
	s.flags = b[13]
	if !tcpValidFlags[s.flags&^(thEce|thCwr|thPsh)] {
		t.invalid = "invalid tcp flag combination"
		return s, false
	}
	be := binary.BigEndian
	s.seq, s.ack, s.win = be.Uint32(b[4:]), be.Uint32(b[8:]), be.Uint16(b[14:])
	s.doff = doff
	s.opts = b[20:doff]
	s.dataLen = len(b) - doff
	return s, true
}

// tcpNew is tcp_new: the first segment of an unconfirmed entry.
func (t *Table) tcpNew(c *Conn, s *tcpSeg) bool {
	newState := tcpConntracks[0][s.index()][TCPNone]
	if newState >= tcpStates {
		t.invalid = "invalid new"
		return false
	}
	st := &c.tcp
	if newState == TCPSynSent {
		*st = tcpConn{}
		st.seen[0].end = s.end()
		st.seen[0].maxWin = uint32(s.win)
		if st.seen[0].maxWin == 0 {
			st.seen[0].maxWin = 1
		}
		st.seen[0].maxEnd = st.seen[0].end
		tcpOptions(s.opts, &st.seen[0])
	} else if !t.cfg.TCPLoose {
		// Don't pick up connections.
		t.invalid = "invalid new"
		return false
	} else {
		*st = tcpConn{}
		// In the middle of a connection: use the packet's data.
		st.seen[0].end = s.end()
		st.seen[0].maxWin = uint32(s.win)
		if st.seen[0].maxWin == 0 {
			st.seen[0].maxWin = 1
		}
		st.seen[0].maxEnd = st.seen[0].end + st.seen[0].maxWin
		// Assume SACK and liberal window checking (window scaling
		// is unknown).
		st.seen[0].flags = tcpFlagSACKPerm | tcpFlagBeLiberal
		st.seen[1].flags = tcpFlagSACKPerm | tcpFlagBeLiberal
	}
	// tcp_packet sets them.
	st.lastIndex = tcpNoneSet
	return true
}

// tcpCanEarlyDrop is tcp_can_early_drop.
func tcpCanEarlyDrop(c *Conn) bool {
	switch c.tcp.state {
	case TCPFinWait, TCPLastAck, TCPTimeWait, TCPClose, TCPCloseWait:
		return true
	}
	return false
}

// tcpEstablished is nf_conntrack_tcp_established.
func tcpEstablished(c *Conn) bool {
	return c.tcp.state == TCPEstablished && c.status&xtables.IPSAssured != 0
}

func (d *tcpDir) reset() {
	*d = tcpDir{flags: d.flags & tcpFlagBeLiberal}
}

// tcpTimeout is the timeouts[] entry i in jiffies.
func (t *Table) tcpTimeout(i uint8) int64 {
	switch i {
	case tcpTimeoutRetrans:
		return int64(t.cfg.TCPTimeoutMaxRetrans) * kern.HZ
	case tcpTimeoutUnack:
		return int64(t.cfg.TCPTimeoutUnack) * kern.HZ
	}
	return int64(t.cfg.TCPTimeout[i]) * kern.HZ
}

// Results of a tracker's packet function.
type l4Result uint8

const (
	l4Accept  l4Result = iota // NF_ACCEPT: valid
	l4Invalid                 // -NF_ACCEPT: INVALID, the packet goes on without ct
	l4Drop                    // NF_DROP
	l4Repeat                  // -NF_REPEAT: entry killed, look up again
)

// tcpPacket is nf_conntrack_tcp_packet.
func (t *Table) tcpPacket(c *Conn, l *l4, hook int, now int64) l4Result {
	b := l.data[l.off:]
	s, ok := t.parseTCP(b, l, t.checksumHere(hook))
	if !ok {
		return l4Invalid
	}
	if c.status&xtables.IPSConfirmed == 0 && !t.tcpNew(c, &s) {
		return l4Invalid
	}
	st := &c.tcp
	oldState := st.state
	dir := Original
	if c.reply {
		dir = Reply
	}
	index := s.index()
	newState := tcpConntracks[dir][index][oldState]

	switch newState {
	case TCPSynSent:
		if oldState < TCPTimeWait {
			break
		}
		// RFC 1122 allows a new SYN in TIME_WAIT; also a client may
		// abort and start again while we and the server think the
		// old connection is up.
		if (st.seen[dir].flags|st.seen[1-dir].flags)&tcpFlagCloseInit != 0 ||
			(int(st.lastDir) == dir && st.lastIndex == tcpRstSet) {
			// Attempt to reopen a closed/aborted connection: delete
			// this entry and look up again.
			t.Kill(c)
			return l4Repeat
		}
		fallthrough
	case sIG:
		// Ignored packets: our entry may be out of sync; a) SYN in
		// ORIGINAL, b) SYN/ACK in REPLY, c) ACK in REPLY after the SYN.
		if index == tcpSynAckSet && st.lastIndex == tcpSynSet && int(st.lastDir) != dir &&
			s.ack == st.lastEnd {
			// b) The SYN/ACK acknowledges a SYN we ignored as invalid:
			// client and server are in sync, we are not. Sync from
			// the annotated values.
			oldState, newState = TCPSynSent, TCPSynRecv
			ld := &st.seen[st.lastDir]
			ld.end, ld.maxEnd = st.lastEnd, st.lastEnd
			ld.maxWin = uint32(st.lastWin)
			if st.lastWin == 0 {
				ld.maxWin = 1
			}
			ld.scale = st.lastWscale
			st.lastFlags &^= tcpExpChallengeAck
			ld.flags = st.lastFlags
			st.seen[dir].reset()
			break
		}
		st.lastIndex = uint8(index)
		st.lastDir = uint8(dir)
		st.lastSeq = s.seq
		st.lastEnd = s.end()
		st.lastWin = s.win
		// a) A SYN in ORIGINAL: annotate its options; if it is valid
		// the server answers with a SYN/ACK and we get in sync.
		if index == tcpSynSet && dir == Original {
			var seen tcpDir
			st.lastFlags, st.lastWscale = 0, 0
			tcpOptions(s.opts, &seen)
			if seen.flags&tcpFlagWindowScale != 0 {
				st.lastFlags |= tcpFlagWindowScale
				st.lastWscale = seen.scale
			}
			if seen.flags&tcpFlagSACKPerm != 0 {
				st.lastFlags |= tcpFlagSACKPerm
			}
			// A challenge ACK may answer it (RFC 5961), which in
			// LAST_ACK must not count as the last ACK.
			if oldState == TCPLastAck {
				st.lastFlags |= tcpExpChallengeAck
			}
		}
		// A possible challenge ACK answering the SYN.
		if oldState == TCPSynSent && index == tcpAckSet && dir == Reply {
			st.lastAck = s.ack
		}
		return l4Accept
	case sIV:
		// (SYN proxy keep-alive case: no synproxy is modelled.)
		t.invalid = "packet in dir invalid, state " + TCPStateName(oldState)
		return l4Invalid
	case TCPTimeWait:
		// RFC 5961 challenge ACK after a SYN in LAST_ACK: not the ACK
		// of the last FIN.
		if oldState == TCPLastAck && index == tcpAckSet && int(st.lastDir) != dir &&
			st.lastIndex == tcpSynSet && st.lastFlags&tcpExpChallengeAck != 0 {
			st.lastFlags &^= tcpExpChallengeAck
			return l4Accept
		}
	case TCPSynSent2:
		// The table cannot express simultaneous open on its own.
		st.lastFlags |= tcpSimultaneousOpen
	case TCPSynRecv:
		if dir == Reply && index == tcpAckSet && st.lastFlags&tcpSimultaneousOpen != 0 {
			newState = TCPEstablished
		}
	case TCPClose:
		if index != tcpRstSet {
			break
		}
		// Closing: the tuple may be reused already and the window
		// data is stale; skip the checks.
		if tcpCanEarlyDrop(c) {
			goto inWindow
		}
		// td_maxack may be stale if we let a SYN through earlier.
		if st.seen[1-dir].flags&tcpFlagMaxAckSet != 0 && st.lastIndex != tcpSynSet {
			seq := s.seq
			// SEQ 0 outside ESTABLISHED: most likely the answer to a
			// SYN let through above.
			if seq == 0 && !tcpEstablished(c) {
				break
			}
			if before(seq, st.seen[1-dir].maxAck) && !t.cfg.TCPIgnoreInvalidRST {
				t.invalid = "invalid rst"
				return l4Invalid
			}
			if !tcpEstablished(c) || seq == st.seen[1-dir].maxAck {
				break
			}
			// A RST in a train (data then RST at its end).
			if st.lastIndex == tcpAckSet && int(st.lastDir) == dir && seq == st.lastEnd {
				break
			}
			// The RST sequence does not match exactly: keep the state
			// to allow a challenge ACK.
			newState = oldState
		}
		if ((c.status&xtables.IPSSeenReply != 0 && st.lastIndex == tcpSynSet) ||
			(c.status&xtables.IPSAssured == 0 && st.lastIndex == tcpAckSet)) && s.ack == st.lastEnd {
			// RST answering a SYN or ACK we let through at a) or c):
			// delete the entry without window checks.
			goto inWindow
		}
		// Reset answering a challenge ACK we let through earlier.
		if oldState == TCPSynSent && st.lastIndex == tcpAckSet && st.lastDir == Reply &&
			s.seq == st.lastAck {
			goto inWindow
		}
	}

	switch t.tcpInWindow(c, dir, index, &s) {
	case tcpIgnoreAction:
		return l4Accept
	case tcpInvalidAction:
		t.tcpHandleInvalid(c, dir, index, now)
		return l4Invalid
	}

inWindow:
	// From now on we have in-window packets.
	st.lastIndex = uint8(index)
	st.lastDir = uint8(dir)
	st.state = newState
	if oldState != newState && newState == TCPFinWait {
		st.seen[dir].flags |= tcpFlagCloseInit
	}

	var timeout int64
	switch {
	case int(st.retrans) >= t.cfg.TCPMaxRetrans && t.tcpTimeout(newState) > t.tcpTimeout(tcpTimeoutRetrans):
		timeout = t.tcpTimeout(tcpTimeoutRetrans)
	case index == tcpRstSet:
		timeout = t.tcpTimeout(TCPClose)
	case (st.seen[0].flags|st.seen[1].flags)&tcpFlagDataUnacked != 0 &&
		t.tcpTimeout(newState) > t.tcpTimeout(tcpTimeoutUnack):
		timeout = t.tcpTimeout(tcpTimeoutUnack)
	case st.lastWin == 0 && t.tcpTimeout(newState) > t.tcpTimeout(tcpTimeoutRetrans):
		timeout = t.tcpTimeout(tcpTimeoutRetrans)
	default:
		timeout = t.tcpTimeout(newState)
	}

	if c.status&xtables.IPSSeenReply == 0 {
		// If the only reply is a RST, there is no connection: delete
		// the entry at once.
		if s.flags&thRst != 0 {
			c.account(len(l.data))
			t.Kill(c)
			return l4Accept
		}
		if index == tcpSynSet && oldState == TCPSynSent {
			// No new timeout for a retransmitted SYN: port reuse could
			// keep the entry (and its NAT) alive forever.
			return l4Accept
		}
		// ESTABLISHED without a reply (loose pickup): not for long.
		if newState == TCPEstablished && timeout > t.tcpTimeout(tcpTimeoutUnack) {
			timeout = t.tcpTimeout(tcpTimeoutUnack)
		}
	} else if c.status&xtables.IPSAssured == 0 && (oldState == TCPSynRecv || oldState == TCPEstablished) &&
		newState == TCPEstablished {
		// A valid ACK in ESTABLISHED after SYN_RECV, or an answer to a
		// picked-up connection.
		c.status |= xtables.IPSAssured
	}
	c.refresh(now, timeout, len(l.data))
	return l4Accept
}
