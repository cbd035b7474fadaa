package ike

import (
	"encoding/binary"
	"errors"
	"strings"
)

// IKEv2 on the wire (RFC 7296): the header, the payload chain, and the
// SK payload holding the encrypted ones. The model's cipher is not real
// cryptography, but every length is the one charon sends.

const (
	protoIKE = 1
	protoAH  = 2
	protoESP = 3
)

// Exchange types.
const (
	exIKESAInit     = 34
	exIKEAuth       = 35
	exCreateChildSA = 36
	exInformational = 37
)

// Header flags.
const (
	flagInitiator = 0x08
	flagResponse  = 0x20
)

// Payload types.
const (
	plSA      = 33
	plKE      = 34
	plIDi     = 35
	plIDr     = 36
	plCert    = 37
	plCertReq = 38
	plAuth    = 39
	plNonce   = 40
	plNotify  = 41
	plDelete  = 42
	plTSi     = 44
	plTSr     = 45
	plSK      = 46
	plSKF     = 53
)

// Notify types (notify_payload.h) the model sends or reads.
const (
	nNoProposalChosen     = 14
	nInvalidKE            = 17
	nAuthFailed           = 24
	nTSUnacceptable       = 38
	nInitialContact       = 16384
	nNATDSourceIP         = 16388
	nNATDDestinationIP    = 16389
	nUseTransportMode     = 16391
	nMobikeSupported      = 16396
	nAdditionalIP4        = 16397
	nAdditionalIP6        = 16398
	nNoAdditionalAddrs    = 16399
	nMultipleAuthSupport  = 16404
	nRedirectSupported    = 16406
	nEAPOnly              = 16417
	nChildlessSupported   = 16418
	nMsgIDSyncSupported   = 16420
	nFragmentationSupport = 16430
	nHashAlgorithms       = 16431
)

// notifyShort are charon's short names in message summaries
// (notify_type_short_names).
var notifyShort = map[uint16]string{
	1: "CRIT", 4: "INVAL_IKE_SPI", 5: "INVAL_MAJOR", 7: "INVAL_SYN", 9: "INVAL_MID", 11: "INVAL_SPI",
	13: "ATTR_UNSUP", 14: "NO_PROP", 16: "PLD_MAL", 17: "INVAL_KE", 18: "INVAL_ID", 24: "AUTH_FAILED",
	34: "SINGLE_PAIR", 35: "NO_ADD_SAS", 36: "INT_ADDR_FAIL", 37: "FAIL_CP_REQ", 38: "TS_UNACCEPT",
	39: "INVAL_SEL", 43: "TEMP_FAIL", 44: "NO_CHILD_SA",
	16384: "INIT_CONTACT", 16388: "NATD_S_IP", 16389: "NATD_D_IP", 16390: "COOKIE", 16391: "USE_TRANSP",
	16393: "REKEY_SA", 16394: "ESP_TFC_PAD_N", 16395: "NON_FIRST_FRAG", 16396: "MOBIKE_SUP",
	16397: "ADD_4_ADDR", 16398: "ADD_6_ADDR", 16399: "NO_ADD_ADDR", 16400: "UPD_SA_ADDR",
	16401: "COOKIE2", 16402: "NO_NATS", 16403: "AUTH_LFT", 16404: "MULT_AUTH", 16405: "AUTH_FOLLOWS",
	16406: "REDIR_SUP", 16407: "REDIR", 16408: "REDIR_FROM", 16417: "EAP_ONLY", 16418: "CHDLESS_SUP",
	16420: "MSG_ID_SYN_SUP", 16430: "FRAG_SUP", 16431: "HASH_ALG",
}

// notifyLong are the full names ("received NO_PROPOSAL_CHOSEN notify").
var notifyLong = map[uint16]string{
	14: "NO_PROPOSAL_CHOSEN", 17: "INVALID_KE_PAYLOAD", 24: "AUTHENTICATION_FAILED",
	38: "TS_UNACCEPTABLE", 39: "INVALID_SELECTORS", 35: "NO_ADDITIONAL_SAS", 44: "CHILD_SA_NOT_FOUND",
}

var payloadShort = map[uint8]string{
	plSA: "SA", plKE: "KE", plIDi: "IDi", plIDr: "IDr", plCert: "CERT", plCertReq: "CERTREQ",
	plAuth: "AUTH", plNonce: "No", plDelete: "D", plTSi: "TSi", plTSr: "TSr", plSK: "SK", plSKF: "EF",
}

var exchangeNames = map[uint8]string{
	exIKESAInit: "IKE_SA_INIT", exIKEAuth: "IKE_AUTH", exCreateChildSA: "CREATE_CHILD_SA",
	exInformational: "INFORMATIONAL",
}

// payload is one payload: its type and body (after the generic header);
// for a notify its type too.
type payload struct {
	typ    uint8
	body   []byte
	notify uint16
}

// message is an IKE message before encryption.
type message struct {
	spiI, spiR uint64
	exchange   uint8
	flags      uint8
	id         uint32
	payloads   []payload
}

func (m *message) response() bool { return m.flags&flagResponse != 0 }

// summary is charon's "[ SA KE No N(NATD_S_IP) ... ]".
func (m *message) summary() string {
	var b strings.Builder
	b.WriteString("[ ")
	for _, p := range m.payloads {
		if p.typ == plNotify {
			name := notifyShort[p.notify]
			if name == "" {
				name = itoa(int(p.notify))
			}
			b.WriteString("N(" + name + ") ")
			continue
		}
		b.WriteString(payloadShort[p.typ] + " ")
	}
	b.WriteString("]")
	return b.String()
}

// describe is "IKE_SA_INIT request 0 [ ... ]".
func (m *message) describe() string {
	kind := "request"
	if m.response() {
		kind = "response"
	}
	return exchangeNames[m.exchange] + " " + kind + " " + itoa(int(m.id)) + " " + m.summary()
}

func (m *message) find(typ uint8) (payload, bool) {
	for _, p := range m.payloads {
		if p.typ == typ {
			return p, true
		}
	}
	return payload{}, false
}

func (m *message) notifyData(n uint16) ([]byte, bool) {
	for _, p := range m.payloads {
		if p.typ == plNotify && p.notify == n {
			return p.body[4+int(p.body[1]):], true
		}
	}
	return nil, false
}

func (m *message) notifies(n uint16) [][]byte {
	var out [][]byte
	for _, p := range m.payloads {
		if p.typ == plNotify && p.notify == n {
			out = append(out, p.body[4+int(p.body[1]):])
		}
	}
	return out
}

// notifyPayload builds a notify without SPI (protocol 0 unless given).
func notifyPayload(n uint16, data []byte) payload {
	b := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint16(b[2:], n)
	return payload{typ: plNotify, notify: n, body: append(b, data...)}
}

const headerLen = 28

// appendChain encodes payloads, the first one's type being returned
// (for the header's or the SK payload's "next payload").
func appendChain(b []byte, ps []payload) ([]byte, uint8) {
	first := uint8(0)
	if len(ps) > 0 {
		first = ps[0].typ
	}
	for i, p := range ps {
		next := uint8(0)
		if i+1 < len(ps) {
			next = ps[i+1].typ
		}
		b = append(b, next, 0, 0, 0)
		binary.BigEndian.PutUint16(b[len(b)-2:], uint16(4+len(p.body)))
		b = append(b, p.body...)
	}
	return b, first
}

func chainLen(ps []payload) int {
	n := 0
	for _, p := range ps {
		n += 4 + len(p.body)
	}
	return n
}

func appendHeader(b []byte, m *message, next uint8, length int) []byte {
	b = binary.BigEndian.AppendUint64(b, m.spiI)
	b = binary.BigEndian.AppendUint64(b, m.spiR)
	b = append(b, next, 0x20, m.exchange, m.flags)
	b = binary.BigEndian.AppendUint32(b, m.id)
	return binary.BigEndian.AppendUint32(b, uint32(length))
}

var errMalformed = errors.New("message parsing failed")

// parseHeader reads the fixed header.
func parseHeader(b []byte) (m message, next uint8, err error) {
	if len(b) < headerLen || b[17] != 0x20 || int(binary.BigEndian.Uint32(b[24:])) != len(b) {
		return m, 0, errMalformed
	}
	m.spiI = binary.BigEndian.Uint64(b)
	m.spiR = binary.BigEndian.Uint64(b[8:])
	m.exchange, m.flags = b[18], b[19]
	m.id = binary.BigEndian.Uint32(b[20:])
	return m, b[16], nil
}

// parseChain reads a payload chain; an SK payload ends it (its body is
// returned as the last payload).
func parseChain(b []byte, next uint8) ([]payload, error) {
	var out []payload
	for next != 0 {
		if len(b) < 4 {
			return nil, errMalformed
		}
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 4 || l > len(b) {
			return nil, errMalformed
		}
		p := payload{typ: next, body: b[4:l]}
		if next == plNotify {
			if len(p.body) < 4 || len(p.body) < 4+int(p.body[1]) {
				return nil, errMalformed
			}
			p.notify = binary.BigEndian.Uint16(p.body[2:])
		}
		out = append(out, p)
		if next == plSK || next == plSKF {
			// the inner chain starts with this payload's "next" field
			p.notify = uint16(b[0])
			out[len(out)-1] = p
			return out, nil
		}
		next = b[0]
		b = b[l:]
	}
	return out, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
