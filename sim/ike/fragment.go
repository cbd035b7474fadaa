package ike

import (
	"bytes"
	"encoding/binary"
)

// IKEv2 fragmentation (RFC 7383) as charon 5.9 does it (message.c
// fragment, encrypted_fragment_payload.c): once both peers announced
// FRAG_SUP and fragmentation=yes, a message longer than
// charon.fragment_size (1280: the whole IP datagram) leaves in SKF
// ("EF") payloads. Recorded (testdata/real/cert, cert6): a 1548-byte
// IKE_AUTH over IPv4 in fragments of 1248 and 368 bytes, 1596 bytes over
// IPv6 in 1216 and 448.

// fragmentData is the most plaintext one fragment carries: the datagram
// limit less the IP and UDP headers, the non-ESP marker, the IKE header,
// the SKF header, IV and ICV; rounded down to the cipher's block, less
// the pad length byte.
func (sa *ikeSA) fragmentData(natt bool) (limit, data int) {
	limit = sa.d.settings.FragmentSize
	v4 := sa.other.Addr().Unmap().Is4()
	if limit == 0 {
		limit = 1280
		if v4 {
			limit = 576
		}
	}
	if v4 {
		limit -= 20
	} else {
		limit -= 40
	}
	limit -= 8
	if natt {
		limit -= 4
	}
	ivLen, icvLen, bs := sa.skSizes()
	n := limit - headerLen - 8 - ivLen - icvLen
	n -= n % bs
	return limit, n - 1
}

// fragments splits an encoded message (pkt, with its marker when natt)
// when it must be: the packets to send and their log lines.
func (sa *ikeSA) fragments(m *message, natt bool, pkt []byte) [][]byte {
	c := sa.conn
	if m.exchange == exIKESAInit || !sa.peerFrag || c == nil || (c.Fragmentation != "yes" && c.Fragmentation != "force") {
		return [][]byte{pkt}
	}
	size := len(pkt)
	if natt {
		size -= 4
	}
	limit, max := sa.fragmentData(natt)
	if size <= limit || max <= 0 {
		return [][]byte{pkt}
	}
	plain, first := appendChain(nil, m.payloads)
	n := (len(plain) + max - 1) / max
	sa.log("ENC", "splitting IKE message (%d bytes) into %d fragments", size, n)
	var out [][]byte
	for i := 0; i < n; i++ {
		chunk := plain[i*max : min((i+1)*max, len(plain))]
		next := uint8(0)
		if i == 0 {
			next = first
		}
		var b []byte
		if natt {
			b = append(b, 0, 0, 0, 0)
		}
		skf := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, uint16(i+1)), uint16(n))
		out = append(out, sa.seal(b, len(b), m, plSKF, next, skf, chunk))
		kind := "request"
		if m.response() {
			kind = "response"
		}
		sa.log("ENC", "generating %s %s %d [ EF(%d/%d) ]", exchangeNames[m.exchange], kind, m.id, i+1, n)
	}
	return out
}

// fragBuf collects the fragments of one message.
type fragBuf struct {
	id     uint32
	total  int
	first  uint8
	chunks map[int][]byte
}

// fragment handles a received SKF payload: it logs it, keeps it, and
// once every fragment is there puts the reassembled payloads into m
// (true). raw is the datagram without marker.
func (sa *ikeSA) fragment(raw []byte, m *message, skf payload) bool {
	ivLen, icvLen, bs := sa.skSizes()
	body := skf.body
	kind := "request"
	if m.response() {
		kind = "response"
	}
	if len(body) < 4+ivLen+icvLen+1 || len(raw) < icvLen {
		sa.log("ENC", "could not decrypt payloads")
		return false
	}
	num, total := int(binary.BigEndian.Uint16(body)), int(binary.BigEndian.Uint16(body[2:]))
	ek, ak := sa.keys.ei, sa.keys.ai
	if m.flags&flagInitiator == 0 {
		ek, ak = sa.keys.er, sa.keys.ar
	}
	if !bytes.Equal(icv(ak, raw[:len(raw)-icvLen], icvLen), raw[len(raw)-icvLen:]) {
		sa.log("IKE", "integrity check failed")
		return false
	}
	iv := body[4 : 4+ivLen]
	ct := append([]byte(nil), body[4+ivLen:len(body)-icvLen]...)
	xorStream(ek, iv, ct)
	pad := int(ct[len(ct)-1]) + 1
	if pad > len(ct) || num < 1 || num > total {
		sa.log("ENC", "could not decrypt payloads")
		return false
	}
	sa.log("ENC", "parsed %s %s %d [ EF(%d/%d) ]", exchangeNames[m.exchange], kind, m.id, num, total)
	fb := sa.frags
	if fb == nil || fb.id != m.id || fb.total != total {
		fb = &fragBuf{id: m.id, total: total, chunks: map[int][]byte{}}
		sa.frags = fb
	}
	if num == 1 {
		fb.first = uint8(skf.notify)
	}
	fb.chunks[num] = ct[:len(ct)-pad]
	if len(fb.chunks) < total {
		sa.log("ENC", "received fragment #%d of %d, waiting for complete IKE message", num, total)
		return false
	}
	var data []byte
	for i := 1; i <= total; i++ {
		data = append(data, fb.chunks[i]...)
	}
	sa.frags = nil
	size := headerLen + 4 + ivLen + len(data) + (bs - len(data)%bs) + icvLen
	sa.log("ENC", "received fragment #%d of %d, reassembled fragmented IKE message (%d bytes)", num, total, size)
	ps, err := parseChain(data, fb.first)
	if err != nil {
		sa.log("ENC", "could not decrypt payloads")
		return false
	}
	m.payloads = ps
	return true
}
