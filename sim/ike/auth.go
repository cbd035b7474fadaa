package ike

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"
)

// configID is a conn end's identity as stroke_config.c builds it:
// leftid=, else the end's host as written (an address, a host name as
// FQDN); none (ID_ANY) for %any and %defaultroute. An identity that is
// the end's certificate's subject has the certificate's encoding.
func configID(e *End) (identity, bool) {
	s := e.ID
	if s == "" {
		s = e.Host
	}
	switch s {
	case "", "%any", "%any4", "%any6", "%defaultroute":
		return identity{}, false
	}
	id := parseIdentity(s)
	if e.Cert != nil && id.typ == idDN && sameDN(id.data, e.Cert.x.RawSubject) {
		return certIdentity(e.Cert), true
	}
	return id, true
}

// myIdentity is the local identity of a conn end, the address in use
// when none is configured.
func myIdentity(e *End, addr netip.Addr) identity {
	if id, ok := configID(e); ok {
		return id
	}
	return addrIdentity(addr)
}

// localTS and remoteTS are a CHILD_SA's configured selectors: the
// subnets, or the host's own address (dynamic) when there are none.
func localTS(e *End, addr netip.Addr, mode string) []netip.Prefix {
	if len(e.Subnets) == 0 || mode == "transport" {
		return []netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}
	}
	return e.Subnets
}

// authData is the prf of our IKE_SA_INIT message, the peer's nonce and
// our ID (without the non-ESP marker).
func (sa *ikeSA) authData(secret []byte, initiator bool, msg, idBody []byte) []byte {
	if len(msg) > 0 && msg[0] == 0 && len(msg) >= 4 && binary.BigEndian.Uint32(msg) == 0 {
		msg = msg[4:]
	}
	nonce, skp := sa.nr, sa.keys.pi
	if !initiator {
		nonce, skp = sa.ni, sa.keys.pr
	}
	return pskAuth(sa.prfID(), secret, msg, nonce, skp, idBody)
}

// sendAuth builds and sends IKE_AUTH (ike_auth.c, child_create.c and
// ike_mobike.c build_i, in message.c's ike_auth_i_order).
func (sa *ikeSA) sendAuth() {
	d, c := sa.d, sa.conn
	local, remote := d.ends(c)
	if id, ok := configID(local); ok {
		sa.myID = id
	} else {
		// ike_auth.c build_i
		sa.log("CFG", "no IDi configured, fall back on IP address")
		sa.myID = addrIdentity(sa.me.Addr())
	}
	sa.otherID, _ = configID(remote)
	certReq, hasCertReq := d.certReqPayload()
	if hasCertReq {
		sa.logCertReqs()
	}
	idi := sa.myID.payload(plIDi)
	authPl, certPl, ok := sa.buildAuth(local, true, idi.body)
	if !ok {
		sa.log("IKE", "generating IKE_AUTH request failed")
		d.fail(sa, "")
		return
	}
	sa.childUID = d.nextChild
	d.nextChild++
	sa.log("IKE", "establishing CHILD_SA %s{%d}", c.Name, sa.childUID)
	m := &message{spiI: sa.spiI, exchange: exIKEAuth, flags: flagInitiator, id: sa.nextMID}
	// message.c ike_auth_i_order
	m.payloads = append(m.payloads, idi)
	if certPl.typ != 0 {
		m.payloads = append(m.payloads, certPl)
	}
	m.payloads = append(m.payloads, notifyPayload(nInitialContact, nil))
	if hasCertReq {
		m.payloads = append(m.payloads, certReq)
	}
	if sa.otherID.typ != 0 {
		m.payloads = append(m.payloads, sa.otherID.payload(plIDr))
	}
	m.payloads = append(m.payloads, authPl)
	if c.Mode == "transport" {
		m.payloads = append(m.payloads, notifyPayload(nUseTransportMode, nil))
	}
	sa.childSPI = d.allocSPI()
	var esp []*Proposal
	for _, p := range c.ESP {
		esp = append(esp, p.stripDH())
	}
	m.payloads = append(m.payloads, saPayload(esp, sa.childSPI),
		tsPayload(plTSi, localTS(local, sa.me.Addr(), c.Mode)),
		tsPayload(plTSr, localTS(remote, sa.other.Addr(), c.Mode)))
	if c.Mobike {
		m.payloads = append(m.payloads, notifyPayload(nMobikeSupported, nil))
		m.payloads = append(m.payloads, sa.addressList()...)
	}
	m.payloads = append(m.payloads, notifyPayload(nMultipleAuthSupport, nil), notifyPayload(nEAPOnly, nil),
		notifyPayload(nMsgIDSyncSupported, nil))
	sa.sendRequest(m)
}

func otherText(id identity, a netip.Addr) string {
	if id.typ == 0 {
		return "%any"
	}
	return id.text
}

// buildAuth makes our AUTH payload (and the CERT payload to send with
// it) for the end's authentication class, logging as ike_auth.c and
// ike_cert_post.c do.
func (sa *ikeSA) buildAuth(local *End, initiator bool, idBody []byte) (auth, certPl payload, ok bool) {
	d := sa.d
	if local.Auth == "psk" || local.Auth == "secret" {
		secret, ok := findPSK(d.secrets, sa.myID.text, otherText(sa.otherID, sa.other.Addr()))
		if !ok {
			sa.log("CFG", "no shared key found for '%s' - '%s'", sa.myID.text, otherText(sa.otherID, sa.other.Addr()))
			return payload{}, payload{}, false
		}
		sa.log("IKE", "authentication of '%s' (myself) with pre-shared key", sa.myID.text)
		data := sa.authData(secret, initiator, sa.firstMsg, idBody)
		return payload{typ: plAuth, body: append([]byte{2, 0, 0, 0}, data...)}, payload{}, true
	}
	var key = (*rsaKey)(nil)
	if local.Cert != nil {
		key = d.keyFor(local.Cert)
	}
	if key == nil {
		sa.log("IKE", "no private key found for '%s'", sa.myID.text)
		return payload{}, payload{}, false
	}
	auth, err := sa.signAuth(key, initiator, sa.firstMsg, idBody)
	if err != nil {
		sa.log("IKE", "authentication of '%s' (myself) with RSA_EMSA_PKCS1_SHA2_256 failed", sa.myID.text)
		return payload{}, payload{}, false
	}
	sa.log("IKE", "authentication of '%s' (myself) with RSA_EMSA_PKCS1_SHA2_256 successful", sa.myID.text)
	if local.SendCert == "always" || local.SendCert == "ifasked" && sa.peerCertReq {
		sa.log("IKE", "sending end entity cert \"%s\"", local.Cert.subject())
		certPl = certPayload(local.Cert)
	}
	return auth, certPl, true
}

// verifyPeer checks the peer's AUTH payload: a PSK's MAC, or a
// signature by a trusted certificate (the one received, else the
// configured rightcert) for its identity.
func (sa *ikeSA) verifyPeer(remote *End, peerCert *cert, id identity, authPl, idPl payload, initiator bool) bool {
	d := sa.d
	if len(authPl.body) >= 1 && authPl.body[0] == 2 {
		secret, _ := findPSK(d.secrets, sa.myID.text, id.text)
		want := sa.authData(secret, initiator, sa.peerFirst, idPl.body)
		if len(authPl.body) < 4 || !bytes.Equal(authPl.body[4:], want) {
			sa.log("IKE", "tried 1 shared key for '%s' - '%s', but MAC mismatched", sa.myID.text, id.text)
			return false
		}
		sa.log("IKE", "authentication of '%s' with pre-shared key successful", id.text)
		return true
	}
	c := peerCert
	if c == nil || !idMatchesCert(id, c.x) {
		c = remote.Cert
	}
	if c == nil || !idMatchesCert(id, c.x) || !sa.trust(c) {
		sa.log("IKE", "no trusted RSA public key found for '%s'", id.text)
		return false
	}
	if !sa.verifyAuth(c, authPl.body, initiator, sa.peerFirst, idPl.body) {
		sa.log("IKE", "signature validation failed, looking for another key")
		sa.log("IKE", "no trusted RSA public key found for '%s'", id.text)
		return false
	}
	sa.log("IKE", "authentication of '%s' with RSA_EMSA_PKCS1_SHA2_256 successful", id.text)
	return true
}

// addressList is ike_mobike.c build_address_list: the host's other
// addresses (at most 8), or NO_ADDITIONAL_ADDRESSES.
func (sa *ikeSA) addressList() []payload {
	var out []payload
	for _, a := range sa.d.addrs() {
		if a == sa.me.Addr() {
			continue
		}
		n := uint16(nAdditionalIP4)
		if !a.Is4() {
			n = nAdditionalIP6
		}
		out = append(out, notifyPayload(n, a.AsSlice()))
		if len(out) >= 8 {
			break
		}
	}
	if len(out) == 0 {
		out = append(out, notifyPayload(nNoAdditionalAddrs, nil))
	}
	return out
}

// authRequest is the responder's IKE_AUTH (ike_auth.c process_r/build_r).
func (d *Daemon) authRequest(sa *ikeSA, m *message) {
	idiPl, ok := m.find(plIDi)
	authPl, ok2 := m.find(plAuth)
	if !ok || !ok2 {
		d.authFailed(sa, m)
		return
	}
	idi, _ := identityFromPayload(idiPl.body)
	sa.otherID = idi
	var idr identity
	if p, ok := m.find(plIDr); ok {
		idr, _ = identityFromPayload(p.body)
	}
	// ike_cert_pre.c process_r
	sa.processCertReqs(m)
	peerCert := sa.peerCertFrom(m)
	myText := "%any"
	if idr.typ != 0 {
		myText = idr.text
	}
	sa.log("CFG", "looking for peer configs matching %s[%s]...%s[%s]", sa.me.Addr(), myText, sa.other.Addr(), idi.text)
	var conn *Conn
	for _, c := range d.findIKEConfigs(sa.me.Addr(), sa.other.Addr()) {
		local, remote := d.ends(c)
		if rid, ok := configID(remote); ok && !rid.equal(idi) {
			continue
		}
		if lid, ok := configID(local); ok && idr.typ != 0 && !lid.equal(idr) {
			continue
		}
		conn = c
		break
	}
	if conn == nil {
		sa.log("CFG", "no matching peer config found")
		d.authFailed(sa, m)
		return
	}
	sa.conn = conn
	sa.log("CFG", "selected peer config '%s'", conn.Name)
	local, remote := d.ends(conn)
	if id, ok := configID(local); ok {
		sa.myID = id
	} else if idr.typ != 0 {
		sa.myID = idr
	} else {
		sa.myID = addrIdentity(sa.me.Addr())
	}
	if len(authPl.body) < 4 {
		d.authFailed(sa, m)
		return
	}
	if authPl.body[0] == 2 {
		if _, ok := findPSK(d.secrets, sa.myID.text, idi.text); !ok {
			sa.log("CFG", "no shared key found for '%s' - '%s'", sa.myID.text, idi.text)
			d.authFailed(sa, m)
			return
		}
	}
	if !sa.verifyPeer(remote, peerCert, idi, authPl, idiPl, true) {
		d.authFailed(sa, m)
		return
	}
	if _, ok := m.notifyData(nMobikeSupported); ok && conn.Mobike {
		sa.peerMobike = true
		sa.log("IKE", "peer supports MOBIKE")
	}
	idrPl := sa.myID.payload(plIDr)
	authOut, certPl, ok := sa.buildAuth(local, false, idrPl.body)
	if !ok {
		d.authFailed(sa, m)
		return
	}
	sa.establish()
	resp := &message{spiI: sa.spiI, spiR: sa.spiR, exchange: exIKEAuth, flags: flagResponse, id: m.id}
	resp.payloads = append(resp.payloads, idrPl)
	if certPl.typ != 0 {
		resp.payloads = append(resp.payloads, certPl)
	}
	resp.payloads = append(resp.payloads, authOut)
	childPls, errNotify := sa.childResponder(m, local, remote)
	if errNotify == 0 {
		resp.payloads = append(resp.payloads, childPls...)
	}
	if sa.peerMobike {
		resp.payloads = append(resp.payloads, notifyPayload(nMobikeSupported, nil))
		resp.payloads = append(resp.payloads, sa.addressList()...)
	}
	if errNotify != 0 {
		resp.payloads = append(resp.payloads, notifyPayload(errNotify, nil))
	}
	sa.respond(resp)
}

// authFailed answers AUTHENTICATION_FAILED and forgets the IKE_SA.
func (d *Daemon) authFailed(sa *ikeSA, m *message) {
	resp := &message{spiI: sa.spiI, spiR: sa.spiR, exchange: exIKEAuth, flags: flagResponse, id: m.id}
	resp.payloads = []payload{notifyPayload(nAuthFailed, nil)}
	sa.respond(resp)
	d.removeSA(sa)
}

// establish marks the IKE_SA established and logs its lifetimes (ike_sa.c
// set_state): rekeying (or reauthentication) after ikelifetime -
// margintime - a random part of margintime*rekeyfuzz, at most
// margintime later the end.
func (sa *ikeSA) establish() {
	c := sa.conn
	sa.state = stEstablished
	sa.established = sa.d.now
	name := c.Name
	sa.log("IKE", "IKE_SA %s[%d] established between %s[%s]...%s[%s]", name, sa.uid,
		sa.me.Addr(), sa.myID.text, sa.other.Addr(), sa.otherID.text)
	rekey := int64((c.IKELifetime - c.Margin) / time.Second)
	jitter := int64(c.Margin/time.Second) * int64(c.RekeyFuzz) / 100
	t := rekey
	if jitter > 0 {
		t -= sa.d.rnd.Int64N(jitter + 1)
	}
	sa.rekeyIn = t
	sa.reauth = c.Reauth
	if c.Reauth {
		sa.log("IKE", "scheduling reauthentication in %ds", t)
	} else {
		sa.log("IKE", "scheduling rekeying in %ds", t)
	}
	sa.log("IKE", "maximum IKE_SA lifetime %ds", t+int64(c.Margin/time.Second))
}

// authResponse is the initiator's end of IKE_AUTH.
func (d *Daemon) authResponse(sa *ikeSA, m *message) {
	authPl, ok := m.find(plAuth)
	idrPl, ok2 := m.find(plIDr)
	if !ok || !ok2 {
		for _, pl := range m.payloads {
			if pl.typ == plNotify && pl.notify < 16384 {
				sa.log("IKE", "received %s notify error", notifyName(pl.notify))
				d.fail(sa, "")
				return
			}
		}
		sa.log("IKE", "message verification failed")
		d.fail(sa, "")
		return
	}
	idr, _ := identityFromPayload(idrPl.body)
	if sa.otherID.typ != 0 && !sa.otherID.equal(idr) {
		sa.log("IKE", "IDr '%s' does not match to '%s'", idr.text, sa.otherID.text)
		d.fail(sa, "")
		return
	}
	sa.otherID = idr
	peerCert := sa.peerCertFrom(m)
	_, remote := d.ends(sa.conn)
	if len(authPl.body) < 1 || !sa.verifyPeer(remote, peerCert, idr, authPl, idrPl, false) {
		d.fail(sa, "")
		return
	}
	if _, ok := m.notifyData(nMobikeSupported); ok && sa.conn.Mobike {
		sa.peerMobike = true
		sa.log("IKE", "peer supports MOBIKE")
	}
	sa.establish()
	for _, n := range []uint16{nNoProposalChosen, nTSUnacceptable, 35, 36, 37, 39, 43} {
		if _, ok := m.notifyData(n); ok {
			sa.log("IKE", "received %s notify, no CHILD_SA built", notifyName(n))
			sa.log("IKE", "failed to establish CHILD_SA, keeping IKE_SA")
			d.done(sa.cmd, false, "establishing connection '"+sa.conn.Name+"' failed")
			sa.cmd = 0
			return
		}
	}
	if !sa.childInitiator(m) {
		sa.log("IKE", "failed to establish CHILD_SA, keeping IKE_SA")
		d.done(sa.cmd, false, "establishing connection '"+sa.conn.Name+"' failed")
		sa.cmd = 0
		return
	}
	d.done(sa.cmd, true, "connection '"+sa.conn.Name+"' established successfully")
	sa.cmd = 0
}

// childKeys are the CHILD_SA's keys for each direction, the same on
// both peers (KEYMAT of RFC 7296 2.17, modelled).
func (sa *ikeSA) childKeys(spiI, spiR uint32, n int) (i2r, r2i []byte) {
	gen := func(label string) []byte {
		var out []byte
		for ctr := byte(0); len(out) < n; ctr++ {
			h := sha256.New()
			h.Write(sa.keys.pi)
			h.Write(sa.keys.pr)
			h.Write([]byte(label))
			var b [9]byte
			binary.BigEndian.PutUint32(b[:], spiI)
			binary.BigEndian.PutUint32(b[4:], spiR)
			b[8] = ctr
			h.Write(b[:])
			out = h.Sum(out)
		}
		return out[:n]
	}
	return gen("i2r"), gen("r2i")
}
