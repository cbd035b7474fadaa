package ike

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// IKE_SA states (ike_sa_state_t).
const (
	stConnecting = iota
	stEstablished
	stDestroying
)

// request is an exchange in flight: the packets sent and the
// retransmission state (task_manager_v2.c retransmit).
type request struct {
	id          uint32
	packets     [][]byte
	src, dst    netip.AddrPort
	retransmits int
	deadline    int64
	exchange    uint8
}

// childSA is a CHILD_SA (child_sa_t).
type childSA struct {
	name            string
	uid             int
	reqid           uint32
	spiIn, spiOut   uint32
	proposal        *Proposal
	localTS         []netip.Prefix
	remoteTS        []netip.Prefix
	mode            string
	encap           bool
	installed       int64
	rekeyAt         int64
	encKeyLen       int
	keysIn, keysOut []byte
	// myUse and otherUse: the inbound and outbound traffic as last
	// read from the kernel (usestats.go).
	myUse, otherUse useStats
}

// ikeSA is an IKE_SA and its tasks, both roles.
type ikeSA struct {
	d         *Daemon
	conn      *Conn
	uid       int
	initiator bool
	state     int
	cmd       int
	spiI      uint64
	spiR      uint64

	me, other netip.AddrPort
	myID      identity
	otherID   identity

	proposal   *Proposal
	ni, nr     []byte
	kei, ker   []byte
	dh         uint16
	firstMsg   []byte // our IKE_SA_INIT message, for AUTH
	peerFirst  []byte // the peer's
	keys       keys
	natHere    bool
	natThere   bool
	natFake    bool
	peerNATD   bool
	peerMobike bool
	peerFrag   bool
	// peerCertReq: the peer sent a CERTREQ (leftsendcert=ifasked).
	peerCertReq bool
	// frags collects a fragmented message being received.
	frags     *fragBuf
	keyingtry int

	nextMID      uint32 // next request ID (initiator side of exchanges)
	expectMID    uint32 // next request ID expected from the peer
	lastResp     [][]byte
	lastRespTo   netip.AddrPort
	lastRespFrom netip.AddrPort
	pending      *request

	child    *childSA
	childUID int
	childSPI uint32

	established int64
	rekeyIn     int64 // seconds after establishment
	// halfOpenAt is when a responder's IKE_SA that is still connecting
	// is destroyed (delete_ike_sa_job after charon.half_open_timeout).
	halfOpenAt int64
	reauth     bool
}

func (d *Daemon) newIKESA(c *Conn, initiator bool) *ikeSA {
	sa := &ikeSA{d: d, conn: c, uid: d.nextIKE, initiator: initiator}
	d.nextIKE++
	d.sas = append(d.sas, sa)
	return sa
}

// log lines of an IKE_SA go to its command.
func (sa *ikeSA) log(group, format string, args ...any) {
	sa.d.log(sa.cmd, group, format, args...)
}

func (sa *ikeSA) prfID() uint16 {
	t, _ := sa.proposal.first(tfPRF)
	return t.ID
}

// initiate starts (or restarts) IKE_SA_INIT (ike_init.c build_i).
func (d *Daemon) initiate(sa *ikeSA) {
	c := sa.conn
	local, remote := d.ends(c)
	dst, ok := d.resolveHost(remote.Host)
	if !ok || !dst.IsValid() {
		if remote.Host == "" || remote.Host == "%any" {
			sa.log("IKE", "unable to initiate to %%any")
		} else {
			sa.log("IKE", "unable to resolve %s, initiate aborted", remote.Host)
		}
		d.fail(sa, "")
		return
	}
	src, ok := d.resolveHost(local.Host)
	if !ok {
		sa.log("IKE", "unable to resolve %s, initiate aborted", local.Host)
		d.fail(sa, "")
		return
	}
	if !src.IsValid() && d.opt.Net != nil {
		src, _, _, _ = d.opt.Net.Route(dst)
	}
	sa.log("IKE", "initiating IKE_SA %s[%d] to %s", c.Name, sa.uid, dst)
	if !src.IsValid() {
		sa.log("IKE", "no route found to reach %s", dst)
		// charon still sends from %any; the kernel will not route it
	}
	myPort := d.settings.Port
	if local.IKEPort != 0 {
		myPort = local.IKEPort
	}
	otherPort := uint16(500)
	if remote.IKEPort != 0 {
		otherPort = remote.IKEPort
	}
	sa.me = netip.AddrPortFrom(src, myPort)
	sa.other = netip.AddrPortFrom(dst, otherPort)
	sa.spiI = d.rnd.Uint64()
	sa.spiR = 0
	sa.nextMID = 0
	sa.state = stConnecting
	if sa.dh == 0 {
		t, _ := c.IKE[0].first(tfDH)
		sa.dh = t.ID
	}
	sa.ni = d.randBytes(32)
	sa.kei = d.randBytes(dhGroups[sa.dh].size)
	m := &message{spiI: sa.spiI, exchange: exIKESAInit, flags: flagInitiator, id: 0}
	m.payloads = append(m.payloads, saPayload(promoteDH(c.IKE, sa.dh), 0), kePayload(sa.dh, sa.kei),
		payload{typ: plNonce, body: sa.ni})
	m.payloads = append(m.payloads, d.natdPayloads(sa, sa.me, sa.other, c.ForceEncaps)...)
	if c.Fragmentation != "no" {
		m.payloads = append(m.payloads, notifyPayload(nFragmentationSupport, nil))
	}
	m.payloads = append(m.payloads, notifyPayload(nHashAlgorithms, hashAlgorithms),
		notifyPayload(nRedirectSupported, nil))
	sa.sendRequest(m)
}

// hashAlgorithms is the HASH_ALG notify's data of charon 5.9 with
// Debian's plugins: SHA2_256, SHA2_384, SHA2_512, IDENTITY (RFC 7427).
var hashAlgorithms = []byte{0, 2, 0, 3, 0, 4, 0, 5}

func kePayload(group uint16, data []byte) payload {
	b := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint16(b, group)
	return payload{typ: plKE, body: append(b, data...)}
}

// natdPayloads are NATD_S_IP and NATD_D_IP (ike_natd.c build_natd_payload);
// with forceencaps the source hash is of a random address.
func (d *Daemon) natdPayloads(sa *ikeSA, src, dst netip.AddrPort, force bool) []payload {
	s := src
	if force || !src.Addr().IsValid() {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], d.rnd.Uint32())
		s = netip.AddrPortFrom(netip.AddrFrom4(a), 0)
	}
	return []payload{
		notifyPayload(nNATDSourceIP, natdHash(sa.spiI, sa.spiR, s)),
		notifyPayload(nNATDDestinationIP, natdHash(sa.spiI, sa.spiR, dst)),
	}
}

// encode makes the datagram payloads of a message: plain for IKE_SA_INIT,
// else with the other payloads in an SK payload. Over port 4500 the
// non-ESP marker comes first.
func (sa *ikeSA) encode(m *message, natt bool) []byte {
	var b []byte
	if natt {
		b = append(b, 0, 0, 0, 0)
	}
	start := len(b)
	if m.exchange == exIKESAInit {
		n := chainLen(m.payloads)
		b = appendHeader(b, m, firstType(m.payloads), headerLen+n)
		b, _ = appendChain(b, m.payloads)
		return b
	}
	plain, first := appendChain(nil, m.payloads)
	return sa.seal(b, start, m, plSK, first, nil, plain)
}

// skSizes are the SK payload's IV, ICV and block sizes of the IKE_SA's
// proposal.
func (sa *ikeSA) skSizes() (iv, icvLen, block int) {
	encr, _ := sa.proposal.first(tfEncr)
	alg := encrAlgs[encr.ID]
	icvLen = alg.icv
	if icvLen == 0 {
		integ, _ := sa.proposal.first(tfInteg)
		icvLen = integAlgs[integ.ID].trunc / 8
	}
	return alg.iv, icvLen, alg.block
}

// seal appends to b (which holds start bytes of non-ESP marker) the
// message with plain encrypted in an SK payload, or in an SKF payload
// whose fragment number and count are skf (RFC 7383).
func (sa *ikeSA) seal(b []byte, start int, m *message, typ, first uint8, skf []byte, plain []byte) []byte {
	ivLen, icvLen, bs := sa.skSizes()
	pad := bs - len(plain)%bs
	iv := sa.d.randBytes(ivLen)
	total := headerLen + 4 + len(skf) + len(iv) + len(plain) + pad + icvLen
	b = appendHeader(b, m, typ, total)
	b = append(b, first, 0, 0, 0)
	binary.BigEndian.PutUint16(b[len(b)-2:], uint16(total-headerLen))
	b = append(b, skf...)
	b = append(b, iv...)
	ct := len(b)
	b = append(b, plain...)
	b = append(b, make([]byte, pad)...)
	b[len(b)-1] = byte(pad - 1)
	ek, ak := sa.keys.ei, sa.keys.ai
	if m.flags&flagInitiator == 0 {
		ek, ak = sa.keys.er, sa.keys.ar
	}
	xorStream(ek, iv, b[ct:])
	b = append(b, icv(ak, b[start:], icvLen)...)
	return b
}

func firstType(ps []payload) uint8 {
	if len(ps) == 0 {
		return 0
	}
	return ps[0].typ
}

// decrypt opens an SK payload (the message's last payload).
func (sa *ikeSA) decrypt(raw []byte, m *message, sk payload) bool {
	encr, _ := sa.proposal.first(tfEncr)
	alg := encrAlgs[encr.ID]
	icvLen := alg.icv
	if icvLen == 0 {
		integ, _ := sa.proposal.first(tfInteg)
		icvLen = integAlgs[integ.ID].trunc / 8
	}
	body := sk.body
	if len(body) < alg.iv+icvLen+1 {
		return false
	}
	ek, ak := sa.keys.ei, sa.keys.ai
	if m.flags&flagInitiator == 0 {
		ek, ak = sa.keys.er, sa.keys.ar
	}
	if !bytes.Equal(icv(ak, raw[:len(raw)-icvLen], icvLen), raw[len(raw)-icvLen:]) {
		return false
	}
	iv := body[:alg.iv]
	ct := append([]byte(nil), body[alg.iv:len(body)-icvLen]...)
	xorStream(ek, iv, ct)
	pad := int(ct[len(ct)-1]) + 1
	if pad > len(ct) {
		return false
	}
	ps, err := parseChain(ct[:len(ct)-pad], uint8(sk.notify))
	if err != nil {
		return false
	}
	m.payloads = ps
	return true
}

// send transmits packets and logs them.
func (sa *ikeSA) send(src, dst netip.AddrPort, pkts [][]byte) {
	for _, p := range pkts {
		n := len(p)
		if src.Port() == sa.d.settings.PortNATT || dst.Port() == 4500 {
			n -= 4
		}
		sa.log("NET", "sending packet: from %s to %s (%d bytes)", hostPort(src), hostPort(dst), n)
		if sa.d.opt.Transport != nil {
			sa.d.opt.Transport.Send(src, dst, p)
		}
	}
}

func (sa *ikeSA) natt() bool {
	return sa.me.Port() == sa.d.settings.PortNATT || sa.other.Port() == 4500
}

// sendRequest generates, logs and sends a request, and arms its
// retransmission.
func (sa *ikeSA) sendRequest(m *message) {
	m.spiR = sa.spiR
	sa.log("ENC", "generating %s", m.describe())
	natt := m.exchange != exIKESAInit && sa.natt()
	pkt := sa.encode(m, natt)
	if m.exchange == exIKESAInit {
		sa.firstMsg = pkt
	}
	sa.pending = &request{id: m.id, packets: sa.fragments(m, natt, pkt), src: sa.me, dst: sa.other, exchange: m.exchange}
	sa.nextMID = m.id + 1
	sa.transmit()
}

// transmit sends the pending request and schedules the next
// retransmission: retransmit_timeout * retransmit_base^n seconds.
func (sa *ikeSA) transmit() {
	r := sa.pending
	s := sa.d.settings
	timeout := s.RetransmitTimeout * 1000 * math.Pow(s.RetransmitBase, float64(r.retransmits))
	if r.retransmits > 0 {
		sa.log("IKE", "retransmit %d of request with message ID %d", r.retransmits, r.id)
	}
	sa.send(r.src, r.dst, r.packets)
	r.retransmits++
	r.deadline = sa.d.now + int64(uint32(timeout))*int64(time.Millisecond)
}

// retransmit runs when the pending request timed out.
func (d *Daemon) retransmit(sa *ikeSA) {
	r := sa.pending
	if r.retransmits > d.settings.RetransmitTries {
		sa.log("IKE", "giving up after %d retransmits", r.retransmits-1)
		sa.pending = nil
		if sa.state == stConnecting && sa.initiator {
			tries := sa.conn.KeyingTries
			sa.keyingtry++
			if tries == 0 || tries > sa.keyingtry {
				sa.log("IKE", "peer not responding, trying again (%d/%d)", sa.keyingtry+1, tries)
				d.initiate(sa)
				return
			}
			sa.log("IKE", "establishing IKE_SA failed, peer not responding")
		}
		d.fail(sa, "")
		return
	}
	sa.transmit()
}

// fail destroys an IKE_SA; its command ends with stroke's failure line.
func (d *Daemon) fail(sa *ikeSA, _ string) {
	sa.state = stDestroying
	sa.pending = nil
	d.removeSA(sa)
	d.done(sa.cmd, false, fmt.Sprintf("establishing connection '%s' failed", sa.conn.Name))
	sa.cmd = 0
}

// receive dispatches a datagram to its IKE_SA (or a new one).
func (d *Daemon) receive(p Datagram) {
	raw := p.Payload
	natt := p.Dst.Port() == d.settings.PortNATT
	if natt {
		if len(raw) < 4 || binary.BigEndian.Uint32(raw) != 0 {
			return // ESP in UDP is the kernel's, not charon's
		}
		raw = raw[4:]
	}
	m, next, err := parseHeader(raw)
	if err != nil {
		d.log(0, "NET", "received packet: from %s to %s (%d bytes)", hostPort(p.Src), hostPort(p.Dst), len(raw))
		d.log(0, "ENC", "invalid IKE header")
		return
	}
	var sa *ikeSA
	for _, s := range d.sas {
		if s.spiI == m.spiI && (s.spiR == m.spiR || (m.exchange == exIKESAInit && s.spiR != 0 && !s.initiator) ||
			(s.initiator && s.spiR == 0 && m.exchange == exIKESAInit)) {
			sa = s
			break
		}
	}
	cmd := 0
	if sa != nil {
		cmd = sa.cmd
	}
	d.log(cmd, "NET", "received packet: from %s to %s (%d bytes)", hostPort(p.Src), hostPort(p.Dst), len(raw))
	ps, err := parseChain(raw[headerLen:], next)
	if err != nil {
		d.log(cmd, "ENC", "could not decrypt payloads")
		return
	}
	m.payloads = ps
	if sa == nil {
		if m.exchange != exIKESAInit || m.response() || m.id != 0 {
			d.log(0, "NET", "ignoring %s for unknown IKE_SA", exchangeNames[m.exchange])
			return
		}
		d.respondInit(p, raw, &m)
		return
	}
	if len(ps) > 0 && ps[len(ps)-1].typ == plSKF {
		if !m.response() && m.id < sa.expectMID && sa.lastResp != nil {
			// a retransmitted request: its first fragment has the
			// response sent again
			if b := ps[len(ps)-1].body; len(b) >= 2 && binary.BigEndian.Uint16(b) == 1 {
				sa.log("IKE", "received retransmit of request with ID %d, retransmitting response", m.id)
				sa.send(sa.lastRespFrom, sa.lastRespTo, sa.lastResp)
			}
			return
		}
		if !sa.fragment(raw, &m, ps[len(ps)-1]) {
			return
		}
	} else if len(ps) > 0 && ps[len(ps)-1].typ == plSK {
		if !sa.decrypt(raw, &m, ps[len(ps)-1]) {
			sa.log("IKE", "integrity check failed")
			return
		}
	}
	if m.response() {
		if sa.pending == nil || m.id != sa.pending.id {
			sa.log("IKE", "received message ID %d, expected %d, ignored", m.id, sa.nextMID)
			return
		}
		sa.log("ENC", "parsed %s", m.describe())
		sa.pending = nil
		switch m.exchange {
		case exIKESAInit:
			d.initResponse(sa, p, raw, &m)
		case exIKEAuth:
			d.authResponse(sa, &m)
		}
		return
	}
	// a request
	if m.id < sa.expectMID && sa.lastResp != nil {
		sa.log("ENC", "parsed %s", m.describe())
		sa.log("IKE", "received retransmit of request with ID %d, retransmitting response", m.id)
		sa.send(sa.lastRespFrom, sa.lastRespTo, sa.lastResp)
		return
	}
	sa.log("ENC", "parsed %s", m.describe())
	if m.exchange == exIKEAuth && !sa.initiator && sa.state == stConnecting {
		// the initiator may have floated to 4500 (ike_sa.c update_hosts)
		sa.me, sa.other = p.Dst, p.Src
		d.authRequest(sa, &m)
		return
	}
	if m.exchange == exInformational {
		resp := &message{spiI: sa.spiI, spiR: sa.spiR, exchange: exInformational, flags: sa.respFlags(), id: m.id}
		sa.respond(resp)
	}
}

func (sa *ikeSA) respFlags() uint8 {
	if sa.initiator {
		return flagResponse | flagInitiator
	}
	return flagResponse
}

// respond generates and sends a response and keeps it for retransmits.
func (sa *ikeSA) respond(m *message) {
	sa.log("ENC", "generating %s", m.describe())
	natt := m.exchange != exIKESAInit && sa.natt()
	pkt := sa.encode(m, natt)
	sa.lastResp = sa.fragments(m, natt, pkt)
	sa.lastRespFrom, sa.lastRespTo = sa.me, sa.other
	sa.expectMID = m.id + 1
	sa.send(sa.me, sa.other, sa.lastResp)
}

// findIKEConfig is the responder's choice of a conn by addresses
// (backend_manager.c get_ike_cfg: the best address match).
func (d *Daemon) findIKEConfigs(me, other netip.Addr) []*Conn {
	var out []*Conn
	best := -1
	for _, c := range d.conns {
		local, remote := d.ends(c)
		score := 0
		la, ok := d.resolveHost(local.Host)
		switch {
		case !ok:
			continue
		case !la.IsValid():
			score++
		case la == me:
			score += 3
		default:
			continue
		}
		ra, ok := d.resolveHost(remote.Host)
		switch {
		case ok && !ra.IsValid():
			score++
		case ok && ra == other:
			score += 3
		case remote.AllowAny:
			score++
		default:
			continue
		}
		if c.KeyExchange == "ikev1" {
			continue
		}
		if score > best {
			out, best = []*Conn{c}, score
		} else if score == best {
			out = append(out, c)
		}
	}
	return out
}

// respondInit handles an IKE_SA_INIT request (ike_init.c process_r,
// build_r).
func (d *Daemon) respondInit(p Datagram, raw []byte, m *message) {
	conns := d.findIKEConfigs(p.Dst.Addr(), p.Src.Addr())
	d.log(0, "ENC", "parsed %s", m.describe())
	if len(conns) == 0 {
		d.log(0, "IKE", "no IKE config found for %s...%s, sending NO_PROPOSAL_CHOSEN", p.Dst.Addr(), p.Src.Addr())
		resp := &message{spiI: m.spiI, exchange: exIKESAInit, flags: flagResponse}
		resp.payloads = []payload{notifyPayload(nNoProposalChosen, nil)}
		d.log(0, "ENC", "generating %s", resp.describe())
		pkt := (&ikeSA{d: d}).encode(resp, false)
		d.log(0, "NET", "sending packet: from %s to %s (%d bytes)", hostPort(p.Dst), hostPort(p.Src), len(pkt))
		if d.opt.Transport != nil {
			d.opt.Transport.Send(p.Dst, p.Src, pkt)
		}
		return
	}
	sa := d.newIKESA(conns[0], false)
	sa.me, sa.other = p.Dst, p.Src
	sa.halfOpenAt = d.now + int64(d.settings.HalfOpenTimeout)*int64(time.Second)
	sa.spiI = m.spiI
	sa.peerFirst = append([]byte(nil), raw...)
	d.log(0, "IKE", "%s is initiating an IKE_SA", p.Src.Addr())
	saPl, _ := m.find(plSA)
	theirs, _, ok := parseSA(saPl.body)
	var sel *Proposal
	if ok {
		sel = selectProposal(conns[0].IKE, theirs)
	}
	if sel == nil {
		var rs []string
		for _, t := range theirs {
			rs = append(rs, t.String())
		}
		d.log(0, "CFG", "received proposals: %s", joinComma(rs))
		var cs []string
		for _, c := range conns[0].IKE {
			cs = append(cs, c.String())
		}
		d.log(0, "CFG", "configured proposals: %s", joinComma(cs))
		d.log(0, "IKE", "received proposals unacceptable")
		resp := &message{spiI: m.spiI, exchange: exIKESAInit, flags: flagResponse}
		resp.payloads = []payload{notifyPayload(nNoProposalChosen, nil)}
		sa.respond(resp)
		d.removeSA(sa)
		return
	}
	d.log(0, "CFG", "selected proposal: %s", sel)
	dh, _ := sel.first(tfDH)
	kePl, _ := m.find(plKE)
	if len(kePl.body) < 4 || binary.BigEndian.Uint16(kePl.body) != dh.ID {
		d.log(0, "IKE", "DH group %s unacceptable, requesting %s", dhName(kePl.body), dhGroups[dh.ID].name)
		resp := &message{spiI: m.spiI, exchange: exIKESAInit, flags: flagResponse}
		var g [2]byte
		binary.BigEndian.PutUint16(g[:], dh.ID)
		resp.payloads = []payload{notifyPayload(nInvalidKE, g[:])}
		sa.respond(resp)
		d.removeSA(sa)
		return
	}
	sa.proposal = sel
	sa.dh = dh.ID
	sa.spiR = d.rnd.Uint64()
	no, _ := m.find(plNonce)
	sa.ni = no.body
	sa.kei = kePl.body[4:]
	sa.nr = d.randBytes(32)
	sa.ker = d.randBytes(dhGroups[dh.ID].size)
	d.processNATD(sa, m)
	_, sa.peerFrag = m.notifyData(nFragmentationSupport)
	resp := &message{spiI: sa.spiI, spiR: sa.spiR, exchange: exIKESAInit, flags: flagResponse}
	resp.payloads = append(resp.payloads, saPayload([]*Proposal{sel}, 0), kePayload(sa.dh, sa.ker),
		payload{typ: plNonce, body: sa.nr})
	if sa.peerNATD {
		resp.payloads = append(resp.payloads, d.natdPayloads(sa, sa.me, sa.other, sa.conn.ForceEncaps)...)
	}
	// ike_cert_pre.c build_r: every trusted CA (the peer config is not
	// known yet)
	if certReq, ok := d.certReqPayload(); ok {
		sa.logCertReqs()
		resp.payloads = append(resp.payloads, certReq)
	}
	if sa.peerFrag && sa.conn.Fragmentation != "no" {
		resp.payloads = append(resp.payloads, notifyPayload(nFragmentationSupport, nil))
	}
	if _, ok := m.notifyData(nHashAlgorithms); ok {
		resp.payloads = append(resp.payloads, notifyPayload(nHashAlgorithms, hashAlgorithms))
	}
	resp.payloads = append(resp.payloads, notifyPayload(nChildlessSupported, nil), notifyPayload(nMultipleAuthSupport, nil))
	sa.keys = deriveKeys(sa.ni, sa.nr, sa.kei, sa.ker, sa.spiI, sa.spiR)
	sa.respond(resp)
	sa.firstMsg = sa.lastResp[0]
}

func dhName(ke []byte) string {
	if len(ke) < 2 {
		return "MODP_NONE"
	}
	g := binary.BigEndian.Uint16(ke)
	if n, ok := dhGroups[g]; ok {
		return n.name
	}
	return itoa(int(g))
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// processNATD compares the peer's NAT detection hashes with the
// addresses the message was sent from and to (ike_natd.c
// process_payloads) and logs the conditions (ike_sa.c set_condition).
func (d *Daemon) processNATD(sa *ikeSA, m *message) {
	srcs := m.notifies(nNATDSourceIP)
	dsts := m.notifies(nNATDDestinationIP)
	if len(srcs) == 0 || len(dsts) == 0 {
		return
	}
	sa.peerNATD = true
	spiR := sa.spiR
	if !m.response() {
		spiR = 0
	}
	srcHash := natdHash(sa.spiI, spiR, sa.other)
	dstHash := natdHash(sa.spiI, spiR, sa.me)
	srcMatched, dstMatched := false, false
	for _, h := range srcs {
		srcMatched = srcMatched || bytes.Equal(h, srcHash)
	}
	for _, h := range dsts {
		dstMatched = dstMatched || bytes.Equal(h, dstHash)
	}
	sa.natHere, sa.natThere = !dstMatched, !srcMatched
	if sa.natHere {
		sa.log("IKE", "local host is behind NAT, sending keep alives")
	}
	if sa.natThere {
		sa.log("IKE", "remote host is behind NAT")
	}
	sa.natFake = dstMatched && srcMatched && sa.conn.ForceEncaps
}

// floatPorts switches to the NAT-T port (ike_sa.c float_ports).
func (sa *ikeSA) floatPorts() {
	if sa.other.Port() == 500 || sa.me.Port() == 500 {
		sa.other = netip.AddrPortFrom(sa.other.Addr(), 4500)
	}
	if sa.me.Port() == sa.d.settings.Port {
		sa.me = netip.AddrPortFrom(sa.me.Addr(), sa.d.settings.PortNATT)
	}
}

// initResponse handles the IKE_SA_INIT response (ike_init.c process_i)
// and sends IKE_AUTH (ike_auth.c build_i, child_create.c build_i).
func (d *Daemon) initResponse(sa *ikeSA, p Datagram, raw []byte, m *message) {
	if n, ok := m.notifyData(nInvalidKE); ok && len(n) >= 2 {
		g := binary.BigEndian.Uint16(n)
		sa.log("IKE", "peer didn't accept DH group %s, it requested %s", dhGroups[sa.dh].name, dhGroups[g].name)
		sa.dh = g
		d.initiate(sa)
		return
	}
	for _, pl := range m.payloads {
		if pl.typ == plNotify && pl.notify < 16384 {
			sa.log("IKE", "received %s notify error", notifyName(pl.notify))
			d.fail(sa, "")
			return
		}
	}
	saPl, ok := m.find(plSA)
	var sel *Proposal
	if ok {
		if theirs, _, ok := parseSA(saPl.body); ok && len(theirs) == 1 {
			sel = selectProposal(sa.conn.IKE, theirs)
		}
	}
	if sel == nil {
		sa.log("IKE", "peer's proposal selection invalid")
		d.fail(sa, "")
		return
	}
	sa.spiR = m.spiR
	sa.proposal = sel
	sa.log("CFG", "selected proposal: %s", sel)
	no, _ := m.find(plNonce)
	ke, _ := m.find(plKE)
	sa.nr = no.body
	if len(ke.body) >= 4 {
		sa.ker = ke.body[4:]
	}
	sa.peerFirst = append([]byte(nil), raw...)
	sa.keys = deriveKeys(sa.ni, sa.nr, sa.kei, sa.ker, sa.spiI, sa.spiR)
	// the response may have come back from elsewhere (NAT)
	sa.processNATDResponse(m)
	_, sa.peerFrag = m.notifyData(nFragmentationSupport)
	sa.processCertReqs(m)
	if sa.natHere || sa.natThere || (sa.conn.Mobike && sa.peerNATD) {
		sa.floatPorts()
	}
	sa.sendAuth()
}

func (sa *ikeSA) processNATDResponse(m *message) {
	sa.d.processNATD(sa, m)
}

func notifyName(n uint16) string {
	if s, ok := notifyLong[n]; ok {
		return s
	}
	if s, ok := notifyShort[n]; ok {
		return s
	}
	return itoa(int(n))
}
